/// An upstream string "enum" (Service type, protocol, phase, …) as an open set: known values are
/// static constants, and values kproxy does not know survive decode → encode unchanged.
public protocol KubeStringEnum: RawRepresentable<String>, Codable, Hashable, Sendable,
    ExpressibleByStringLiteral, CustomStringConvertible {
    init(rawValue: String)
}

extension KubeStringEnum {
    public init(stringLiteral value: String) { self.init(rawValue: value) }
    public var description: String { rawValue }

    public init(from decoder: Decoder) throws {
        self.init(rawValue: try decoder.singleValueContainer().decode(String.self))
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(rawValue)
    }
}

/// `True`, `False` or `Unknown`: the status of any condition.
public struct ConditionStatus: KubeStringEnum {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public static let `true`: ConditionStatus = "True"
    public static let `false`: ConditionStatus = "False"
    public static let unknown: ConditionStatus = "Unknown"
}

/// The L4 protocol of a port (upstream `Protocol`), used by Service, Pod and EndpointSlice ports.
public struct ServiceProtocol: KubeStringEnum {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public static let tcp: ServiceProtocol = "TCP"
    public static let udp: ServiceProtocol = "UDP"
    public static let sctp: ServiceProtocol = "SCTP"
    /// The values upstream accepts.
    public static let supported: [ServiceProtocol] = [.sctp, .tcp, .udp]
}

/// `IPv4` or `IPv6`: a Service's IP families.
public struct IPFamily: KubeStringEnum {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public static let ipv4: IPFamily = "IPv4"
    public static let ipv6: IPFamily = "IPv6"
}
