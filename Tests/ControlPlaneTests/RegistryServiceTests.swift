import Foundation
import KubeAPI
import Testing
@testable import ControlPlane
import Values

@Suite("Registry: Service allocations")
struct RegistryServiceTests {
    @Test func clusterIPComesFromTheRange() async throws {
        try await Cluster.with { c in
            let a = try await c.services.create(makeService("a"), namespace: "default")
            let b = try await c.services.create(makeService("b"), namespace: "default")
            let range = try #require(CIDR(Cluster.serviceCIDR))
            for s in [a, b] {
                let ip = try #require(IPAddress(s.spec.clusterIP ?? ""))
                #expect(range.contains(ip))
                #expect(s.spec.clusterIPs == [ip.description])
                #expect(s.spec.ipFamilies == [.ipv4])
                #expect(s.spec.ipFamilyPolicy == .singleStack)
            }
            #expect(a.spec.clusterIP != b.spec.clusterIP)
        }
    }

    @Test func requestedClusterIPIsHonoured() async throws {
        try await Cluster.with { c in
            let s = try await c.services.create(makeService("a", clusterIP: "10.96.0.200"), namespace: "default")
            #expect(s.spec.clusterIP == "10.96.0.200")
        }
    }

    @Test(arguments: ["10.96.0.200", "10.97.0.1"])
    func requestedClusterIPTakenOrOutOfRangeIsInvalid(_ ip: String) async throws {
        try await Cluster.with { c in
            _ = try await c.services.create(makeService("first", clusterIP: "10.96.0.200"), namespace: "default")
            let failure = await status { try await c.services.create(makeService("second", clusterIP: ip), namespace: "default") }
            #expect(failure?.code == 422)
            #expect(failure?.details?.causes?.first?.field == "spec.clusterIPs[0]")
        }
    }

    @Test func headlessGetsNoAddress() async throws {
        try await Cluster.with { c in
            let s = try await c.services.create(makeService("h", clusterIP: "None"), namespace: "default")
            #expect(s.spec.clusterIP == "None")
            #expect(s.allocatedClusterIPs.isEmpty)
        }
    }

    @Test(arguments: [ServiceType.nodePort, .loadBalancer])
    func nodePortsAreAllocatedInRange(_ type: ServiceType) async throws {
        try await Cluster.with { c in
            let ports = [ServicePort(name: "a", port: 80), ServicePort(name: "b", port: 81)]
            let s = try await c.services.create(makeService("np", type: type, ports: ports), namespace: "default")
            let nodePorts = (s.spec.ports ?? []).compactMap(\.nodePort)
            #expect(nodePorts.count == 2)
            #expect(Set(nodePorts).count == 2)
            #expect(nodePorts.allSatisfy { Cluster.nodePortRange.contains($0) })
        }
    }

    @Test func clusterIPServicesHoldNoNodePorts() async throws {
        try await Cluster.with { c in
            let s = try await c.services.create(makeService("c"), namespace: "default")
            #expect(s.spec.ports?.first?.nodePort == nil)
        }
    }

    @Test func nodePortIsUniquePerPortAndProtocol() async throws {
        try await Cluster.with { c in
            let tcp = [ServicePort(name: "a", protocol: .tcp, port: 53, nodePort: 30053)]
            _ = try await c.services.create(makeService("tcp", type: .nodePort, ports: tcp), namespace: "default")
            let again = await status { try await c.services.create(makeService("tcp2", type: .nodePort, ports: tcp), namespace: "default") }
            #expect(again?.code == 422)
            #expect(again?.details?.causes?.first?.field == "spec.ports[0].nodePort")
            let udp = [ServicePort(name: "a", protocol: .udp, port: 53, nodePort: 30053)]
            let s = try await c.services.create(makeService("udp", type: .nodePort, ports: udp), namespace: "default")
            #expect(s.spec.ports?.first?.nodePort == 30053)
        }
    }

