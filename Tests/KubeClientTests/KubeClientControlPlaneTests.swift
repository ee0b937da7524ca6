import ControlPlane
import Foundation
import KubeAPI
import KubeClient
import Logging
import Testing
import TestSupport

/// KubeClient against kproxy's own control plane over TLS with the kubeconfig it writes.
@Suite(.serialized) struct KubeClientControlPlaneTests {
    struct Harness {
        let dir: String
        let server: ControlPlaneServer
        let run: Task<Void, Never>
        let client: KubeClient

        static func start() async throws -> Harness {
            let dir = NSTemporaryDirectory() + "kproxy-kc-\(UUID().uuidString.prefix(8))"
            var config = ControlPlaneConfig(dataDir: dir)
            config.listenPort = 0
            config.historyLimit = 50
            var logger = Logger(label: "test")
            logger.logLevel = .warning
            let server = try await ControlPlaneServer.start(config, logger: logger)
            let run = Task { await server.run() }
            let clientConfig = try Kubeconfig.parse(yaml: server.kubeconfig(), directory: dir).clientConfig()
            return Harness(dir: dir, server: server, run: run, client: try KubeClient(config: clientConfig))
        }

        func stop() async {
            try? await client.shutdown()
            run.cancel()
            await run.value
            try? FileManager.default.removeItem(atPath: dir)
        }
    }

    static func service(_ name: String, port: Int = 80) -> Service {
        var s = Service(metadata: ObjectMeta(name: name, namespace: "default", labels: ["app": name]))
        var p = ServicePort()
        p.port = port
        s.spec.ports = [p]
        return s
    }

    /// A node component's Events over the API: the first creates, a repeat bumps `count` by merge patch, a
    /// deleted Event is created anew.
    @Test func eventRecorderCorrelatesRepeats() async throws {
        let h = try await Harness.start()
        do {
            var logger = Logger(label: "test")
            logger.logLevel = .warning
            let recorder = KubeEventRecorder(client: h.client, component: "kproxy-proxy", host: "node-a", logger: logger)
            let node = ObjectReference(kind: "Node", name: "node-a", uid: "node-a", apiVersion: "v1")
            let failure = EventRecord(involvedObject: node, type: .warning, reason: "SyncProxyRulesFailed", message: "boom")
            await recorder.record(failure)
            await recorder.record(failure)
            var events = try await h.client.list(Event.self, namespace: "default").items.filter { $0.reason == "SyncProxyRulesFailed" }
            #expect(events.count == 1 && events.first?.count == 2, "\(events)")
            #expect(events.first?.source == EventSource(component: "kproxy-proxy", host: "node-a"))
            _ = try await h.client.delete(Event.self, name: events.first?.name ?? "", namespace: "default")
            await recorder.record(failure)
            events = try await h.client.list(Event.self, namespace: "default").items.filter { $0.reason == "SyncProxyRulesFailed" }
            #expect(events.count == 1 && events.first?.count == 1, "recorded anew after deletion: \(events)")
        } catch {
            Issue.record(error)
        }
        await h.stop()
    }

    @Test func crudPaginationAndWatch() async throws {
        let h = try await Harness.start()
        do {
            let c = h.client
            let before = try await c.list(Service.self, namespace: "default")
            for i in 0..<5 { _ = try await c.create(Self.service("s\(i)"), namespace: "default") }
            let got = try await c.get(Service.self, name: "s3", namespace: "default")
            #expect(got.spec.clusterIP?.hasPrefix("10.") == true)
            #expect(got.spec.ports?.first?.targetPort == .int(80), "defaulted by the server")

            // pages of 2 followed to the end give every object once
            var options = KubeClient.ListOptions()
            options.limit = 2
            let all = try await c.list(Service.self, namespace: "default", options: options, allPages: true)
            #expect(all.items.map(\.name).sorted() == (before.items.map(\.name) + (0..<5).map { "s\($0)" }).sorted())

            // label selector
            let one = try await c.list(Service.self, namespace: "default", labelSelector: "app in (s1,s2)")
            #expect(one.items.map(\.name).sorted() == ["s1", "s2"])

            // a watch from the list's resourceVersion sees later changes only, in order
            let stream = c.watch(Service.self, namespace: "default", resourceVersion: all.metadata.resourceVersion, timeoutSeconds: 5)
            _ = try await c.patch(Service.self, name: "s1", namespace: "default", patchType: .merge, body: ["metadata": ["labels": ["tier": "web"]]])
            _ = try await c.delete(Service.self, name: "s2", namespace: "default")
            var seen: [String] = []
            for try await event in stream {
                switch event {
                case .modified(let s): seen.append("MODIFIED \(s.name) \(s.metadata.labels?["tier"] ?? "")")
                case .deleted(let s): seen.append("DELETED \(s.name)")
                case .added(let s): seen.append("ADDED \(s.name)")
                default: break
                }
                if seen.count == 2 { stream.stop(); break }
            }
            #expect(seen == ["MODIFIED s1 web", "DELETED s2"])

            // stale update → 409 Conflict surfaced as a Status
            var stale = got
            stale.metadata.resourceVersion = "1"
            await #expect(throws: KubeClientError.self) { _ = try await c.update(stale) }
        } catch {
            await h.stop()
            throw error
        }
        await h.stop()
    }

    @Test func watchFromCompactedRevisionIsExpiredAndInformerRecovers() async throws {
        let h = try await Harness.start()
        do {
            let c = h.client
            for i in 0..<80 { _ = try await c.create(Self.service("e\(i)"), namespace: "default") }
            _ = try await h.server.store.compact(keepLast: 10)
            let stream = c.watch(Service.self, namespace: "default", resourceVersion: "2", timeoutSeconds: 5)
            var expired = false
            for try await event in stream {
                if case .error(let status) = event { expired = status.code == 410; break }
            }
            #expect(expired, "a compacted revision is answered with 410 Expired")

            // an informer syncs and follows changes
            let informer = Informer(KubeListWatcher<Service>(client: c, namespace: "default"))
            let run = Task { await informer.run() }
            try await informer.waitForSync()
            #expect(informer.snapshot().count == 81)  // 80 + kubernetes
            _ = try await c.delete(Service.self, name: "e7", namespace: "default")
            _ = await waitUntil(within: .seconds(30)) { informer.get("default/e7") == nil }
            #expect(informer.get("default/e7") == nil)
            run.cancel()
            await run.value
        } catch {
            await h.stop()
            throw error
        }
        await h.stop()
    }
}
