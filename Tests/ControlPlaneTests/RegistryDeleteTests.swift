import Foundation
import KubeAPI
import Synchronization
import Testing
@testable import ControlPlane

@Suite("Registry: delete")
struct RegistryDeleteTests {
    @Test(arguments: [Preconditions(uid: "wrong"), Preconditions(resourceVersion: "1")])
    func failedPreconditionsConflict(_ preconditions: Preconditions) async throws {
        try await Cluster.with { c in
            _ = try await c.pods.create(makePod("web"), namespace: "default")
            let failure = await status { try await c.pods.delete(namespace: "default", name: "web", options: DeleteOptions(preconditions: preconditions)) }
            #expect(failure?.code == 409)
            #expect(failure?.reason == "Conflict")
            _ = try await c.pods.get(namespace: "default", name: "web")
        }
    }

    @Test func matchingPreconditionsDelete() async throws {
        try await Cluster.with { c in
            let pod = try await c.pods.create(makePod("web"), namespace: "default")
            let options = DeleteOptions(preconditions: Preconditions(uid: pod.metadata.uid, resourceVersion: pod.metadata.resourceVersion))
            let outcome = try await c.pods.delete(namespace: "default", name: "web", options: options)
            guard case .deleted = outcome else { Issue.record("expected an immediate delete"); return }
            #expect(await status { try await c.pods.get(namespace: "default", name: "web") }?.code == 404)
        }
    }

    @Test func deletingAMissingObjectIsNotFound() async throws {
        try await Cluster.with { c in
            #expect(await status { try await c.pods.delete(namespace: "default", name: "ghost") }?.code == 404)
        }
    }

    @Test func unboundPodVanishesAtOnce() async throws {
        try await Cluster.with { c in
            _ = try await c.pods.create(makePod("web"), namespace: "default")
            guard case .deleted = try await c.pods.delete(namespace: "default", name: "web") else { Issue.record("unbound pod was kept"); return }
            let left = try await c.pods.list(namespace: "default").items
            #expect(left.isEmpty)
        }
    }

    @Test func boundPodIsMarkedWithItsGracePeriod() async throws {
        try await Cluster.with { c in
            _ = try await c.pods.create(makePod("web", node: "node-1", grace: 20), namespace: "default")
            let outcome = try await c.pods.delete(namespace: "default", name: "web")
            guard case .marked(let pod) = outcome else { Issue.record("bound pod deleted at once"); return }
            #expect(pod.metadata.deletionGracePeriodSeconds == 20)
            #expect(pod.metadata.deletionTimestamp == "2026-01-01T00:00:20Z")
            // A shorter grace period replaces it; a longer one does not.
            guard case .marked(let shorter) = try await c.pods.delete(namespace: "default", name: "web", options: DeleteOptions(gracePeriodSeconds: 5)) else {
                Issue.record("expected the pod to stay"); return
            }
            #expect(shorter.metadata.deletionGracePeriodSeconds == 5)
            guard case .marked(let longer) = try await c.pods.delete(namespace: "default", name: "web", options: DeleteOptions(gracePeriodSeconds: 60)) else {
                Issue.record("expected the pod to stay"); return
            }
            #expect(longer.metadata.deletionGracePeriodSeconds == 5)
            // Grace 0 forces it out.
            guard case .deleted = try await c.pods.delete(namespace: "default", name: "web", options: DeleteOptions(gracePeriodSeconds: 0)) else {
                Issue.record("force delete kept the pod"); return
            }
        }
    }

    @Test func podTerminatorRemovesPodsWhenTheirGraceEnds() async throws {
        try await Cluster.with { c in
            _ = try await c.pods.create(makePod("slow", node: "node-1", grace: 30), namespace: "default")
            _ = try await c.pods.create(makePod("keep", node: "node-1"), namespace: "default")
            _ = try await c.pods.delete(namespace: "default", name: "slow")
            let checks = ReadinessChecks()
            let terminator = PodTerminator(pods: c.pods, logger: silentLogger, now: { c.clock.now }, reporter: SyncReporter(checks, "terminator"))
            let running = Task { await terminator.run() }
            defer { running.cancel() }
            // Its deadline has not come: still there after the terminator's first rounds.
            await eventually("the terminator's informer synced") { checks.results().allSatisfy { $0.failure == nil } }
            let synced = terminator.rounds.count
            await eventually("a whole round after the sync") { terminator.rounds.count >= synced + 2 }
            _ = try await c.pods.get(namespace: "default", name: "slow")
            c.clock.advance(31)
            await eventually("the terminated pod to go") {
                await status { try await c.pods.get(namespace: "default", name: "slow") }?.code == 404
            }
            _ = try await c.pods.get(namespace: "default", name: "keep")
            running.cancel()
            await running.value
        }
    }

    /// A pod on a node whose agent is alive is left to the agent past its deadline; once the agent is gone
    /// (its Lease no longer renewed), the terminator removes it.
    @Test func podTerminatorLeavesPodsToALiveAgent() async throws {
        try await Cluster.with { c in
            _ = try await c.pods.create(makePod("agented", node: "node-1", grace: 1), namespace: "default")
            _ = try await c.pods.delete(namespace: "default", name: "agented")
            let agent = Mutex(true)
            let checks = ReadinessChecks()
            let terminator = PodTerminator(pods: c.pods, logger: silentLogger, now: { c.clock.now }, reporter: SyncReporter(checks, "terminator"),
                                           hasAgent: { node in node == "node-1" && agent.withLock { $0 } })
            let running = Task { await terminator.run() }
            defer { running.cancel() }
            await eventually("the terminator's informer synced") { checks.results().allSatisfy { $0.failure == nil } }
            c.clock.advance(2)
            let after = terminator.rounds.count
            await eventually("two rounds past the deadline") { terminator.rounds.count >= after + 2 }
            _ = try await c.pods.get(namespace: "default", name: "agented")
            agent.withLock { $0 = false }
            c.clock.advance(6)
            await eventually("removed once no agent will") {
                await status { try await c.pods.get(namespace: "default", name: "agented") }?.code == 404
            }
            running.cancel()
            await running.value
        }
    }