    @Test func deleteReleasesAllocations() async throws {
        try await Cluster.with { c in
            let ports = [ServicePort(name: "a", port: 80, nodePort: 30080)]
            _ = try await c.services.create(makeService("one", type: .nodePort, ports: ports, clusterIP: "10.96.0.50"), namespace: "default")
            _ = try await c.services.delete(namespace: "default", name: "one")
            let reused = try await c.services.create(makeService("two", type: .nodePort, ports: ports, clusterIP: "10.96.0.50"), namespace: "default")
            #expect(reused.spec.clusterIP == "10.96.0.50")
            #expect(reused.spec.ports?.first?.nodePort == 30080)
        }
    }

    @Test func failedCreateGivesAllocationsBack() async throws {
        try await Cluster.with { c in
            _ = try await c.services.create(makeService("dup", clusterIP: "10.96.0.60"), namespace: "default")
            // Same name: the store rejects the write after the hooks allocated 30090 and 10.96.0.61.
            let ports = [ServicePort(name: "a", port: 80, nodePort: 30090)]
            let failure = await status { try await c.services.create(makeService("dup", type: .nodePort, ports: ports, clusterIP: "10.96.0.61"), namespace: "default") }
            #expect(failure?.code == 409)
            let s = try await c.services.create(makeService("other", type: .nodePort, ports: ports, clusterIP: "10.96.0.61"), namespace: "default")
            #expect(s.spec.ports?.first?.nodePort == 30090)
        }
    }

    @Test func updateThatOmitsAllocatedValuesKeepsThem() async throws {
        try await Cluster.with { c in
            let created = try await c.services.create(makeService("np", type: .nodePort), namespace: "default")
            // What `kubectl replace` sends: the manifest, without clusterIP or nodePort.
            var manifest = makeService("np", type: .nodePort)
            manifest.metadata.labels = ["x": "y"]
            let updated = try await c.services.update(manifest, namespace: "default", name: "np")
            #expect(updated.spec.clusterIP == created.spec.clusterIP)
            #expect(updated.spec.clusterIPs == created.spec.clusterIPs)
            #expect(updated.spec.ports?.first?.nodePort == created.spec.ports?.first?.nodePort)
            #expect(updated.metadata.labels == ["x": "y"])
            #expect(updated.metadata.generation == 1)  // the filled-in spec equals the old one
        }
    }

    @Test func invalidUpdateGivesAllocationsBack() async throws {
        try await Cluster.with { c in
            var s = try await c.services.create(makeService("v"), namespace: "default")
            s.spec.type = .nodePort
            s.spec.ports?[0].nodePort = 30066
            s.spec.sessionAffinity = "Sometimes"  // invalid: the update fails after the hooks took 30066
            let failure = await status { try await c.services.update(s, namespace: "default", name: "v") }
            #expect(failure?.code == 422)
            let other = try await c.services.create(makeService("o", type: .nodePort, ports: [ServicePort(name: "a", port: 80, nodePort: 30066)]), namespace: "default")
            #expect(other.spec.ports?.first?.nodePort == 30066)
        }
    }

    @Test func dryRunUpdateGivesAllocationsBack() async throws {
        try await Cluster.with { c in
            var s = try await c.services.create(makeService("d"), namespace: "default")
            s.spec.type = .nodePort
            s.spec.ports?[0].nodePort = 30067
            let preview = try await c.services.update(s, namespace: "default", name: "d", dryRun: true)
            #expect(preview.spec.ports?.first?.nodePort == 30067)
            #expect(try await c.services.get(namespace: "default", name: "d").type == .clusterIP)
            let other = try await c.services.create(makeService("o", type: .nodePort, ports: [ServicePort(name: "a", port: 80, nodePort: 30067)]), namespace: "default")
            #expect(other.spec.ports?.first?.nodePort == 30067)
        }
    }

