import KubeAPI
import Logging
import ProxyCore

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
    public var ruleset: NFTRuleset?
}

/// Owns the proxy's view of the cluster (Services, EndpointSlices, this Node) and turns it into kernel
/// state: compile (pure) → plan (full or partial) → apply (one batch) → conntrack cleanup.
/// A failed apply forgets what the kernel holds, so the next sync is a full one.
public actor ProxySyncer {
    private var services: [String: Service] = [:]
    private var slices: [String: EndpointSlice] = [:]
    private var node: NodeInfo
    private var applied: NFTRuleset?
    /// Per-Service fragments of earlier compiles: a sync recompiles only what changed.
    private let compileCache = CompileCache()
    private var lastState = ProxyState()
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

    public func setService(_ service: Service?, key: String) { services[key] = service }
    public func setSlice(_ slice: EndpointSlice?, key: String) { slices[key] = slice }
    public func setNode(_ info: NodeInfo) { node = info }
    public func replaceServices(_ all: [Service]) { services = Dictionary(all.map { ($0.key, $0) }, uniquingKeysWith: { a, _ in a }) }
    public func replaceSlices(_ all: [EndpointSlice]) { slices = Dictionary(all.map { ($0.key, $0) }, uniquingKeysWith: { a, _ in a }) }

    /// The current state as the compiler sees it (for the health-check servers and tests).
    public var state: ProxyState { ProxyState(services: Array(services.values), endpointSlices: Array(slices.values)) }

    /// Compiles and applies; `full` rewrites everything the table holds.
    public func sync(full requestedFull: Bool) async -> SyncResult {
        let start = clock.now
        let state = self.state
        let listeners = await syncListeners(state)
        let ruleset = RulesetCompiler(config: config, node: node, cache: compileCache, listeners: listeners).compile(state)
        let full = requestedFull || applied == nil
        var operations = 0
        do {
            // A full sync adopts what the kernel holds (no flush of the table: connections keep flowing);
            // a partial one touches only the chains and elements of what changed.
            let transaction: NFTTransaction
            if full || applied == nil {
                let existing = try await target.existing(ruleset.tables.map(\.id))
                transaction = RulesetDiff.fullSync(to: ruleset, existing: existing)
            } else if let applied {
                transaction = RulesetDiff.partialSync(from: applied, to: ruleset)
            } else {
                transaction = NFTTransaction()
            }
            operations = transaction.operations.count
            if !transaction.isEmpty { try await target.apply(transaction) }
            applied = ruleset
            let previous = lastState
            lastState = state
            await cleanConntrack(from: previous, to: state)
            return SyncResult(full: full, operations: operations, duration: clock.now - start, error: nil, ruleset: ruleset)
        } catch {
            applied = nil
            logger.error("sync failed, the next sync is a full one: \(error)")
            return SyncResult(full: full, operations: operations, duration: clock.now - start, error: "\(error)", ruleset: nil)
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
    private func cleanConntrack(from old: ProxyState, to new: ProxyState) async {
        guard let conntrack else { return }
        for (name, endpoints) in old.endpoints where name.protocol == .udp {
            let now = Set((new.endpoints[name] ?? []).map(\.description))
            for endpoint in endpoints where !now.contains(endpoint.description) {
                do { try await conntrack.deleteUDPFlows(toEndpoint: endpoint.address, port: endpoint.port) } catch {
                    logger.warning("conntrack cleanup for \(endpoint) failed: \(error)")
                }
            }
        }
        for (name, info) in new.services where name.protocol == .udp {
            let hadNone = (old.endpoints[name] ?? []).allSatisfy { !$0.ready && !$0.serving }
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
