import ControlPlane
import Foundation
import KubeAPI
import KubeClient
import Logging
import ProxyCore
import ProxyDaemon
import Testing
import TestSupport

/// `kproxy proxy`'s loop in process: informers against the embedded control plane feed the syncer, and
/// changes are coalesced so syncs are at least `minSyncPeriod` apart however fast objects change.
@Suite struct ProxyRunnerTests {
    @Test func burstsOfChangesAreCoalescedByMinSyncPeriod() async throws {
        var logger = Logger(label: "runner-test")
        logger.logLevel = .critical
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("kproxy-runner-\(UUID().uuidString.prefix(8))").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var cpConfig = ControlPlaneConfig(dataDir: dir)
        cpConfig.listenPort = 0
        let controlPlane = try await ControlPlaneServer.start(cpConfig, logger: logger)
        let serving = Task { await controlPlane.run() }
        defer { serving.cancel() }
        let client = try KubeClient(config: try Kubeconfig.parse(yaml: controlPlane.kubeconfig(), directory: dir).clientConfig())

        let target = FakeRulesetTarget()
        let syncer = ProxySyncer(config: ProxySyncerTests.config, node: ProxySyncerTests.node, target: target, conntrack: nil, logger: logger)
        var config = ProxyRunnerConfig(nodeName: "node-a")
        config.minSyncPeriod = .milliseconds(600)
        config.metricsAddress = nil
        config.healthzAddress = nil
        let runner = ProxyRunner(client: client, syncer: syncer, config: config, logger: logger)
        let running = Task { try await runner.run() }
        defer { running.cancel() }

        func kernelHas(_ ip: String) -> Bool { target.kernel.nftText().contains(ip) }
        #expect(await waitUntil { kernelHas("10.96.0.1") }, "the first sync programs the kubernetes Service")
        let before = target.applied.count
        // Twenty Services, as fast as the API takes them.
        for i in 0..<20 {
            var service = Service(metadata: ObjectMeta(name: "s\(i)", namespace: "default"))
            service.spec.clusterIP = "10.96.1.\(i + 10)"
            service.spec.ports = [ServicePort(name: "p", protocol: .tcp, port: 80)]
            _ = try await client.create(service, namespace: "default")
        }
        #expect(await waitUntil { (0..<20).allSatisfy { kernelHas("10.96.1.\($0 + 10)") } }, "every Service is programmed")
        let syncs = target.applied.count - before
        #expect(syncs >= 1 && syncs <= 4, "20 changes in \(syncs) syncs")
        let times = target.appliedAt
        for (a, b) in zip(times, times.dropFirst()) {
            #expect(b - a >= .milliseconds(550), "syncs \(b - a) apart, below minSyncPeriod")
        }
        running.cancel()
        _ = await running.result
        try? await client.shutdown()
    }
}