    @Test func changingClusterIPIsInvalid() async throws {
        try await Cluster.with { c in
            var s = try await c.services.create(makeService("a"), namespace: "default")
            s.spec.clusterIP = "10.96.0.222"
            s.spec.clusterIPs = ["10.96.0.222"]
            let failure = await status { try await c.services.update(s, namespace: "default", name: "a") }
            #expect(failure?.code == 422)
        }
    }

    @Test func typeChangesAllocateAndRelease() async throws {
        try await Cluster.with { c in
            let created = try await c.services.create(makeService("t", ports: [ServicePort(name: "a", port: 80, nodePort: nil)]), namespace: "default")
            var toNodePort = created
            toNodePort.spec.type = .nodePort
            toNodePort.spec.ports?[0].nodePort = 30077
            let asNodePort = try await c.services.update(toNodePort, namespace: "default", name: "t")
            #expect(asNodePort.spec.ports?.first?.nodePort == 30077)
            #expect(asNodePort.spec.externalTrafficPolicy == .cluster)  // defaulted for the new type

            var back = asNodePort
            back.spec.type = .clusterIP
            back.spec.externalTrafficPolicy = nil
            let asClusterIP = try await c.services.update(back, namespace: "default", name: "t")
            #expect(asClusterIP.spec.ports?.first?.nodePort == nil)
            // 30077 is free again.
            let other = try await c.services.create(makeService("o", type: .nodePort, ports: [ServicePort(name: "a", port: 80, nodePort: 30077)]), namespace: "default")
            #expect(other.spec.ports?.first?.nodePort == 30077)
        }
    }

    @Test func healthCheckNodePortForLocalLoadBalancers() async throws {
        try await Cluster.with { c in
            var lb = makeService("lb", type: .loadBalancer)
            lb.spec.externalTrafficPolicy = .local
            let created = try await c.services.create(lb, namespace: "default")
            let hc = try #require(created.spec.healthCheckNodePort)
            #expect(Cluster.nodePortRange.contains(hc))
            #expect(hc != created.spec.ports?.first?.nodePort)

            var cluster = created
            cluster.spec.externalTrafficPolicy = .cluster
            let updated = try await c.services.update(cluster, namespace: "default", name: "lb")
            #expect(updated.spec.healthCheckNodePort == nil)
            // The health check port went back to the pool.
            let reuse = try await c.services.create(makeService("r", type: .nodePort, ports: [ServicePort(name: "a", port: 80, nodePort: hc)]), namespace: "default")
            #expect(reuse.spec.ports?.first?.nodePort == hc)
        }
    }

    @Test func allocationsSurviveARestart() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("kproxy-cp-restart-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var config = ControlPlaneConfig(dataDir: directory)
        config.listenPort = 0
        config.serviceCIDR = "10.100.0.0/28"
        config.nodePortRange = 30000...30001

        let first = try await ControlPlaneServer.start(config, logger: silentLogger)
        let firstRun = Task { await first.run() }
        let created = try await first.services.create(makeService("web", type: .nodePort, ports: [ServicePort(name: "a", port: 80)]), namespace: "default")
        let kubernetes = try await first.services.get(namespace: "default", name: "kubernetes")
        #expect(kubernetes.spec.clusterIP == "10.100.0.1")
        firstRun.cancel()
        await firstRun.value  // closes the store

        let second = try await ControlPlaneServer.start(config, logger: silentLogger)
        let secondRun = Task { await second.run() }
        defer { secondRun.cancel() }
        let again = try await second.services.create(makeService("next", type: .nodePort, ports: [ServicePort(name: "a", port: 80)]), namespace: "default")
        #expect(again.spec.clusterIP != created.spec.clusterIP)
        #expect(again.spec.clusterIP != "10.100.0.1")
        #expect(again.spec.ports?.first?.nodePort != created.spec.ports?.first?.nodePort)
        // Both node ports of the two-port range are now held.
        let full = await status { try await second.services.create(makeService("third", type: .nodePort), namespace: "default") }
        #expect(full?.code == 500)
        secondRun.cancel()
        await secondRun.value
    }
}
