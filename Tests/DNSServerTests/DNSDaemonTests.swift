import ControlPlane
import DNSCore
import DNSServer
import Foundation
import KubeAPI
import KubeClient
import Logging
import Testing
import TestSupport

/// `DNSDaemon` in process against kproxy's own control plane on loopback: ready once its index has listed,
/// it answers the cluster's Services, follows a Service created afterwards, and drops itself as an upstream.
@Suite(.serialized) struct DNSDaemonTests {
    @Test func servesTheClusterItWatches() async throws {
        let dig = try #require(which("dig"), "dig missing: run hack/install-deps.sh")
        let dir = NSTemporaryDirectory() + "kproxy-dnsd-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var cpConfig = ControlPlaneConfig(dataDir: dir)
        cpConfig.listenPort = 0
        var logger = Logger(label: "dns-daemon-test")
        logger.logLevel = .warning
        let controlPlane = try await ControlPlaneServer.start(cpConfig, logger: logger)
        let cpRun = Task { await controlPlane.run() }
        let client = try KubeClient(config: try Kubeconfig.parse(yaml: controlPlane.kubeconfig(), directory: dir).clientConfig())
        let address = "127.0.0.\(Int.random(in: 100...250))", port = Int.random(in: 20000...40000)
        let config = DNSDaemonConfig(listenHost: address, listenPort: port, zone: ZoneOptions(),
                                     upstreams: [try .init(ipAddress: address, port: port)],  // itself: dropped, not a loop
                                     metrics: (host: "127.0.0.1", port: 0), threads: 1)
        let daemon = try await DNSDaemon.start(config, client: client, logger: logger)
        let daemonRun = Task { await daemon.run() }
        // Child processes run on a Dispatch thread: the daemon and the control plane need the cooperative pool.
        func offPool(_ tool: String, _ args: [String]) async throws -> String {
            try await withCheckedThrowingContinuation { continuation in
                DispatchQueue.global().async {
                    continuation.resume(with: Result { try ChildProcess.output(tool, args).trimmingCharacters(in: .whitespacesAndNewlines) })
                }
            }
        }
        func short(_ name: String) async throws -> String {
            try await offPool(dig, ["@\(address)", "-p", "\(port)", "+tries=1", "+time=2", "+short", name])
        }
        do {
            let metricsPort = try #require(daemon.metricsAddress?.port)
            let curl = try #require(which("curl"), "curl missing: run hack/install-deps.sh")
            let ready = { () async -> String? in
                try? await offPool(curl, ["-s", "-o", "/dev/null", "-w", "%{http_code}", "http://127.0.0.1:\(metricsPort)/ready"])
            }
            #expect(await waitUntil(within: .seconds(20)) { await ready() == "200" }, "ready once the index has listed")
            let kubernetes = try await client.get(Service.self, name: "kubernetes", namespace: "default")
            #expect(try await short("kubernetes.default.svc.cluster.local") == kubernetes.spec.clusterIP)

            var web = Service(metadata: ObjectMeta(name: "web", namespace: "default"))
            var http = ServicePort()
            http.port = 80
            web.spec.ports = [http]
            let created = try await client.create(web, namespace: "default")
            #expect(await waitUntil(within: .seconds(20)) { (try? await short("web.default.svc.cluster.local")) == created.spec.clusterIP },
                    "a new Service resolves")
            let outside = try await offPool(dig, ["@\(address)", "-p", "\(port)", "+tries=1", "+time=2", "example.com"])
            #expect(outside.contains("status: REFUSED"), "no upstream left (itself was dropped): refused, not looped: \(outside)")
        } catch {
            Issue.record(error)
        }
        daemonRun.cancel()
        await daemonRun.value
        await daemon.shutdown()
        try? await client.shutdown()
        cpRun.cancel()
        await cpRun.value
    }
}
