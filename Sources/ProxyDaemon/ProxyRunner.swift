import Foundation
import HTTPServing
import KubeAPI
import KubeClient
import Logging
import ProxyCore
import Synchronization
import Values

/// Settings of `kproxy proxy` beyond the ruleset's own (`ProxyConfig`).
public struct ProxyRunnerConfig: Sendable {
    public var nodeName: String
    /// Coalesce changes: at most one sync per this period.
    public var minSyncPeriod: Duration = .zero
    /// A full sync at least this often (and after any failure).
    public var syncPeriod: Duration = .seconds(3600)
    public var metricsAddress: (host: String, port: Int)? = ("127.0.0.1", 10249)
    public var healthzAddress: (host: String, port: Int)? = ("127.0.0.1", 10256)
    /// A queued change older than this makes /healthz fail.
    public var healthTimeout: TimeInterval = 120
    /// Keep host-gw routes to the other Nodes' pod CIDRs (`--node-routes`); off unless asked for, since
    /// it changes the node's routing table.
    public var nodeRoutes = false
    /// How those routes reach the other nodes (`--node-routes-mode`).
    public var nodeRoutesMode = NodeRouteSync.Mode.hostGateway
    public init(nodeName: String) { self.nodeName = nodeName }
}

/// The proxy daemon: informers for Services, EndpointSlices and this Node feed a `ProxySyncer`; a loop
/// syncs when something changed (no more often than `minSyncPeriod`, fully every `syncPeriod`), and
/// serves /healthz, /livez, /metrics and the health-check NodePorts of `externalTrafficPolicy: Local` Services.
public final class ProxyRunner: Sendable {
    private let client: KubeClient
    private let syncer: ProxySyncer
    private let config: ProxyRunnerConfig
    private let metrics: ProxyMetrics
    private let health: ProxyHealth
    private let healthServers: ServiceHealthServers
    private let logger: Logger
    private let pending = PendingChanges()
    private let events: any EventSink

    /// `extraMetrics` adds text to /metrics (the userspace mode's per-endpoint counters).
    public init(client: KubeClient, syncer: ProxySyncer, config: ProxyRunnerConfig,
                extraMetrics: (@Sendable () -> String)? = nil, logger: Logger) {
        self.client = client; self.syncer = syncer; self.config = config; self.logger = logger
        metrics = ProxyMetrics(extra: extraMetrics)
        health = ProxyHealth(timeout: config.healthTimeout)
        healthServers = ServiceHealthServers(logger: logger)
        events = KubeEventRecorder(client: client, component: "kproxy-proxy", host: config.nodeName, logger: logger)
    }

    /// This node as Events name it (kube-proxy's node reference: the name doubles as the uid).
    private var nodeReference: ObjectReference {
        ObjectReference(kind: "Node", name: config.nodeName, uid: config.nodeName, apiVersion: "v1")
    }

    /// Runs until the calling task is cancelled.
    public func run() async throws {
        let services = Informer(KubeListWatcher<Service>(client: client))
        let slices = Informer(KubeListWatcher<EndpointSlice>(client: client))
        let nodes = Informer(KubeListWatcher<Node>(client: client, fieldSelector: "metadata.name=\(config.nodeName)"))
        let servers = try await startStatusServers()
        await events.record(EventRecord(involvedObject: nodeReference, type: .normal, reason: "Starting", message: "Started kproxy proxy"))
        let trigger = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        await withDiscardingTaskGroup { group in
            group.addTask { await services.run() }
            group.addTask { await slices.run() }
            group.addTask { await nodes.run() }
            if config.nodeRoutes {
                group.addTask { await NodeRouteSync(client: self.client, nodeName: self.config.nodeName, mode: self.config.nodeRoutesMode,
                                                         logger: self.logger).run() }
            }
            for server in servers { group.addTask { await server.run() } }
            group.addTask {
                for await event in services.events {
                    switch event {
                    case .added(let s), .updated(_, let s): await self.syncer.setService(s, key: s.key)
                    case .deleted(let s): await self.syncer.setService(nil, key: s.key)
                    case .synced: break
                    }
                    self.metrics.serviceChanges.increment()
                    self.changed(trigger.continuation)
                }
            }
            group.addTask {
                for await event in slices.events {
                    switch event {
                    case .added(let s), .updated(_, let s): await self.syncer.setSlice(s, key: s.key)
                    case .deleted(let s): await self.syncer.setSlice(nil, key: s.key)
                    case .synced: break
                    }
                    self.metrics.endpointChanges.increment()
                    self.changed(trigger.continuation)
                }
            }
            group.addTask {
                for await event in nodes.events {
                    if case .added(let n) = event { await self.syncer.setNode(Self.nodeInfo(n)) }
                    if case .updated(_, let n) = event { await self.syncer.setNode(Self.nodeInfo(n)) }
                    self.changed(trigger.continuation)
                }
            }
            group.addTask {
                do {
                    try await services.waitForSync()
                    try await slices.waitForSync()
                } catch { return }
                await self.syncLoop(trigger.stream, trigger.continuation)
            }
        }
        await healthServers.stopAll()
    }

