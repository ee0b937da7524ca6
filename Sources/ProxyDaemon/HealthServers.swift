import Foundation
import HTTPServing
import KubeAPI
import Logging
import NIOCore
import NIOHTTP1
import ProxyCore
import Synchronization

/// When the proxy last applied its rules and whether a change waits too long: `/healthz` and `/livez`
/// answer as kube-proxy's (JSON with `lastUpdated`, `currentTime`, `nodeEligible`; 503 when stale).
public final class ProxyHealth: Sendable {
    private struct State { var lastUpdated: Date?; var oldestPending: Date?; var nodeEligible = true }
    private let state = Mutex(State())
    private let timeout: TimeInterval

    public init(timeout: TimeInterval) { self.timeout = timeout }

    public func queued(at date: Date) { state.withLock { if $0.oldestPending == nil { $0.oldestPending = date } } }
    public func synced(at date: Date) { state.withLock { $0.lastUpdated = date; $0.oldestPending = nil } }
    public func setNodeEligible(_ eligible: Bool) { state.withLock { $0.nodeEligible = eligible } }

    /// Healthy unless a queued change has waited longer than the timeout for a sync.
    public func report(now: Date, liveness: Bool) -> (healthy: Bool, body: String) {
        let s = state.withLock { $0 }
        let stale = s.oldestPending.map { now.timeIntervalSince($0) > timeout } ?? false
        let healthy = !stale && (liveness || s.nodeEligible)
        let last = s.lastUpdated.map(Self.goTime) ?? "0001-01-01 00:00:00 +0000 UTC"
        return (healthy, #"{"lastUpdated": "\#(last)","currentTime": "\#(Self.goTime(now))","nodeEligible": \#(s.nodeEligible)}"#)
    }

    /// Go's `time.Time.String()` layout, as upstream prints it.
    static func goTime(_ date: Date) -> String {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "UTC")
        f.dateFormat = "yyyy-MM-dd HH:mm:ss.SSSSSSSSS Z 'UTC'"
        return f.string(from: date)
    }
}

/// `/healthz`, `/livez` and (on the metrics address) `/metrics`.
struct ProxyStatusHandler: HTTPRequestHandler {
    let health: ProxyHealth
    let metrics: ProxyMetrics?

    func handle(_ request: HTTPRequest) async -> HTTPResponse {
        switch request.path {
        case "/healthz", "/livez":
            let (healthy, body) = health.report(now: Date(), liveness: request.path == "/livez")
            return .full(status: healthy ? .ok : .serviceUnavailable, headers: ["Content-Type": "application/json", "X-Content-Type-Options": "nosniff"],
                         body: ByteBuffer(string: body))
        case "/metrics" where metrics != nil:
            return .full(status: .ok, headers: ["Content-Type": "text/plain; version=0.0.4; charset=utf-8"],
                         body: ByteBuffer(string: metrics?.exposition() ?? ""))
        default:
            return .full(status: .notFound, headers: ["Content-Type": "text/plain"], body: ByteBuffer(string: "404 page not found\n"))
        }
    }
}

/// The health-check NodePorts of `externalTrafficPolicy: Local` Services: one HTTP listener per port that
/// answers 200 while this node has local endpoints for the Service and 503 otherwise, with upstream's JSON,
/// so external load balancers send traffic only to nodes that can serve it.
public actor ServiceHealthServers {
    private struct Entry { var server: HTTPServer; var task: Task<Void, Never>; var counts: LocalEndpointCount }
    private var servers: [Int: Entry] = [:]
    private let bindAddress: String
    private let logger: Logger

    public init(bindAddress: String = "0.0.0.0", logger: Logger) { self.bindAddress = bindAddress; self.logger = logger }

    /// Opens, updates and closes listeners to match the Services' health-check ports.
    public func update(state: ProxyState, nodeName: String) async {
        var wanted: [Int: (service: ServicePortName, local: Int)] = [:]
        for (name, info) in state.services {
            guard let port = info.healthCheckNodePort, port > 0 else { continue }
            let local = (state.endpoints[name] ?? []).filter { $0.isLocal(to: nodeName) && $0.ready }.count
            let previous = wanted[port]?.local ?? 0
            wanted[port] = (name, max(previous, local))
        }
        for (port, entry) in servers where wanted[port] == nil {
            entry.task.cancel()
            servers[port] = nil
        }
        for (port, want) in wanted {
            if let entry = servers[port] {
                entry.counts.set(namespace: want.service.namespace, name: want.service.name, local: want.local)
                continue
            }
            let counts = LocalEndpointCount()
            counts.set(namespace: want.service.namespace, name: want.service.name, local: want.local)
            do {
                let server = try await HTTPServer.bind(host: bindAddress, port: port, tls: nil, handler: ServiceHealthHandler(counts: counts),
                                                       logger: logger)
                servers[port] = Entry(server: server, task: Task { await server.run() }, counts: counts)
            } catch {
                logger.warning("health check node port \(port) for \(want.service): \(error)")
            }
        }
    }

    public func stopAll() {
        for entry in servers.values { entry.task.cancel() }
        servers = [:]
    }
}

final class LocalEndpointCount: Sendable {
    private let value = Mutex<(namespace: String, name: String, local: Int)>(("", "", 0))
    func set(namespace: String, name: String, local: Int) { value.withLock { $0 = (namespace, name, local) } }
    func get() -> (namespace: String, name: String, local: Int) { value.withLock { $0 } }
}

struct ServiceHealthHandler: HTTPRequestHandler {
    let counts: LocalEndpointCount
    func handle(_ request: HTTPRequest) async -> HTTPResponse {
        let c = counts.get()
        let body = #"{"service":{"namespace":"\#(c.namespace)","name":"\#(c.name)"},"localEndpoints":\#(c.local),"serviceProxyHealthy":true}"#
        return .full(status: c.local > 0 ? .ok : .serviceUnavailable,
                     headers: ["Content-Type": "application/json", "X-Content-Type-Options": "nosniff"], body: ByteBuffer(string: body))
    }
}
