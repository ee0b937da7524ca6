/// Protobuf wire types this reader understands (groups are rejected: Kubernetes never uses them).
enum WireType: Int, Sendable {
    case varint = 0, fixed64 = 1, lengthDelimited = 2, fixed32 = 5
}

/// Reads the protobuf wire format from a byte slice, bounds-checked: every malformed input throws
/// a `KubeProtobufError` naming `path` (the JSON path of the message being read).
struct ProtobufReader {
    private let bytes: ArraySlice<UInt8>
    private var index: Int
    let path: String

    init(_ bytes: ArraySlice<UInt8>, path: String) {
        self.bytes = bytes
        self.index = bytes.startIndex
        self.path = path
    }

    var isAtEnd: Bool { index >= bytes.endIndex }

    /// The next field's number and wire type, or nil at the end of the message.
    mutating func nextTag() throws -> (number: Int, wireType: WireType)? {
        guard !isAtEnd else { return nil }
        let key = try readVarint()
        let number = key >> 3
        guard number > 0, number <= 536_870_911 else {
            throw KubeProtobufError.invalidFieldNumber(Int64(truncatingIfNeeded: number), at: path)
        }
        let rawType = Int(key & 7)
        guard let wireType = WireType(rawValue: rawType) else {
            throw KubeProtobufError.invalidWireType(rawType, field: Int(number), at: path)
        }
        return (Int(number), wireType)
    }

    /// A base-128 varint of at most 10 bytes.
    mutating func readVarint() throws -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard index < bytes.endIndex else { throw KubeProtobufError.truncated(at: path) }
            guard shift < 64 else { throw KubeProtobufError.malformedVarint(at: path) }
            let byte = bytes[index]
            index += 1
            result |= UInt64(byte & 0x7f) << shift
            if byte < 0x80 { return result }
            shift += 7
        }
    }

    /// The payload of a length-delimited field.
    mutating func readLengthDelimited() throws -> ArraySlice<UInt8> {
        let length = try readVarint()
        guard length <= UInt64(bytes.endIndex - index) else { throw KubeProtobufError.truncated(at: path) }
        let end = index + Int(length)
        defer { index = end }
        return bytes[index..<end]
    }

    /// Skips `count` bytes (a fixed32 or fixed64 payload).
    mutating func skipBytes(_ count: Int) throws {
        guard count <= bytes.endIndex - index else { throw KubeProtobufError.truncated(at: path) }
        index += count
    }

    /// Skips the value of a field this schema does not know.
    mutating func skip(_ wireType: WireType) throws {
        switch wireType {
        case .varint: _ = try readVarint()
        case .fixed64: try skipBytes(8)
        case .lengthDelimited: _ = try readLengthDelimited()
        case .fixed32: try skipBytes(4)
        }
    }
}

/// All fields of a small message (map entries and Kubernetes' special messages), last value winning;
/// accessors return proto defaults for absent fields and throw on a wire type mismatch.
struct ProtobufFields {
    private enum Value {
        case varint(UInt64)
        case bytes(ArraySlice<UInt8>)
        case fixed
    }

    private var values: [Int: Value] = [:]
    private let path: String

    init(_ bytes: ArraySlice<UInt8>, path: String) throws {
        self.path = path
        var reader = ProtobufReader(bytes, path: path)
        while let (number, wireType) = try reader.nextTag() {
            switch wireType {
            case .varint: values[number] = .varint(try reader.readVarint())
            case .lengthDelimited: values[number] = .bytes(try reader.readLengthDelimited())
            case .fixed32, .fixed64:
                try reader.skip(wireType)
                values[number] = .fixed
            }
        }
    }

    func varint(_ number: Int) throws -> UInt64 {
        switch values[number] {
        case nil: return 0
        case .varint(let value)?: return value
        default: throw mismatch(number, expected: .varint)
        }
    }

    func bytes(_ number: Int) throws -> ArraySlice<UInt8> {
        switch values[number] {
        case nil: return []
        case .bytes(let value)?: return value
        default: throw mismatch(number, expected: .lengthDelimited)
        }
    }

    func string(_ number: Int) throws -> String { String(decoding: try bytes(number), as: UTF8.self) }

    private func mismatch(_ number: Int, expected: WireType) -> KubeProtobufError {
        let actual: WireType = switch values[number] {
        case .varint?: .varint
        case .bytes?: .lengthDelimited
        default: .fixed64
        }
        return .wrongWireType(actual.rawValue, field: "\(path) field \(number)", expected: expected.rawValue)
    }
}
