import KubeAPI
import LinuxSystem
import Logging
import ProxyCore
import Values

/// Where rulesets go: the kernel through the nftables adapter, or an in-memory fake in tests.
public protocol RulesetTarget: Sendable {
    /// Applies one transaction as one atomic batch.
    func apply(_ transaction: NFTTransaction) async throws
    /// What the target holds now for these tables (chain and set headers), so a full sync adopts it.
    func existing(_ tables: [NFTTableID]) async throws -> NFTRuleset
}

/// Deletes conntrack entries that would keep UDP flows pinned to endpoints that are gone
/// (or to the REJECT verdict of a Service that has endpoints now).
public protocol ConntrackFlushing: Sendable {
    /// Flows whose original destination is `address:port`/UDP (a Service that gained endpoints).
    func deleteUDPFlows(toService address: IPAddress, port: UInt16) async throws
    /// Flows DNAT-ed to `endpoint` (an endpoint that was removed).
    func deleteUDPFlows(toEndpoint address: IPAddress, port: UInt16) async throws
}

/// What one sync did, for metrics and logs.
public struct SyncResult: Sendable {
    public var full: Bool
    public var operations: Int
    public var duration: Duration
    public var error: String?
    /// What the sync applied (nil when it failed).
    public var compiled: CompiledRuleset?
    /// The whole ruleset applied: assembled on demand, O(everything).
    public var ruleset: NFTRuleset? { compiled?.ruleset }
}

