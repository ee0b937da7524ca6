import BalancerCore
import KubeAPI
import ProxyCore
import Values

/// Settings of the userspace data path (`kproxy proxy --mode userspace` flags).
public struct BalancerConfig: Sendable {
    /// Event-loop threads, each with its own SO_REUSEPORT socket per listener; both sides of a connection
    /// live on the loop that accepted it.
    public var threads: Int
    /// Connect retries on other endpoints.
    public var retry: RetryPolicy
    /// A UDP session (client flow → one endpoint) ends after this long without datagrams either way.
    public var udpIdleTimeout: Duration
    /// After `drain` stops accepting, open connections get this long to finish.
    public var drainTimeout: Duration
    /// A network namespace for the loops' sockets (`/var/run/netns/NAME`); nil: the process's own.
    public var namespacePath: String?
    /// The mark of packets the ruleset hands to the listeners (`ProxyConfig.userspaceMark`): the balancer
    /// installs the policy route that delivers them here (`UserspaceSteering`), for these families.
    public var steeringMark: UInt32 = UserspaceSteering.defaultMark
    public var families: [IPAddress.Family] = [.ipv4, .ipv6]
    /// The pod networks (`--cluster-cidr`). A `local` listener (traffic policy Local: endpoints on this node)
    /// connects to its endpoint from the client's own address, so the pod sees who called, unless the client
    /// is a pod (a reply between pods on one bridge would bypass the balancer) or the networks are unknown.
    public var clusterCIDRs: [CIDR] = []

    /// Whether a `local` listener's connection from `client` keeps the client's address towards the endpoint.
    public func preservesSource(of client: IPAddress) -> Bool {
        !clusterCIDRs.isEmpty && !client.isLoopback && !clusterCIDRs.contains { $0.contains(client) }
    }

    public init(threads: Int, retry: RetryPolicy = RetryPolicy(), udpIdleTimeout: Duration = .seconds(60),
                drainTimeout: Duration = .seconds(30)) {
        self.threads = threads; self.retry = retry; self.udpIdleTimeout = udpIdleTimeout; self.drainTimeout = drainTimeout
    }
}

/// One listener as the sync loop wants it: which port, which endpoints.
public struct ListenerBinding: Sendable {
    public var key: ListenerKey
    public var port: UInt16
    public var backends: BackendSet

    public init(key: ListenerKey, port: UInt16, backends: BackendSet) {
        self.key = key; self.port = port; self.backends = backends
    }
}
