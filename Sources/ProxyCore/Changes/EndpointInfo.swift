import KubeAPI
import Values

/// One endpoint of one Service port, from an EndpointSlice.
public struct EndpointInfo: Hashable, Sendable, CustomStringConvertible {
    public var address: IPAddress
    public var port: UInt16
    public var ready: Bool
    public var serving: Bool
    public var terminating: Bool
    public var nodeName: String?
    public var zone: String?

    public init(address: IPAddress, port: UInt16, ready: Bool = true, serving: Bool? = nil, terminating: Bool = false,
                nodeName: String? = nil, zone: String? = nil) {
        self.address = address; self.port = port; self.ready = ready; self.serving = serving ?? ready
        self.terminating = terminating; self.nodeName = nodeName; self.zone = zone
    }

    /// `ip:port` (`[ip]:port` for IPv6).
    public var description: String { address.isIPv6 ? "[\(address)]:\(port)" : "\(address):\(port)" }

    /// Whether the endpoint runs on the node called `node`.
    public func isLocal(to node: String) -> Bool { nodeName == node }
}
