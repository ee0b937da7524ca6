/// Why a Kubernetes protobuf body could not be read. The API server answers 400 Bad Request with `description`
/// (415 for `unsupportedKind` / `unsupportedEncoding` is also reasonable). `at` is the JSON path of the enclosing
/// message ("" for the object itself, "spec.ports[0]" …).
public enum KubeProtobufError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The body does not start with the 4 bytes `k8s\0`.
    case missingMagic
    /// A varint, length or fixed-size value runs past the end of its message.
    case truncated(at: String)
    /// A varint longer than 10 bytes.
    case malformedVarint(at: String)
    /// A wire type other than 0, 1, 2 or 5 (groups included).
    case invalidWireType(Int, field: Int, at: String)
    /// A field number of 0 or beyond 2^29 - 1.
    case invalidFieldNumber(Int64, at: String)
    /// A known field with a wire type its schema does not allow.
    case wrongWireType(Int, field: String, expected: Int)
    /// The envelope has no `kind` or no `apiVersion`.
    case missingTypeMeta(apiVersion: String, kind: String)
    /// A kind this server does not accept as protobuf.
    case unsupportedKind(apiVersion: String, kind: String)
    /// The envelope's `contentEncoding` is set (no encoding is defined upstream).
    case unsupportedEncoding(String)
    /// A well-formed field whose value cannot be represented (bad time, IntOrString type, embedded JSON, …).
    case invalidValue(field: String, reason: String)
    /// Messages nested deeper than any Kubernetes object.
    case tooDeep(at: String)
    /// A schema table names a message that is not defined (a bug in the tables, not in the input).
    case unknownSchema(String)

    public var description: String {
        switch self {
        case .missingMagic:
            "protobuf body does not start with the Kubernetes magic bytes 6b 38 73 00"
        case .truncated(let path):
            "protobuf body truncated: a value runs past the end of \(Self.name(path))"
        case .malformedVarint(let path):
            "protobuf body malformed: varint longer than 10 bytes in \(Self.name(path))"
        case .invalidWireType(let type, let field, let path):
            "protobuf body malformed: field \(field) of \(Self.name(path)) has invalid or unsupported wire type \(type)"
        case .invalidFieldNumber(let number, let path):
            "protobuf body malformed: invalid field number \(number) in \(Self.name(path))"
        case .wrongWireType(let type, let field, let expected):
            "protobuf body malformed: field \(field) has wire type \(type), expected \(expected)"
        case .missingTypeMeta(let apiVersion, let kind):
            "protobuf body has no apiVersion or kind (apiVersion \"\(apiVersion)\", kind \"\(kind)\")"
        case .unsupportedKind(let apiVersion, let kind):
            "protobuf bodies of \(apiVersion) \(kind) are not supported; send JSON"
        case .unsupportedEncoding(let encoding):
            "protobuf body has unsupported contentEncoding \"\(encoding)\""
        case .invalidValue(let field, let reason):
            "protobuf body has an invalid value in \(field): \(reason)"
        case .tooDeep(let path):
            "protobuf body nests messages too deeply at \(Self.name(path))"
        case .unknownSchema(let name):
            "protobuf schema table has no message \(name)"
        }
    }

    private static func name(_ path: String) -> String { path.isEmpty ? "the object" : path }
}
