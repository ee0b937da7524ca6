import Values

/// One JSON member of a `FieldCoded` struct: its name and how to move it between the struct and JSON.
public struct CodedField<Root>: Sendable {
    let name: String
    let decode: @Sendable (inout Root, KeyedDecodingContainer<AnyCodingKey>) throws -> Void
    let encode: @Sendable (Root, inout KeyedEncodingContainer<AnyCodingKey>) throws -> Void

    /// An optional member: absent or `null` decodes to nil; nil is omitted when encoding (Go's `omitempty` or pointer).
    public static func optional<V: Codable & Sendable>(_ name: String, _ path: WritableKeyPath<Root, V?> & Sendable) -> CodedField {
        CodedField(name: name,
                   decode: { root, c in root[keyPath: path] = try c.decodeIfPresent(V.self, forKey: AnyCodingKey(name)) },
                   encode: { root, c in try c.encodeIfPresent(root[keyPath: path], forKey: AnyCodingKey(name)) })
    }

    /// A member upstream always writes (no `omitempty`): absent or `null` keeps the default value; always encoded.
    public static func always<V: Codable & Sendable>(_ name: String, _ path: WritableKeyPath<Root, V> & Sendable) -> CodedField {
        CodedField(name: name,
                   decode: { root, c in
                       if let v = try c.decodeIfPresent(V.self, forKey: AnyCodingKey(name)) { root[keyPath: path] = v }
                   },
                   encode: { root, c in try c.encode(root[keyPath: path], forKey: AnyCodingKey(name)) })
    }
}

/// A struct coded member by member from a list of `CodedField`s, keeping members it does not model
/// in `unknownFields` so that decode → encode loses nothing.
public protocol FieldCoded: Codable {
    /// An empty value that decoding fills in.
    init()
    static var codedFields: [CodedField<Self>] { get }
    var unknownFields: UnknownFields { get set }
}

extension FieldCoded {
    public init(from decoder: Decoder) throws {
        self.init()
        let container = try decoder.container(keyedBy: AnyCodingKey.self)
        let fields = Self.codedFields
        for field in fields { try field.decode(&self, container) }
        var unknown: [String: JSONValue] = [:]
        for key in container.allKeys where !fields.contains(where: { $0.name == key.stringValue }) {
            unknown[key.stringValue] = try container.decode(JSONValue.self, forKey: key)
        }
        if !unknown.isEmpty, let collector = decoder.userInfo[UnknownFieldCollector.key] as? UnknownFieldCollector {
            let prefix = decoder.codingPath.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
            for name in unknown.keys.sorted() { collector.record(String((prefix + "." + name).dropFirst())) }
        }
        unknownFields = UnknownFields(unknown)
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: AnyCodingKey.self)
        for field in Self.codedFields { try field.encode(self, &container) }
        try unknownFields.encode(to: encoder)
    }
}
