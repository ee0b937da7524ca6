import Synchronization

/// Each Service port's compiled fragment, kept between compiles: a sync recompiles only the Services whose
/// inputs changed and reuses the rest — the same values, so the partial diff also finds them equal at once
/// (arrays that share storage compare in O(1)). Fragments depend on the configuration and the node too, so
/// a change of either empties the cache. Fragments of Services not compiled last time are dropped.
public final class CompileCache: Sendable {
    struct Key: Hashable {
        var family: NFTFamily
        var name: ServicePortName
    }

    struct Entry {
        var service: ServicePortInfo
        var endpoints: [EndpointInfo]
        /// Userspace mode: the listener ports the fragment hands traffic to.
        var ports: [UInt16?]
        var fragment: ServiceFragment
    }

    private struct State {
        var config: ProxyConfig?
        var node: NodeInfo?
        var entries: [Key: Entry] = [:]
        var used: Set<Key> = []
    }

    private let state = Mutex(State())

    public init() {}

    /// Starts a compile for `config` and `node`.
    func begin(config: ProxyConfig, node: NodeInfo) {
        state.withLock { s in
            if s.config != config || s.node != node { s.entries = [:] }
            s.config = config
            s.node = node
            s.used = []
        }
    }

    /// The fragment compiled before from exactly these inputs.
    func fragment(_ key: Key, service: ServicePortInfo, endpoints: [EndpointInfo], ports: [UInt16?] = []) -> ServiceFragment? {
        state.withLock { s in
            s.used.insert(key)
            guard let entry = s.entries[key], entry.service == service, entry.endpoints == endpoints, entry.ports == ports else { return nil }
            return entry.fragment
        }
    }

    func store(_ key: Key, service: ServicePortInfo, endpoints: [EndpointInfo], ports: [UInt16?] = [], fragment: ServiceFragment) {
        state.withLock { s in
            s.used.insert(key)
            s.entries[key] = Entry(service: service, endpoints: endpoints, ports: ports, fragment: fragment)
        }
    }

    /// Drops the fragments of Services this compile did not include.
    func end() {
        state.withLock { s in
            if s.entries.count != s.used.count { s.entries = s.entries.filter { s.used.contains($0.key) } }
            s.used = []
        }
    }

    /// Number of fragments held.
    public var count: Int { state.withLock { $0.entries.count } }
}
