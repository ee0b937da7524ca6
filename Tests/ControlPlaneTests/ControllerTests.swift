import Foundation
import KubeAPI
import Testing
@testable import ControlPlane
import Values

/// Runs a controller for the duration of `body`, then cancels it and waits for it to end.
func whileRunning<R>(_ run: @escaping @Sendable () async -> Void, _ body: () async throws -> R) async throws -> R {
    let task = Task { await run() }
    do {
        let result = try await body()
        task.cancel()
        await task.value
        return result
    } catch {
        task.cancel()
        await task.value
        throw error
    }
}

@Suite("Controllers: EndpointSlice and node IPAM, in process")
struct ControllerTests {
    /// Addresses of the slices of `service`, by readiness: "10.1.0.1" ready, "10.1.0.1(terminating)" otherwise.
    static func endpoints(_ c: Cluster, service: String) async throws -> Set<String> {
        var options = ListOptions()
        options.labelSelector = try LabelSelector(parsing: "\(EndpointSlice.serviceNameLabel)=\(service)")
        var result = Set<String>()
        for slice in try await c.slices.list(namespace: "default", options: options).items {
            for e in slice.endpoints {
                for a in e.addresses { result.insert(e.conditions.terminating == true ? "\(a)(terminating)" : a) }
            }
        }
        return result
    }

    @Test func endpointSlicesFollowPodsAndTheService() async throws {
        try await Cluster.with { c in
            let ports = [ServicePort(name: "http", port: 80, targetPort: .int(8080))]
            let service = try await c.services.create(makeService("web", ports: ports, selector: ["app": "web"]), namespace: "default")
            _ = try await c.pods.create(makePod("a", labels: ["app": "web"], ip: "10.1.0.1"), namespace: "default")
            _ = try await c.pods.create(makePod("b", labels: ["app": "web"], node: "node-1", ip: "10.1.0.2"), namespace: "default")
            _ = try await c.pods.create(makePod("other", labels: ["app": "db"], ip: "10.1.0.9"), namespace: "default")
            let controller = EndpointSliceController(services: c.services, pods: c.pods, slices: c.slices, logger: silentLogger)
            try await whileRunning({ await controller.run() }) {
                await eventually("slices for both pods") { (try? await Self.endpoints(c, service: "web")) == ["10.1.0.1", "10.1.0.2"] }
                let slices = try await c.slices.list(namespace: "default").items
                #expect(slices.count == 1)
                let slice = try #require(slices.first)
                #expect(slice.metadata.labels?[EndpointSlice.managedByLabel] == EndpointSliceReconciler.managedBy)
                #expect(slice.metadata.ownerReferences?.first?.uid == service.metadata.uid)
                #expect(slice.ports?.first?.port == 8080)
                #expect(slice.addressType == .ipv4)

                // A pod that starts matching later joins.
                _ = try await c.pods.guaranteedUpdate(namespace: "default", name: "other") { var p = $0; p.metadata.labels = ["app": "web"]; return p }
                await eventually("the relabelled pod") { (try? await Self.endpoints(c, service: "web")) == ["10.1.0.1", "10.1.0.2", "10.1.0.9"] }

                // An unbound pod goes at once; a bound one terminates first.
                _ = try await c.pods.delete(namespace: "default", name: "a")
                _ = try await c.pods.delete(namespace: "default", name: "b")
                await eventually("removed and terminating endpoints") {
                    (try? await Self.endpoints(c, service: "web")) == ["10.1.0.2(terminating)", "10.1.0.9"]
                }
                _ = try await c.pods.delete(namespace: "default", name: "b", options: DeleteOptions(gracePeriodSeconds: 0))
                await eventually("the terminated pod's endpoint to go") { (try? await Self.endpoints(c, service: "web")) == ["10.1.0.9"] }

                _ = try await c.services.delete(namespace: "default", name: "web")
                await eventually("the slices to go with the Service") { (try? await c.slices.list(namespace: "default").items.isEmpty) == true }
            }
        }
    }

    @Test func servicesWithoutSelectorGetNoSlices() async throws {
        try await Cluster.with { c in
            _ = try await c.services.create(makeService("manual"), namespace: "default")
            _ = try await c.services.create(makeService("web", selector: ["app": "web"]), namespace: "default")
            _ = try await c.pods.create(makePod("a", labels: ["app": "web"], ip: "10.1.0.1"), namespace: "default")
            let controller = EndpointSliceController(services: c.services, pods: c.pods, slices: c.slices, logger: silentLogger)
            try await whileRunning({ await controller.run() }) {
                await eventually("the selector Service's slice") { (try? await Self.endpoints(c, service: "web")) == ["10.1.0.1"] }
                let all = try await c.slices.list(namespace: "default").items
                #expect(all.count == 1)
            }
        }
    }

    @Test func nodesGetDistinctPodCIDRsAndFreedOnesAreReused() async throws {
        try await Cluster.with { c in
            // Two /24s in the cluster CIDR: a third node must wait for one to be freed.
            let clusterCIDR = try #require(CIDR("10.244.0.0/23"))
            let events = FakeEventSink()
            let ipam = try NodeIPAMController(nodes: c.nodes, clusterCIDR: clusterCIDR, maskSize: 24, logger: silentLogger, events: events)
            _ = try await c.nodes.create(makeNode("a"), namespace: nil)
            try await whileRunning({ await ipam.run() }) {
                _ = try await c.nodes.create(makeNode("b"), namespace: nil)
                func cidr(_ name: String) async -> String? { try? await c.nodes.get(namespace: nil, name: name).spec.podCIDR }
                await eventually("both nodes to get a range") {
                    let (x, y) = (await cidr("a"), await cidr("b"))
                    return x != nil && y != nil
                }
                let a = await cidr("a"), b = await cidr("b")
                #expect(Set([a, b]) == ["10.244.0.0/24", "10.244.1.0/24"])
                let nodeA = try await c.nodes.get(namespace: nil, name: "a")
                #expect(nodeA.spec.podCIDRs == [a ?? ""])

                _ = try await c.nodes.create(makeNode("c"), namespace: nil)
                // The range is full: the controller says so, and c stays without one.
                await eventually("CIDRNotAvailable for c") { events.records.contains { $0.reason == "CIDRNotAvailable" && $0.involvedObject.name == "c" } }
                #expect(await cidr("c") == nil)
                _ = try await c.nodes.delete(namespace: nil, name: "a")
                // The waiting node gets the freed range, as upstream's retrying work queue would give it.
                await eventually("the freed range to be reused") { await cidr("c") == a }
            }
        }
    }

    @Test func administratorSetRangesAreRespected() async throws {
        try await Cluster.with { c in
            let clusterCIDR = try #require(CIDR("10.244.0.0/23"))
            var preset = makeNode("preset")
            preset.spec.podCIDR = "10.244.0.0/24"
            preset.spec.podCIDRs = ["10.244.0.0/24"]
            _ = try await c.nodes.create(preset, namespace: nil)
            let ipam = try NodeIPAMController(nodes: c.nodes, clusterCIDR: clusterCIDR, maskSize: 24, logger: silentLogger)
            try await whileRunning({ await ipam.run() }) {
                _ = try await c.nodes.create(makeNode("new"), namespace: nil)
                await eventually("the new node's range") {
                    (try? await c.nodes.get(namespace: nil, name: "new").spec.podCIDR) == "10.244.1.0/24"
                }
            }
        }
    }
}