/// Owns the proxy's view of the cluster (Services, EndpointSlices, this Node) and turns it into kernel
/// state: compile (pure) → plan (full or partial) → apply (one batch) → conntrack cleanup.
/// A failed apply forgets what the kernel holds, so the next sync is a full one.
public actor ProxySyncer {
    private var services: [String: Service] = [:]
    private var slices: [String: EndpointSlice] = [:]
    /// The state as the compiler sees it, kept up to date per Service from its object and its slices.
    private var current = ProxyState()
    /// Keys (`namespace/name`) of Services whose object or slices changed since the last sync.
    private var dirty: Set<String> = []
    /// Service port names `current` changed in since the last sync (nil: all of them), gathered by every
    /// refresh — the `state` getter refreshes too — and taken by the next sync.
    private var pendingChanges: Set<ServicePortName>? = []
    /// Everything must be rebuilt (a relist replaced the objects).
    private var allDirty = true
    private var slicesOfService: [String: Set<String>] = [:]
    private var serviceOfSlice: [String: String] = [:]
    /// The Service port names each Service contributes to `current` (its ports and its slices' ports).
    private var portNames: [String: Set<ServicePortName>] = [:]
    private var node: NodeInfo
    /// The last compile, handed to the next one (and held nowhere else, so the next compile updates it in
    /// place): a sync recompiles only the Service ports that changed.
    private var compiled: CompiledRuleset?
    /// The generation of the compile the kernel holds, or nil when unknown: the next sync is a full one.
    private var appliedGeneration: UInt64?
    /// Endpoints of Service ports as the kernel last got them, for those changed since (conntrack cleanup).
    private var endpointsBefore: [ServicePortName: [EndpointInfo]] = [:]
    /// After a relist: the whole previous state, for conntrack cleanup.
    private var stateBefore: ProxyState?
    private let config: ProxyConfig
    private let target: any RulesetTarget
    private let conntrack: (any ConntrackFlushing)?
    private let logger: Logger
    private let clock = ContinuousClock()
    /// Userspace mode: the listeners the ruleset hands traffic to, and their ports. Nil in nftables mode.
    private let listenerTarget: (any ListenerTarget)?
    private var listenerPorts: ListenerPorts
    /// Listener keys already logged as refused (SCTP), so the log says it once.
    private var refusedLogged: Set<ListenerKey> = []

    /// `listeners` switches to the userspace mode: Service traffic is handed (tproxy) to local listeners on ports
    /// from `portRange` instead of DNATed to endpoints.
    public init(config: ProxyConfig, node: NodeInfo, target: any RulesetTarget, conntrack: (any ConntrackFlushing)?,
                listeners: (any ListenerTarget)? = nil, portRange: ClosedRange<UInt16> = ProxySyncer.defaultPortRange, logger: Logger) {
        self.config = config; self.node = node; self.target = target; self.conntrack = conntrack; self.logger = logger
        listenerTarget = listeners
        listenerPorts = ListenerPorts(range: portRange)
    }

    /// `--proxy-port-range` default: below the NodePort range (30000–32767) and the kernel's ephemeral
    /// ports (32768–60999), so listeners never collide with either.
    public static let defaultPortRange: ClosedRange<UInt16> = 20000...29999

    public func setService(_ service: Service?, key: String) {
        services[key] = service
        dirty.insert(key)
    }

    public func setSlice(_ slice: EndpointSlice?, key: String) {
        if let owner = serviceOfSlice.removeValue(forKey: key) {
            slicesOfService[owner]?.remove(key)
            dirty.insert(owner)
        }
        slices[key] = slice
        if let slice, let owner = Self.owner(slice) {
            serviceOfSlice[key] = owner
            slicesOfService[owner, default: []].insert(key)
            dirty.insert(owner)
        }
    }

    public func setNode(_ info: NodeInfo) { node = info }

    public func replaceServices(_ all: [Service]) {
        services = Dictionary(all.map { ($0.key, $0) }, uniquingKeysWith: { a, _ in a })
        allDirty = true
    }

    public func replaceSlices(_ all: [EndpointSlice]) {
        slices = Dictionary(all.map { ($0.key, $0) }, uniquingKeysWith: { a, _ in a })
        serviceOfSlice = [:]
        slicesOfService = [:]
        for (key, slice) in slices {
            guard let owner = Self.owner(slice) else { continue }
            serviceOfSlice[key] = owner
            slicesOfService[owner, default: []].insert(key)
        }
        allDirty = true
    }

    /// `namespace/service` of the Service a slice belongs to (its `kubernetes.io/service-name` label).
    private static func owner(_ slice: EndpointSlice) -> String? {
        slice.metadata.labels?[EndpointSlice.serviceNameLabel].map { (slice.metadata.namespace ?? "default") + "/" + $0 }
    }

    /// The current state as the compiler sees it (for the health-check servers and tests).
    public var state: ProxyState {
        refreshState()
        return current
    }

    /// Brings `current` up to date and returns the Service port names that changed since the last sync
    /// (nil: all), which it takes.
    private func takeChanges() -> Set<ServicePortName>? {
        refreshState()
        defer { pendingChanges = [] }
        return pendingChanges
    }

    /// Brings `current` up to date, adding the Service port names that changed to `pendingChanges`. Only
    /// the dirty Services are rebuilt — each from its object and its own slices, which is all `ProxyState`
    /// merges for it — so an event costs the size of its Service, not of the cluster.
    private func refreshState() {
        if allDirty {
            pendingChanges = nil
            allDirty = false
            dirty = []
            if stateBefore == nil {
                // What the kernel got last: the state before this rebuild, with the changes since put back.
                var before = current
                for (name, endpoints) in endpointsBefore { before.endpoints[name] = endpoints.isEmpty ? nil : endpoints }
                stateBefore = before
                endpointsBefore = [:]
            }
            current = ProxyState(services: Array(services.values), endpointSlices: Array(slices.values))
            portNames = [:]
            for name in Set(current.services.keys).union(current.endpoints.keys) {
                portNames[name.namespace + "/" + name.name, default: []].insert(name)
            }
            return
        }
        for key in dirty {
            let own = ProxyState(services: services[key].map { [$0] } ?? [],
                                 endpointSlices: (slicesOfService[key] ?? []).compactMap { slices[$0] })
            let before = portNames[key] ?? []
            for name in before {
                current.services[name] = nil
                let old = current.endpoints.removeValue(forKey: name)
                if stateBefore == nil && endpointsBefore[name] == nil { endpointsBefore[name] = old ?? [] }
            }
            current.services.merge(own.services) { _, b in b }
            current.endpoints.merge(own.endpoints) { _, b in b }
            let after = Set(own.services.keys).union(own.endpoints.keys)
            for name in after where stateBefore == nil && endpointsBefore[name] == nil { endpointsBefore[name] = [] }
            portNames[key] = after.isEmpty ? nil : after
            pendingChanges?.formUnion(before)
            pendingChanges?.formUnion(after)
        }
        dirty = []
    }

    /// Compiles and applies; `full` rewrites everything the table holds.
    public func sync(full requestedFull: Bool) async -> SyncResult {
        let start = clock.now
        let changed = takeChanges()
        let listeners = await syncListeners(current)
        // Userspace mode: listener ports may move for any Service, so every one is checked.
        let hint = listeners == nil ? changed : nil
        // When the node (or the configuration) changed, every fragment is recompiled and the diff compares
        // whole rulesets: the previous compile is kept for it (rare, O(everything) like the change).
        let wholeDiffBase = compiled.flatMap { $0.compiled(config: config, node: node) ? nil : $0 }
        let next = RulesetCompiler(config: config, node: node, listeners: listeners).compile(current, previous: compiled.take(), changed: hint)
        compiled = next
        var operations = 0
        do {
            // A partial sync touches only the fragments of what changed; a full one (asked for, or the
            // kernel's state unknown, or the configuration changed) adopts what the kernel holds (no flush
            // of the table: connections keep flowing).
            var partial: NFTTransaction?
            if !requestedFull, let applied = appliedGeneration {
                partial = RulesetDiff.partialSync(to: next, fromGeneration: applied)
                if partial == nil, let base = wholeDiffBase, base.generation == applied {
                    partial = RulesetDiff.partialSync(from: base, to: next)
                }
            }
            let full = partial == nil
            let tx: NFTTransaction
            if let partial {
                tx = partial
            } else {
                let whole = next.ruleset
                let existing = try await target.existing(whole.tables.map(\.id))
                tx = RulesetDiff.fullSync(to: whole, existing: existing)
            }
            operations = tx.operations.count
            appliedGeneration = nil
            if !tx.isEmpty { try await target.apply(tx) }
            appliedGeneration = next.generation
            // A full sync's transient copies (the assembled ruleset, its kernel form) go back to the system.
            if full { Sys.releaseFreeMemory() }
            await cleanConntrack()
            return SyncResult(full: full, operations: operations, duration: clock.now - start, error: nil, compiled: next)
        } catch {
            appliedGeneration = nil
            logger.error("sync failed, the next sync is a full one: \(error)")
            return SyncResult(full: true, operations: operations, duration: clock.now - start, error: "\(error)", compiled: nil)
        }
    }

    /// Userspace mode: assigns listener ports and opens the listeners (before the ruleset points at them);
    /// nil in nftables mode. Listeners that cannot be opened get no port, so the ruleset rejects their traffic
    /// until a later sync opens them.
    private func syncListeners(_ state: ProxyState) async -> ListenerPorts? {
        guard let listenerTarget else { return nil }
        var specs = state.listenerSpecs(node: node, families: config.families.map(\.ipFamily))
        for key in specs.keys where key.name.protocol == .sctp {
            specs[key] = nil
            if refusedLogged.insert(key).inserted {
                logger.warning("\(key): SCTP is not supported by the userspace mode; its traffic is rejected")
            }
        }
        for (key, failure) in listenerPorts.update(specs.keys) { logger.error("\(key): \(failure)") }
        let failed = await listenerTarget.apply(specs, ports: listenerPorts)
        guard !failed.isEmpty else { return listenerPorts }
        for (key, why) in failed.sorted(by: { $0.key < $1.key }) { logger.error("listener \(key) could not be opened: \(why)") }
        listenerPorts.update(specs.keys.filter { failed[$0] == nil })
        return listenerPorts
    }

    /// Upstream's rule: UDP flows to removed endpoints, and to Service IPs that went from no endpoints
    /// (rejected) to some, are deleted so the next packet takes the new path.
    private func cleanConntrack() async {
        defer {
            endpointsBefore = [:]
            stateBefore = nil
        }
        guard let conntrack else { return }
        // What the kernel had: the whole previous state after a rebuild, else the changed Service ports' endpoints.
        let old = stateBefore?.endpoints ?? endpointsBefore
        let names = stateBefore.map { Set($0.endpoints.keys).union(current.services.keys) } ?? Set(endpointsBefore.keys)
        let new = current
        for name in names where name.protocol == .udp {
            guard let endpoints = old[name] else { continue }
            let now = Set((new.endpoints[name] ?? []).map(\.description))
            for endpoint in endpoints where !now.contains(endpoint.description) {
                do { try await conntrack.deleteUDPFlows(toEndpoint: endpoint.address, port: endpoint.port) } catch {
                    logger.warning("conntrack cleanup for \(endpoint) failed: \(error)")
                }
            }
        }
        for name in names where name.protocol == .udp {
            guard let info = new.services[name] else { continue }
            let hadNone = (old[name] ?? []).allSatisfy { !$0.ready && !$0.serving }
            let hasSome = (new.endpoints[name] ?? []).contains { $0.ready || $0.serving }
            guard hadNone, hasSome else { continue }
            for ip in info.clusterIPs + info.externalIPs + info.loadBalancerIPs {
                do { try await conntrack.deleteUDPFlows(toService: ip, port: info.port) } catch {
                    logger.warning("conntrack cleanup for \(ip):\(info.port) failed: \(error)")
                }
            }
        }
    }
}
