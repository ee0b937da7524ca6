import Foundation
import HTTPServing
import NIOCore
import NIOHTTP1
import Synchronization

/// Named checks that start failing and pass once their component reports in (kube-apiserver's
/// `poststarthook/…` and `informer-sync` checks). A component can fail again: an informer whose watch
/// broke is not synced until its relist completes.
public final class ReadinessChecks: Sendable {
    private let checks = Mutex<[String: String?]>([:])  // name → why it fails, nil when it passes

    public init() {}

    /// Adds a check, failing with `reason` until `pass`.
    public func register(_ name: String, failing reason: String = "not yet run") {
        checks.withLock { $0[name] = .some(reason) }
    }

    public func pass(_ name: String) {
        checks.withLock { $0[name] = .some(nil) }
    }

    public func fail(_ name: String, _ reason: String) {
        checks.withLock { $0[name] = .some(reason) }
    }

    /// Every check and its failure (nil when passing), sorted by name.
    public func results() -> [(name: String, failure: String?)] {
        checks.withLock { $0 }.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
    }
}

/// What one informer reports: synced after each complete list, failing while its watch is broken.
struct SyncReporter: Sendable {
    let checks: ReadinessChecks
    let name: String

    init(_ checks: ReadinessChecks, _ name: String) {
        self.checks = checks
        self.name = name
        checks.register(name, failing: "informer not synced")
    }

    func synced() { checks.pass(name) }
    func lost(_ reason: String) { checks.fail(name, "informer not synced: \(reason)") }

    /// One reporter per informer of a controller (`informer-sync/<controller>/<kind>`), by kind; none without checks.
    static func informers(_ readiness: ReadinessChecks?, controller: String, kinds: [String]) -> [String: SyncReporter] {
        guard let readiness else { return [:] }
        return Dictionary(uniqueKeysWithValues: kinds.map { ($0, SyncReporter(readiness, "informer-sync/\(controller)/\($0)")) })
    }
}

/// `/livez`, `/readyz` and `/healthz` as kube-apiserver answers them: `ok`, or with `?verbose` one
/// `[+]name ok` / `[-]name failed: reason withheld` line per check; a failing check makes it a 500
/// ending in `<endpoint> check failed`. `/readyz/<check>` asks for one check. Reasons are logged by
/// their components, never shown to anonymous callers (upstream withholds them too).
struct HealthEndpoint: Sendable {
    let store: @Sendable () async throws -> Void
    let readiness: ReadinessChecks

    func handle(_ endpoint: String, check: String?, verbose: Bool) async -> HTTPResponse {
        let storeFailure: String?
        do { try await store(); storeFailure = nil } catch { storeFailure = "\(error)" }
        var results: [(name: String, failure: String?)] = [("ping", nil), ("etcd", storeFailure)]
        if endpoint == "readyz" { results += readiness.results() }
        if let check {
            guard let one = results.first(where: { $0.name == check }) else {
                return text(.notFound, "404 page not found\n")
            }
            results = [one]
        }
        let failed = results.contains { $0.failure != nil }
        if !failed && !verbose { return text(.ok, "ok") }
        var body = results.map { $0.failure == nil ? "[+]\($0.name) ok" : "[-]\($0.name) failed: reason withheld" }.joined(separator: "\n")
        body += failed ? "\n\(endpoint) check failed\n" : "\n\(endpoint) check passed\n"
        return text(failed ? .internalServerError : .ok, body)
    }

    private func text(_ status: HTTPResponseStatus, _ body: String) -> HTTPResponse {
        .full(status: status, headers: ["Content-Type": "text/plain; charset=utf-8", "X-Content-Type-Options": "nosniff"], body: ByteBuffer(string: body))
    }
}
