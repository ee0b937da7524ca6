import Bench
import ArgumentParser
import Foundation
import KubeAPI
import KubeClient

/// `kproxy bench …`: load generators for kproxy's components (never timed assertions in tests).
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Benchmarks of kproxy's components.",
        subcommands: [BenchControlPlaneCommand.self, BenchNFTablesCommand.self, BenchCNIExecCommand.self, BenchLBCommand.self,
                      BenchHTTPLoadCommand.self]
    )
}

/// `kproxy bench controlplane`: concurrent creates with watchers open, then relist timings.
struct BenchControlPlaneCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "controlplane",
        abstract: "Create Services and Pods through the API with concurrent clients while watchers measure delivery latency; then time a full relist.",
        discussion: """
            Watch delivery latency is the watcher's receive time minus the moment the create request was \
            sent (one monotonic clock, writers and watchers share this process): an upper bound that \
            includes the create's own round trip. Use a fresh control plane; hack/bench-controlplane.sh does.
            """
    )

    @Option(help: "Kubeconfig of the API server to load.") var kubeconfig: String
    @Option(help: "Services to create.") var services = 10_000
    @Option(help: "Pods to create (after the Services).") var pods = 50_000
    @Option(help: "Concurrent create requests (HTTP/1.1 keep-alive, one connection each).") var concurrency = 64
    @Option(help: "Watchers, split between Services and Pods, opened before the first create.") var watchers = 100
    @Option(help: "Namespace to create the objects in (created if missing).") var namespace = "bench"
    @Option(help: "PID of the API server, to report its RSS and CPU time from /proc.") var serverPid: Int32?
    @Option(help: "Write the results as JSON to FILE.") var json: String?
    @Option(help: "Seconds to wait after the last create for watchers to see every object.") var drainTimeout = 60
    @Option(help: "Timed relists (full LIST of the Services and Pods).") var relists = 3
    @Flag(inversion: .prefixedNo, help: "Give Services selectors matching the Pods (so the EndpointSlice controller works too).")
    var selectors = true
    @Flag(help: "Watch across all namespaces instead of the bench namespace.") var watchAllNamespaces = false

    /// AsyncHTTPClient keeps at most this many HTTP/1.1 connections per host and client (its default soft
    /// limit, which KubeClient does not change), so the bench spreads connections over several clients.
    static let connectionsPerClient = BenchRun.connectionsPerClient

    func validate() throws {
        guard services >= 0, pods >= 0, services + pods > 0 else { throw ValidationError("nothing to create") }
        guard concurrency > 0, watchers >= 0, relists >= 0, drainTimeout >= 0 else { throw ValidationError("counts must be positive") }
    }

    func run() async throws {
        var config = try ClientConfig.load(kubeconfig: kubeconfig)
        config.requestTimeout = .seconds(120)
        config.userAgent = "kproxy-bench/\(ClientConfig.version)"
        func makeClients(_ n: Int) throws -> [KubeClient] { try (0..<max(1, n)).map { _ in try KubeClient(config: config) } }
        let per = Self.connectionsPerClient
        let writerClients = try makeClients((concurrency + per - 1) / per)
        let watcherClients = try makeClients((watchers + per - 1) / per)
        let admin = try KubeClient(config: config)

        let runID = String(UInt32.random(in: 0..<UInt32.max), radix: 36)
        let workload = BenchWorkload(namespace: namespace, runID: runID, services: services, pods: pods, selectors: selectors)
        let runner = BenchRun(workload: workload, admin: admin, writerClients: writerClients, watcherClients: watcherClients,
                              concurrency: concurrency, watchers: watchers, watchNamespace: watchAllNamespaces ? nil : namespace,
                              serverPid: serverPid, drainTimeout: .seconds(drainTimeout), relists: relists)
        BenchFormat.say("kproxy bench controlplane: server \(config.server.absoluteString), run \(runID)")
        BenchFormat.say("  \(services) Services + \(pods) Pods in namespace \(namespace) (selectors \(selectors ? "on" : "off")), "
              + "\(concurrency) concurrent creates over \(writerClients.count) clients, \(watchers) watchers")
        let report: BenchReport
        do {
            report = try await runner.run()
        } catch {
            for c in writerClients + watcherClients + [admin] { try? await c.shutdown() }
            throw error
        }
        for c in writerClients + watcherClients + [admin] { try? await c.shutdown() }
        BenchFormat.say("")
        BenchFormat.say(report.table())
        if let json {
            try report.jsonData().write(to: URL(fileURLWithPath: json))
            BenchFormat.say("JSON written to \(json)")
        }
    }
}
