import Foundation
import Values

/// The one place Kubernetes JSON is encoded and decoded, so every component agrees on
/// dates (RFC 3339, second precision, UTC) and key order (sorted, for stable output and golden tests).
public enum KubeJSON {
    public static func encoder(pretty: Bool = false) -> JSONEncoder {
        let e = JSONEncoder()
        e.outputFormatting = pretty ? [.sortedKeys, .withoutEscapingSlashes, .prettyPrinted] : [.sortedKeys, .withoutEscapingSlashes]
        return e
    }

    public static func decoder() -> JSONDecoder { JSONDecoder() }

    public static func encode<T: Encodable>(_ value: T, pretty: Bool = false) throws -> Data {
        try encoder(pretty: pretty).encode(value)
    }

    public static func decode<T: Decodable>(_ type: T.Type, from data: Data) throws -> T {
        try decoder().decode(type, from: data)
    }

    /// Decodes a typed value and reports the paths (`spec.ports[0].foo`) of members its types do not
    /// model, collected during the same pass (upstream's `fieldValidation=Strict|Warn`).
    public static func decodeReportingUnknown<T: Decodable>(_ type: T.Type, from data: Data) throws -> (T, unknownPaths: [String]) {
        let collector = UnknownFieldCollector()
        let d = decoder()
        d.userInfo[UnknownFieldCollector.key] = collector
        let value = try d.decode(type, from: data)
        return (value, collector.paths)
    }

    /// Re-reads a typed value as an untyped document (for patching and field access).
    public static func toJSONValue<T: Encodable>(_ value: T) throws -> JSONValue {
        try decode(JSONValue.self, from: encode(value))
    }

    /// Reads an untyped document as a typed value.
    public static func fromJSONValue<T: Decodable>(_ type: T.Type, _ value: JSONValue) throws -> T {
        try decode(type, from: encode(value))
    }
}
