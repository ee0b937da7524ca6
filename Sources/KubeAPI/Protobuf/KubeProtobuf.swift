import Foundation
import Values

/// Reads Kubernetes protobuf request bodies (`application/vnd.kubernetes.protobuf`, what kubectl's typed clients send)
/// into the JSON document the same object would have been sent as, so one JSON path serves both.
///
/// Wire format (apimachinery `runtime/serializer/protobuf`): the magic bytes `6b 38 73 00` ("k8s\0"), then a
/// `runtime.Unknown` message `{1: typeMeta {1: apiVersion, 2: kind}, 2: raw (the object message),
/// 3: contentEncoding, 4: contentType}`. The object message is decoded with the schema tables of `ProtobufSchema`.
public enum KubeProtobuf {
    /// The media type of Kubernetes protobuf bodies.
    public static let mediaType = "application/vnd.kubernetes.protobuf"
    /// The 4 bytes every Kubernetes protobuf body starts with.
    public static let magic: [UInt8] = [0x6b, 0x38, 0x73, 0x00]

    /// Whether a `Content-Type` header value names the Kubernetes protobuf media type (parameters ignored).
    public static func isProtobuf(contentType: String) -> Bool {
        let base = contentType.split(separator: ";", maxSplits: 1).first ?? ""
        return base.trimmingCharacters(in: .whitespaces).lowercased() == mediaType
    }

    /// Decodes a protobuf body into its JSON document, with `apiVersion` and `kind` from the envelope.
    /// Fields the tables do not know are skipped; any malformed input throws `KubeProtobufError`.
    public static func decode(_ bytes: [UInt8]) throws -> JSONValue {
        guard bytes.count >= magic.count, bytes.prefix(magic.count).elementsEqual(magic) else {
            throw KubeProtobufError.missingMagic
        }
        let envelope = try Envelope(bytes[magic.count...])
        guard !envelope.apiVersion.isEmpty, !envelope.kind.isEmpty else {
            throw KubeProtobufError.missingTypeMeta(apiVersion: envelope.apiVersion, kind: envelope.kind)
        }
        guard envelope.contentEncoding.isEmpty else { throw KubeProtobufError.unsupportedEncoding(envelope.contentEncoding) }
        guard let schema = ProtobufSchema.root(apiVersion: envelope.apiVersion, kind: envelope.kind) else {
            throw KubeProtobufError.unsupportedKind(apiVersion: envelope.apiVersion, kind: envelope.kind)
        }
        var object = try ProtobufObjectDecoder.decode(envelope.raw, schema: schema, path: "", depth: 0)
        object["apiVersion"] = .string(envelope.apiVersion)
        object["kind"] = .string(envelope.kind)
        return .object(object)
    }

    /// The `runtime.Unknown` envelope.
    struct Envelope {
        var apiVersion = ""
        var kind = ""
        var raw: ArraySlice<UInt8> = []
        var contentEncoding = ""
        var contentType = ""

        init(_ bytes: ArraySlice<UInt8>) throws {
            var reader = ProtobufReader(bytes, path: "envelope")
            while let (number, wireType) = try reader.nextTag() {
                guard (1...4).contains(number) else { try reader.skip(wireType); continue }
                guard wireType == .lengthDelimited else {
                    throw KubeProtobufError.wrongWireType(wireType.rawValue, field: "envelope field \(number)",
                                                          expected: WireType.lengthDelimited.rawValue)
                }
                let payload = try reader.readLengthDelimited()
                switch number {
                case 1: try readTypeMeta(payload)
                case 2: raw = payload
                case 3: contentEncoding = String(decoding: payload, as: UTF8.self)
                default: contentType = String(decoding: payload, as: UTF8.self)
                }
            }
        }

        private mutating func readTypeMeta(_ bytes: ArraySlice<UInt8>) throws {
            var reader = ProtobufReader(bytes, path: "envelope.typeMeta")
            while let (number, wireType) = try reader.nextTag() {
                guard number == 1 || number == 2 else { try reader.skip(wireType); continue }
                guard wireType == .lengthDelimited else {
                    throw KubeProtobufError.wrongWireType(wireType.rawValue, field: "typeMeta field \(number)",
                                                          expected: WireType.lengthDelimited.rawValue)
                }
                let text = String(decoding: try reader.readLengthDelimited(), as: UTF8.self)
                if number == 1 { apiVersion = text } else { kind = text }
            }
        }
    }
}