    @Test func finalizersKeepTheObjectUntilRemoved() async throws {
        try await Cluster.with { c in
            var pod = makePod("web")
            pod.metadata.finalizers = ["example.com/hold"]
            _ = try await c.pods.create(pod, namespace: "default")
            guard case .marked(let marked) = try await c.pods.delete(namespace: "default", name: "web") else {
                Issue.record("finalized pod deleted at once"); return
            }
            #expect(marked.metadata.deletionTimestamp == "2026-01-01T00:00:00Z")
            #expect(marked.metadata.deletionGracePeriodSeconds == 0)
            var released = marked
            released.metadata.finalizers = nil
            _ = try await c.pods.update(released, namespace: "default", name: "web")
            #expect(await status { try await c.pods.get(namespace: "default", name: "web") }?.code == 404)
        }
    }

    @Test func deleteCollectionHonoursSelectors() async throws {
        try await Cluster.with { c in
            _ = try await c.pods.create(makePod("a", labels: ["tier": "web"]), namespace: "default")
            _ = try await c.pods.create(makePod("b", labels: ["tier": "db"]), namespace: "default")
            var options = ListOptions()
            options.labelSelector = try LabelSelector(parsing: "tier=web")
            let deleted = try await c.pods.deleteCollection(namespace: "default", listOptions: options, options: DeleteOptions())
            #expect(deleted.map(\.name) == ["a"])
            #expect(try await c.pods.list(namespace: nil).items.map(\.name) == ["b"])
        }
    }

    @Test func dryRunDeleteKeepsTheObject() async throws {
        try await Cluster.with { c in
            _ = try await c.pods.create(makePod("web"), namespace: "default")
            _ = try await c.pods.delete(namespace: "default", name: "web", dryRun: true)
            _ = try await c.pods.get(namespace: "default", name: "web")
        }
    }

    @Test func namespaceDeletionPurgesContentsThenGoes() async throws {
        try await Cluster.with { c in
            _ = try await c.namespaces.create(Namespace(metadata: ObjectMeta(name: "team")), namespace: nil)
            let ns = try await c.namespaces.get(namespace: nil, name: "team")
            #expect(ns.spec.finalizers == ["kubernetes"])
            #expect(ns.status.phase == .active)
            _ = try await c.services.create(makeService("web", namespace: "team", type: .nodePort,
                                                       ports: [ServicePort(name: "a", port: 80, nodePort: 30011)]), namespace: "team")
            _ = try await c.pods.create(makePod("bound", namespace: "team", node: "node-1"), namespace: "team")
            _ = try await c.pods.create(makePod("other", namespace: "default"), namespace: "default")

            guard case .marked(let terminating) = try await c.namespaces.delete(namespace: nil, name: "team") else {
                Issue.record("namespace deleted before its contents"); return
            }
            #expect(terminating.status.phase == .terminating)

            let controller = NamespaceController(namespaces: c.namespaces, purgers: c.purgers, logger: silentLogger)
            let running = Task { await controller.run() }
            defer { running.cancel() }
            await eventually("the namespace to go") {
                await status { try await c.namespaces.get(namespace: nil, name: "team") }?.code == 404
            }
            #expect(try await c.pods.list(namespace: "team").items.isEmpty)
            #expect(try await c.services.list(namespace: "team").items.isEmpty)
            #expect(try await c.pods.list(namespace: "default").items.map(\.name) == ["other"])
            // The purged Service's node port is free again.
            let reuse = try await c.services.create(makeService("again", type: .nodePort, ports: [ServicePort(name: "a", port: 80, nodePort: 30011)]), namespace: "default")
            #expect(reuse.spec.ports?.first?.nodePort == 30011)
            running.cancel()
            await running.value
        }
    }

    /// A DELETE without preconditions must not lose to a writer that keeps the object busy (upstream's
    /// GuaranteedUpdate retries): kubectl's `delete deployment` once answered 409 while the controller
    /// was updating the Deployment's status, the retries having all read the state before a pending write.
    @Test func deleteWinsAgainstABusyWriter() async throws {
        try await Cluster.with { c in
            for round in 0..<20 {
                let name = "busy-\(round)"
                _ = try await c.pods.create(makePod(name), namespace: "default")
                let writer = Task {
                    var writes = 0
                    while !Task.isCancelled {
                        let count = "\(writes)"
                        do {
                            _ = try await c.pods.guaranteedUpdate(namespace: "default", name: name) { pod in
                                var pod = pod
                                pod.metadata.annotations = ["writes": count]
                                return pod
                            }
                            writes += 1
                        } catch { return writes }
                    }
                    return writes
                }
                // Let the writer get going, so a write is pending when the delete reads.
                while try await c.pods.get(namespace: "default", name: name).metadata.annotations?["writes"] == nil { await Task.yield() }
                let outcome = await status { try await c.pods.delete(namespace: "default", name: name) }
                #expect(outcome == nil, "round \(round): \(outcome?.message ?? "")")
                writer.cancel()
                _ = await writer.value
                #expect(await status { try await c.pods.get(namespace: "default", name: name) }?.code == 404)
            }
        }
    }
}
