import Values

/// The well-known error codes of the CNI specification (section "Error").
public enum CNIErrorCode: Int, Sendable, CaseIterable {
    case incompatibleVersion = 1
    case unsupportedField = 2
    case unknownContainer = 3
    case invalidEnvironment = 4
    case ioFailure = 5
    case decodeFailure = 6
    case invalidConfig = 7
    case tryAgainLater = 11
    /// STATUS: the plugin cannot service ADD requests.
    case pluginNotAvailable = 50
    /// STATUS: the plugin cannot service ADD requests; existing containers may have limited connectivity.
    case pluginNotAvailableLimitedConnectivity = 51
    /// Plugin-specific failure (codes 100 and up are reserved for plugins).
    case internalFailure = 100
}

/// A CNI error as a plugin returns it on stdout: `{"cniVersion","code","msg","details"}`.
public struct CNIError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The numeric code (spec codes, or ≥ 100 for plugin-specific errors).
    public var code: Int
    /// A short message.
    public var msg: String
    /// Longer details, possibly empty.
    public var details: String

    public init(_ code: CNIErrorCode, _ msg: String, details: String = "") {
        self.init(code: code.rawValue, msg: msg, details: details)
    }

    public init(code: Int, msg: String, details: String = "") {
        self.code = code
        self.msg = msg
        self.details = details
    }

    /// Reads an error object a delegated plugin printed.
    public init?(json: JSONValue) {
        guard let code = json["code"]?.intValue.map(Int.init), let msg = json["msg"]?.stringValue else { return nil }
        self.init(code: code, msg: msg, details: json["details"]?.stringValue ?? "")
    }

    /// The JSON object for stdout, tagged with the version the caller asked for.
    public func json(cniVersion: String) -> JSONValue {
        var o: [String: JSONValue] = ["cniVersion": .string(cniVersion), "code": .int(Int64(code)), "msg": .string(msg)]
        if !details.isEmpty { o["details"] = .string(details) }
        return .object(o)
    }

    public var description: String { details.isEmpty ? "CNI error \(code): \(msg)" : "CNI error \(code): \(msg): \(details)" }
}
