import KubeAPI
import Values

/// Which endpoints a userspace listener balances over: the Service port's cluster-wide endpoints, or this
/// node's only (`internalTrafficPolicy`/`externalTrafficPolicy: Local`). The nftables mode's `service-…` and
/// `local-…` chains, as listeners.
public enum ListenerScope: String, Hashable, Sendable, Comparable, CaseIterable {
    case cluster, local
    public static func < (lhs: ListenerScope, rhs: ListenerScope) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// One listener of the userspace mode: a Service port, a scope and an IP family (a dual-stack Service has a
/// listener per family, each balancing over that family's endpoints).
public struct ListenerKey: Hashable, Sendable, Comparable, CustomStringConvertible {
    public var name: ServicePortName
    public var scope: ListenerScope
    public var family: IPAddress.Family

    public init(name: ServicePortName, scope: ListenerScope, family: IPAddress.Family) {
        self.name = name; self.scope = scope; self.family = family
    }

    /// `ns/name:port/tcp (cluster, IPv4)`.
    public var description: String { "\(name)/\(name.protocol.name) (\(scope.rawValue), \(family.rawValue))" }

    public static func < (lhs: ListenerKey, rhs: ListenerKey) -> Bool {
        (lhs.name, lhs.scope, lhs.family.rawValue) < (rhs.name, rhs.scope, rhs.family.rawValue)
    }
}

/// What one listener balances over, from the same `EndpointSelection` the nftables compiler uses.
public struct ListenerSpec: Hashable, Sendable {
    public var key: ListenerKey
    /// The endpoints (of the key's family) new connections may go to, in the selection's order.
    public var endpoints: [EndpointInfo]
    /// ClientIP affinity timeout in seconds, or nil.
    public var affinityTimeoutSeconds: Int?

    public init(key: ListenerKey, endpoints: [EndpointInfo], affinityTimeoutSeconds: Int? = nil) {
        self.key = key; self.endpoints = endpoints; self.affinityTimeoutSeconds = affinityTimeoutSeconds
    }
}

extension ProxyState {
    /// The listeners the userspace mode needs on `node`, per family: a `cluster` listener where the nftables
    /// mode would have a service chain (cluster endpoints exist and some traffic uses them), a `local` one
    /// where it would have a local chain.
    public func listenerSpecs(node: NodeInfo, families: [IPAddress.Family] = [.ipv4, .ipv6]) -> [ListenerKey: ListenerSpec] {
        var specs: [ListenerKey: ListenerSpec] = [:]
        for (name, service) in services {
            let all = endpoints[name] ?? []
            for family in families where service.clusterIPs.contains(where: { $0.family == family }) {
                let sel = EndpointSelection(endpoints: all.filter { $0.address.family == family }, service: service, nodeName: node.name)
                if !sel.cluster.isEmpty && service.usesClusterEndpoints {
                    let key = ListenerKey(name: name, scope: .cluster, family: family)
                    specs[key] = ListenerSpec(key: key, endpoints: sel.cluster, affinityTimeoutSeconds: service.affinityTimeoutSeconds)
                }
                if !sel.local.isEmpty && service.usesLocalEndpoints {
                    let key = ListenerKey(name: name, scope: .local, family: family)
                    specs[key] = ListenerSpec(key: key, endpoints: sel.local, affinityTimeoutSeconds: service.affinityTimeoutSeconds)
                }
            }
        }
        return specs
    }
}

/// The local port of each userspace listener (`--proxy-port-range`, as kube-proxy's userspace mode called it).
///
/// A key keeps its port for as long as it is wanted. A new key starts at a hash of its name in the range and
/// probes upward past ports taken for the same protocol; keys are placed in sorted order, so a process that
/// starts with the same Services picks the same ports as the one it replaces (its listeners join the old
/// ones' SO_REUSEPORT groups).
public struct ListenerPorts: Hashable, Sendable {
    public let range: ClosedRange<UInt16>
    public private(set) var ports: [ListenerKey: UInt16] = [:]

    public init(range: ClosedRange<UInt16>) { self.range = range }

    public func port(_ key: ListenerKey) -> UInt16? { ports[key] }

    public enum Failure: Error, Hashable, CustomStringConvertible {
        /// More listeners of one protocol than ports in the range.
        case rangeExhausted(ClosedRange<UInt16>, NFTL4Proto)
        public var description: String {
            switch self {
            case .rangeExhausted(let r, let p): "no free \(p.name) port left in --proxy-port-range \(r.lowerBound)-\(r.upperBound)"
            }
        }
    }

    /// Keeps the ports of keys still in `keys`, frees the rest, assigns ports to new keys. Keys that find no
    /// port are left out and reported.
    @discardableResult
    public mutating func update(_ keys: some Collection<ListenerKey>) -> [ListenerKey: Failure] {
        let wanted = Set(keys)
        ports = ports.filter { wanted.contains($0.key) }
        var taken: [NFTL4Proto: Set<UInt16>] = [:]
        for (key, port) in ports { taken[key.name.protocol, default: []].insert(port) }
        var failures: [ListenerKey: Failure] = [:]
        let size = UInt64(range.upperBound - range.lowerBound) + 1
        for key in wanted.sorted() where ports[key] == nil {
            let proto = key.name.protocol
            var used = taken[proto] ?? []
            guard UInt64(used.count) < size else { failures[key] = .rangeExhausted(range, proto); continue }
            var offset = Self.fnv1a(key.description) % size
            while used.contains(range.lowerBound + UInt16(offset)) { offset = (offset + 1) % size }
            let port = range.lowerBound + UInt16(offset)
            used.insert(port)
            taken[proto] = used
            ports[key] = port
        }
        return failures
    }

    /// FNV-1a, 64 bits: the same in every process (Swift's `Hasher` is seeded per process).
    static func fnv1a(_ text: String) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        return hash
    }
}

/// How the userspace mode steers Service traffic to its listeners without conntrack: the ruleset's `tproxy`
/// hands each packet to a transparent listener on loopback and sets `mark`; a policy rule (`fwmark mark/mark
/// lookup table`, at `rulePriority`) with a `local` default route in `table` delivers marked packets to this
/// host. The listeners see the Service address as their local address.
public enum UserspaceSteering {
    /// The mark bit (kube-proxy's iptables mode used 0x8000 as its drop mark; the nftables mode does not).
    public static let defaultMark: UInt32 = 0x8000
    /// The routing table holding the `local` default routes ("kp" in ASCII).
    public static let routeTable: UInt32 = 0x6b70
    /// The policy rule's priority: before the `main` table's rule (32766).
    public static let rulePriority: UInt32 = 1000

    /// Where the listeners of `family` listen: loopback, which no other host can reach.
    public static func listenAddress(_ family: IPAddress.Family) -> IPAddress {
        family == .ipv4 ? IPAddress(ipv4: 0x7f00_0001) : IPAddress(ipv6High: 0, low: 1)
    }
}