    private func changed(_ trigger: AsyncStream<Void>.Continuation) {
        let now = Date()
        pending.mark(now)
        health.queued(at: now)
        metrics.lastQueued.set(now.timeIntervalSince1970)
        trigger.yield()
    }

    /// Syncs on every trigger (coalesced by `minSyncPeriod`) and fully every `syncPeriod`; a timer
    /// triggers too, so the periodic full sync happens when nothing changes.
    private func syncLoop(_ triggers: AsyncStream<Void>, _ trigger: AsyncStream<Void>.Continuation) async {
        let clock = ContinuousClock()
        var lastSync = clock.now - config.minSyncPeriod
        var lastFull: ContinuousClock.Instant?
        let period = config.syncPeriod
        let timer = Task {
            while !Task.isCancelled {
                try await Task.sleep(for: period)
                trigger.yield()
            }
        }
        defer { timer.cancel() }
        trigger.yield()  // the first sync, right after the caches synced
        for await _ in triggers {
            let wait = config.minSyncPeriod - (clock.now - lastSync)
            if wait > .zero { try? await Task.sleep(for: wait) }
            let full = lastFull.map { clock.now - $0 >= config.syncPeriod } ?? true
            let oldest = pending.take()
            let result = await syncer.sync(full: full)
            lastSync = clock.now
            await record(result, oldestChange: oldest)
            if result.error == nil {
                if result.full { lastFull = clock.now }
                await healthServers.update(state: await syncer.state, nodeName: config.nodeName)
            } else {
                lastFull = nil
                if let oldest { pending.mark(oldest) }
                // Retry (as a full sync) after a short pause rather than waiting for the next change.
                try? await Task.sleep(for: .seconds(1))
                trigger.yield()
            }
        }
    }

    private func record(_ result: SyncResult, oldestChange: Date?) async {
        metrics.syncDuration.record(result.duration)
        (result.full ? metrics.fullSyncDuration : metrics.partialSyncDuration).record(result.duration)
        if let error = result.error {
            metrics.syncFailures.increment()
            logger.error("sync failed: \(error)")
            await events.record(EventRecord(involvedObject: nodeReference, type: .warning, reason: "SyncProxyRulesFailed",
                                            message: "Failed to sync the proxy rules: \(error)"))
            return
        }
        let now = Date()
        metrics.lastSync.set(now.timeIntervalSince1970)
        health.synced(at: now)
        if let oldestChange { metrics.networkProgramming.record(.milliseconds(Int64(now.timeIntervalSince(oldestChange) * 1000))) }
        if let size = result.compiled?.size {
            metrics.chains.set(Double(size.chains))
            metrics.rules.set(Double(size.rules))
            metrics.elements.set(Double(size.elements))
        }
        logger.debug("synced (\(result.full ? "full" : "partial"), \(result.operations) operations) in \(result.duration)")
    }

    private func startStatusServers() async throws -> [HTTPServer] {
        var servers: [HTTPServer] = []
        if let a = config.healthzAddress {
            servers.append(try await HTTPServer.bind(host: a.host, port: a.port, tls: nil,
                                                     handler: ProxyStatusHandler(health: health, metrics: nil), logger: logger))
        }
        if let a = config.metricsAddress {
            servers.append(try await HTTPServer.bind(host: a.host, port: a.port, tls: nil,
                                                     handler: ProxyStatusHandler(health: health, metrics: metrics), logger: logger))
        }
        return servers
    }

    /// This node as the compiler needs it: name, addresses (InternalIP first), labels.
    public static func nodeInfo(_ node: Node) -> NodeInfo {
        let addresses = (node.status.addresses ?? [])
            .sorted { ($0.type == .internalIP ? 0 : 1) < ($1.type == .internalIP ? 0 : 1) }
            .compactMap { IPAddress($0.address) }
        var primary: [IPAddress] = []
        for family in [IPAddress.Family.ipv4, .ipv6] { if let a = addresses.first(where: { $0.family == family }) { primary.append(a) } }
        return NodeInfo(name: node.name, nodeIPs: primary, addresses: addresses, labels: node.metadata.labels ?? [:])
    }
}

/// The time of the oldest change not yet synced (network programming latency starts there).
final class PendingChanges: Sendable {
    private let oldest = Mutex<Date?>(nil)
    func mark(_ date: Date) { oldest.withLock { if $0 == nil { $0 = date } } }
    func take() -> Date? { oldest.withLock { value in defer { value = nil }; return value } }
}
