import KubeAPI

/// Identifies one port of one Service: `namespace/name:port` plus protocol (upstream's `ServicePortName`).
public struct ServicePortName: Hashable, Sendable, Comparable, CustomStringConvertible {
    public var namespace: String
    public var name: String
    /// The port's name (empty for a single unnamed port).
    public var port: String
    public var `protocol`: NFTL4Proto

    public init(namespace: String, name: String, port: String, protocol: NFTL4Proto) {
        self.namespace = namespace; self.name = name; self.port = port; self.protocol = `protocol`
    }

    /// `ns/name` or `ns/name:port`, as upstream prints it in comments.
    public var description: String { port.isEmpty ? "\(namespace)/\(name)" : "\(namespace)/\(name):\(port)" }

    /// The Service this port belongs to (`ns/name`).
    public var serviceKey: String { "\(namespace)/\(name)" }

    public static func < (lhs: ServicePortName, rhs: ServicePortName) -> Bool {
        (lhs.namespace, lhs.name, lhs.port, lhs.protocol.rawValue) < (rhs.namespace, rhs.name, rhs.port, rhs.protocol.rawValue)
    }
}

extension NFTL4Proto {
    /// The protocol of a Kubernetes `protocol` field (TCP when unset); nil for unknown values.
    public init?(_ value: ServiceProtocol?) {
        switch value ?? .tcp {
        case .tcp: self = .tcp
        case .udp: self = .udp
        case .sctp: self = .sctp
        default: return nil
        }
    }
}
