import Values

/// A coding key for any JSON member name.
public struct AnyCodingKey: CodingKey, Hashable, Sendable {
    public var stringValue: String
    public var intValue: Int? { nil }
    public init(_ string: String) { stringValue = string }
    public init?(stringValue: String) { self.stringValue = stringValue }
    public init?(intValue: Int) { return nil }
}

/// The members of a JSON object that a typed struct does not model. Kept so that an object read
/// and written back by an older kproxy (or one that skips a field) loses nothing.
///
/// Usage in a struct whose `CodingKeys` is `CaseIterable`:
/// ```
/// unknownFields = try UnknownFields(from: decoder, known: CodingKeys.self)   // in init(from:)
/// try unknownFields.encode(to: encoder)                                        // in encode(to:)
/// ```
public struct UnknownFields: Hashable, Sendable {
    public var values: [String: JSONValue]

    public init(_ values: [String: JSONValue] = [:]) { self.values = values }

    public init<Known: CodingKey & CaseIterable>(from decoder: Decoder, known: Known.Type) throws {
        let container = try decoder.container(keyedBy: AnyCodingKey.self)
        let knownNames = Set(Known.allCases.map(\.stringValue))
        var values: [String: JSONValue] = [:]
        for key in container.allKeys where !knownNames.contains(key.stringValue) {
            values[key.stringValue] = try container.decode(JSONValue.self, forKey: key)
        }
        self.values = values
        if !values.isEmpty, let collector = decoder.userInfo[UnknownFieldCollector.key] as? UnknownFieldCollector {
            let prefix = decoder.codingPath.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
            for name in values.keys.sorted() { collector.record(String((prefix + "." + name).dropFirst())) }
        }
    }

    /// Writes the members into the encoder's keyed container, next to the typed ones.
    public func encode(to encoder: Encoder) throws {
        guard !values.isEmpty else { return }
        var container = encoder.container(keyedBy: AnyCodingKey.self)
        for (k, v) in values { try container.encode(v, forKey: AnyCodingKey(k)) }
    }

    public var isEmpty: Bool { values.isEmpty }
}

/// Collects the paths of unknown fields while a document is decoded (set in the decoder's `userInfo`
/// under `key`), so strict field validation needs no second pass over the document.
public final class UnknownFieldCollector: @unchecked Sendable {
    // Safe: one collector serves one decode, which runs on one thread from start to end.
    public private(set) var paths: [String] = []
    public init() {}
    public func record(_ path: String) { paths.append(path) }

    public static let key: CodingUserInfoKey = {
        guard let key = CodingUserInfoKey(rawValue: "kproxy.unknownFieldCollector") else { preconditionFailure("invalid key") }
        return key
    }()
}
