import Foundation
import KubeAPI
import Testing
@testable import ControlPlane

/// The pure cores of the scheduler, the ReplicaSet and Deployment controllers: table-driven.
@Suite("Workloads: scheduling, ReplicaSet and Deployment plans")
struct WorkloadPlanTests {
    static let now = Date(timeIntervalSince1970: 1_800_000_000)

    static func node(_ name: String, ready: Bool = true, cordoned: Bool = false, labels: [String: String]? = nil) -> Node {
        var n = Node()
        n.metadata = ObjectMeta(name: name, labels: labels)
        n.spec.unschedulable = cordoned ? true : nil
        var c = NodeCondition()
        c.type = .ready; c.status = ready ? .true : .false
        n.status.conditions = [c]
        return n
    }

    static func pod(_ name: String, owner: String? = "rs-uid", labels: [String: String] = ["app": "web"], node: String? = "n1",
                    ready: Bool = true, phase: PodPhase = .running, created: String = "2026-01-01T00:00:00Z", deleting: Bool = false) -> Pod {
        var meta = ObjectMeta(name: name, namespace: "default", labels: labels)
        meta.creationTimestamp = created
        if let owner { meta.ownerReferences = [OwnerReference(apiVersion: "apps/v1", kind: "ReplicaSet", name: "rs", uid: owner, controller: true)] }
        if deleting { meta.deletionTimestamp = "2026-01-01T00:01:00Z" }
        var p = Pod(metadata: meta, spec: PodSpec(containers: [Container(name: "c", image: "x")], nodeName: node))
        p.status.phase = phase
        p.status.conditions = [PodCondition(type: .ready, status: ready ? .true : .false, lastTransitionTime: "2026-01-01T00:00:00Z")]
        return p
    }

    static func replicaSet(replicas: Int) -> ReplicaSet {
        var meta = ObjectMeta(name: "rs", namespace: "default")
        meta.uid = "rs-uid"; meta.generation = 4
        var spec = ReplicaSetSpec()
        spec.replicas = replicas
        spec.selector = LabelSelectorSpec(matchLabels: ["app": "web"])
        spec.template = PodTemplateSpec(metadata: ObjectMeta(labels: ["app": "web"]), spec: PodSpec(containers: [Container(name: "c", image: "x")]))
        return ReplicaSet(metadata: meta, spec: spec)
    }

    // MARK: scheduler

    @Test("the scheduler picks the feasible node with the fewest pods", arguments: [
        (["a": 2, "b": 1, "c": 0], ["c"], "b"),        // c is cordoned
        (["a": 0, "b": 0, "c": 0], [], "a"),           // ties go by name
        (["a": 3, "b": 5, "c": 4], ["a"], "c"),
    ])
    func fewestPods(counts: [String: Int], cordoned: [String], expected: String) {
        let nodes = ["a", "b", "c"].map { Self.node($0, cordoned: cordoned.contains($0)) }
        #expect(SchedulingPolicy.decide(Self.pod("p", node: nil), nodes: nodes, podCounts: counts) == .bind(expected))
    }

    @Test("nodeSelector, readiness, cordons and taints exclude nodes, with upstream's summary")
    func exclusions() {
        var pod = Self.pod("p", node: nil)
        pod.spec.nodeSelector = ["disk": "ssd"]
        var tainted = Self.node("d", labels: ["disk": "ssd"])
        tainted.spec.taints = [Taint(key: "dedicated", value: "db", effect: .noSchedule)]
        let nodes = [Self.node("a", ready: false, labels: ["disk": "ssd"]), Self.node("b", cordoned: true, labels: ["disk": "ssd"]),
                     Self.node("c", labels: ["disk": "hdd"]), tainted]
        #expect(SchedulingPolicy.decide(pod, nodes: nodes, podCounts: [:]) == .unschedulable(
            "0/4 nodes are available: 1 node(s) didn't match Pod's node affinity/selector, 1 node(s) had untolerated taint {dedicated: db}, 1 node(s) were not ready, 1 node(s) were unschedulable."))
        pod.spec.unknownFields.values["tolerations"] = [["key": "dedicated", "operator": "Equal", "value": "db", "effect": "NoSchedule"]]
        #expect(SchedulingPolicy.decide(pod, nodes: nodes, podCounts: [:]) == .bind("d"))
    }

    // MARK: ReplicaSet

    @Test("a ReplicaSet creates, deletes the most expendable, adopts and releases")
    func replicaSetPlan() {
        let pods = [
            Self.pod("old-ready", created: "2026-01-01T00:00:00Z"),
            Self.pod("new-ready", created: "2026-01-02T00:00:00Z"),
            Self.pod("not-ready", ready: false),
            Self.pod("unbound", node: nil, ready: false, phase: .pending),
            Self.pod("terminating", deleting: true),
            Self.pod("finished", phase: .succeeded),
            Self.pod("orphan", owner: nil, created: "2026-01-03T00:00:00Z"),
            Self.pod("relabelled", labels: ["app": "other"]),
            Self.pod("someone-else", owner: "other-uid"),
        ]
        // Active: old-ready, new-ready, not-ready, unbound, orphan (adopted) = 5.
        let down = ReplicaSetPlan.plan(Self.replicaSet(replicas: 2), pods: pods, now: Self.now)
        #expect(down.adopt == ["orphan"])
        #expect(down.release == ["relabelled"])
        #expect(down.create == 0)
        #expect(down.delete == ["unbound", "not-ready", "orphan"])
        #expect(down.status.replicas == 5 && down.status.readyReplicas == 3 && down.status.availableReplicas == 3)
        #expect(down.status.observedGeneration == 4)

        let up = ReplicaSetPlan.plan(Self.replicaSet(replicas: 8), pods: pods, now: Self.now)
        #expect(up.create == 3 && up.delete.isEmpty)
    }

    @Test("availability waits for minReadySeconds", arguments: [(0, 1), (30, 1), (31 * 24 * 3600 * 12 * 10, 0)])
    func minReady(seconds: Int, available: Int) {
        var rs = Self.replicaSet(replicas: 1)
        rs.spec.minReadySeconds = seconds
        #expect(ReplicaSetPlan.plan(rs, pods: [Self.pod("p")], now: Self.now).status.availableReplicas == available)
    }

    // MARK: Deployment

    static func deployment(replicas: Int, strategy: DeploymentStrategy? = nil, image: String = "v2") -> Deployment {
        var meta = ObjectMeta(name: "web", namespace: "default")
        meta.uid = "d-uid"; meta.generation = 2
        var spec = DeploymentSpec()
        spec.replicas = replicas
        spec.selector = LabelSelectorSpec(matchLabels: ["app": "web"])
        spec.template = PodTemplateSpec(metadata: ObjectMeta(labels: ["app": "web"]), spec: PodSpec(containers: [Container(name: "c", image: image)]))
        spec.strategy = strategy
        var d = Deployment(metadata: meta, spec: spec)
        d.applyDefaults()
        return d
    }

    /// A ReplicaSet of `d` for `image`, with its size, pods and available pods.
    static func owned(_ d: Deployment, image: String, size: Int, pods: Int, available: Int, revision: Int, created: String) -> ReplicaSet {
        var template = d
        template.spec.template.spec.containers[0].image = image
        template.spec.template.spec.applyDefaults()
        let hash = DeploymentPlan.templateHash(template.spec.template, collisionCount: 0)
        var rs = DeploymentPlan.newReplicaSet(template, hash: hash, replicas: size, revision: revision, maxSurge: 0)
        rs.metadata.uid = "uid-\(image)"
        rs.metadata.creationTimestamp = created
        rs.status.replicas = pods
        rs.status.readyReplicas = available
        rs.status.availableReplicas = available
        return rs
    }

    /// Rolling update of 10 replicas at 25 % / 25 % (surge 3, unavailable 2): each row is one step.
    @Test("a rolling update moves within maxSurge and maxUnavailable", arguments: [
        // (old size, old available, new size, new available) → (old size, new size)
        (10, 10, nil, 0, 8, 3),     // new ReplicaSet created at 3 (surge), old down by 2 (unavailable)
        (8, 8, 3, 0, 8, 5),         // new grows to fill the surge (13 total); old waits on availability
        (8, 8, 5, 3, 5, 5),         // 3 new available: old may drop to 5 (min available 8)
        (5, 5, 5, 5, 3, 8),         // new grows to 8 (surge); 3 of them not yet available, so old may lose only 2
        (0, 0, 8, 8, 0, 10),        // only the new one left: it takes the full count
    ] as [(Int, Int, Int?, Int, Int, Int)])
    func rollingStep(oldSize: Int, oldAvailable: Int, newSize: Int?, newAvailable: Int, expectOld: Int, expectNew: Int) {
        let d = Self.deployment(replicas: 10)
        var sets = [Self.owned(d, image: "v1", size: oldSize, pods: oldSize, available: oldAvailable, revision: 1, created: "2026-01-01T00:00:00Z")]
        if let newSize { sets.append(Self.owned(d, image: "v2", size: newSize, pods: newSize, available: newAvailable, revision: 2, created: "2026-01-02T00:00:00Z")) }
        let plan = DeploymentPlan.plan(d, replicaSets: sets, now: Self.now)
        let oldName = sets[0].name
        #expect((plan.scale[oldName] ?? oldSize) == expectOld)
        if newSize == nil {
            #expect(plan.create?.spec.replicas == expectNew)
            #expect(plan.create?.metadata.annotations?[Deployment.revisionAnnotation] == "2")
            #expect(plan.create?.spec.selector?.matchLabels?[Deployment.templateHashLabel] != nil)
            #expect(plan.create?.metadata.ownerReferences?.first?.uid == "d-uid")
        } else {
            #expect(plan.create == nil)
            #expect((plan.scale[sets[1].name] ?? newSize ?? 0) == expectNew)
        }
        #expect(plan.revision == 2)
    }

    /// `kubectl scale` mid-rollout: 10 replicas at 25 %/25 % rolling with old 8 and new 5 (both sized for 13);
    /// the change to replicas + maxSurge is shared in proportion, as upstream's example has it.
    @Test("scaling mid-rollout is proportional", arguments: [
        // (new replicas) → (old size, new size)
        (20, 15, 10),   // 25 allowed: old 8·25/13 ≈ 15, new 5·25/13 ≈ 10
        (5, 4, 3),      // 7 allowed: old 8·7/13 ≈ 4, new 5·7/13 ≈ 3
        (0, 0, 0),
    ])
    func proportionalScaling(replicas: Int, expectOld: Int, expectNew: Int) {
        let before = Self.deployment(replicas: 10)
        var old = Self.owned(before, image: "v1", size: 8, pods: 8, available: 8, revision: 1, created: "2026-01-01T00:00:00Z")
        var new = Self.owned(before, image: "v2", size: 5, pods: 5, available: 0, revision: 2, created: "2026-01-02T00:00:00Z")
        for i in [0, 1] {
            var rs = i == 0 ? old : new
            rs.metadata.annotations?[DeploymentPlan.maxReplicasAnnotation] = "13"
            if i == 0 { old = rs } else { new = rs }
        }
        var d = Self.deployment(replicas: replicas)
        d.status.replicas = 13
        let plan = DeploymentPlan.plan(d, replicaSets: [old, new], now: Self.now)
        #expect(plan.create == nil, "no rollout step in a scaling round")
        #expect((plan.scale[old.name] ?? 8) == expectOld)
        #expect((plan.scale[new.name] ?? 5) == expectNew)
        // Sized again, with the new annotations: the next round is a rollout step, not another scaling.
        #expect(Set(plan.scale.keys) == [old.name, new.name] || replicas == 0)
    }

    @Test("a paused Deployment is scaled but not rolled out")
    func pausedScalesWithoutRollingOut() {
        var d = Self.deployment(replicas: 6)
        d.spec.paused = true
        let old = Self.owned(Self.deployment(replicas: 3), image: "v1", size: 3, pods: 3, available: 3, revision: 1, created: "2026-01-01T00:00:00Z")
        let plan = DeploymentPlan.plan(d, replicaSets: [old], now: Self.now)
        #expect(plan.create == nil, "the new template waits for resume")
        #expect(plan.scale[old.name] == 6)
        d.spec.paused = false
        var resized = old
        resized.spec.replicas = 6
        resized.metadata.annotations?[DeploymentPlan.desiredReplicasAnnotation] = "6"
        #expect(DeploymentPlan.plan(d, replicaSets: [resized], now: Self.now).create != nil, "resumed: the rollout starts")
    }

    @Test("ReplicaFailure is set with its first transition kept, cleared by a working create, and mirrored on the Deployment")
    func replicaFailure() {
        let t1 = Self.now.addingTimeInterval(60)
        let failed = ReplicaSetStatus().withFailure("forbidden", now: Self.now)
        let again = failed.withFailure("forbidden again", now: t1)
        #expect(again.conditions?.count == 1 && again.conditions?.first?.message == "forbidden again")
        #expect(again.conditions?.first?.lastTransitionTime == KubeTime.format(Self.now))
        #expect(again.withFailure(nil, now: t1).conditions == nil)
        let d = Self.deployment(replicas: 2)
        var rs = Self.owned(d, image: "v2", size: 2, pods: 0, available: 0, revision: 1, created: "2026-01-01T00:00:00Z")
        rs.status = rs.status.withFailure("forbidden", now: Self.now)
        let status = DeploymentPlan.plan(d, replicaSets: [rs], now: Self.now).status
        let mirrored = status.conditions?.first { $0.type == "ReplicaFailure" }
        #expect(mirrored?.status == .true && mirrored?.reason == "FailedCreate" && mirrored?.message == "forbidden")
    }

    /// A ReplicaSet whose pods the API refuses (its namespace is terminating) reports ReplicaFailure.
    @Test func refusedCreatesSetReplicaFailure() async throws {
        try await Cluster.with { c in
            _ = try await c.namespaces.create(Namespace(metadata: ObjectMeta(name: "doomed")), namespace: nil)
            var rs = Self.replicaSet(replicas: 0)
            rs.metadata.namespace = "doomed"
            rs = try await c.replicaSets.create(rs, namespace: "doomed")
            _ = try await c.namespaces.delete(namespace: nil, name: "doomed")  // Terminating: no namespace controller runs here
            _ = try await c.replicaSets.guaranteedUpdate(namespace: "doomed", name: rs.name) { var copy = $0; copy.spec.replicas = 2; return copy }
            let controller = ReplicaSetController(replicaSets: c.replicaSets, pods: c.pods, logger: silentLogger)
            _ = try await whileRunning({ await controller.run() }) {
                await eventually("ReplicaFailure") {
                    let status = try? await c.replicaSets.get(namespace: "doomed", name: rs.name).status
                    return status?.conditions?.first?.type == "ReplicaFailure" && status?.conditions?.first?.reason == "FailedCreate"
                        && status?.conditions?.first?.message?.contains("being terminated") == true
                }
            }
        }
    }

    @Test("Recreate scales the old ReplicaSets to zero, waits for their pods, then starts the new one", arguments: [
        (3, 3, 0, 0),   // old still sized: scale it down first
        (0, 2, 0, 0),   // old pods still terminating: wait
        (0, 0, 0, 3),   // nothing old left: the new one gets every replica
    ])
    func recreate(oldSize: Int, oldPods: Int, expectOld: Int, expectNew: Int) {
        let d = Self.deployment(replicas: 3, strategy: DeploymentStrategy(type: DeploymentStrategy.recreateType))
        let old = Self.owned(d, image: "v1", size: oldSize, pods: oldPods, available: 0, revision: 1, created: "2026-01-01T00:00:00Z")
        let new = Self.owned(d, image: "v2", size: 0, pods: 0, available: 0, revision: 2, created: "2026-01-02T00:00:00Z")
        let plan = DeploymentPlan.plan(d, replicaSets: [old, new], now: Self.now)
        #expect((plan.scale[old.name] ?? oldSize) == expectOld)
        #expect((plan.scale[new.name] ?? 0) == expectNew)
    }

    @Test("a rollback bumps the old ReplicaSet's revision; history beyond the limit is pruned; status for rollout status")
    func revisionsHistoryStatus() {
        var d = Self.deployment(replicas: 2, image: "v1")
        d.spec.revisionHistoryLimit = 1
        let sets = [
            Self.owned(d, image: "v0", size: 0, pods: 0, available: 0, revision: 1, created: "2026-01-01T00:00:00Z"),
            Self.owned(d, image: "v1", size: 2, pods: 2, available: 2, revision: 2, created: "2026-01-02T00:00:00Z"),
            Self.owned(d, image: "v2", size: 0, pods: 0, available: 0, revision: 3, created: "2026-01-03T00:00:00Z"),
        ]
        let plan = DeploymentPlan.plan(d, replicaSets: sets, now: Self.now)
        #expect(plan.revisions == [sets[1].name: 4])
        #expect(plan.revision == 4)
        #expect(plan.delete == [sets[0].name])
        #expect(plan.status.updatedReplicas == 2 && plan.status.availableReplicas == 2 && plan.status.replicas == 2)
        #expect(plan.status.observedGeneration == 2)
        #expect(plan.status.conditions?.map(\.reason) == ["MinimumReplicasAvailable", "NewReplicaSetAvailable"])
    }

    @Test("maxSurge and maxUnavailable resolve as upstream's fenceposts", arguments: [
        ("25%", "25%", 10, 3, 2), ("0", "0", 4, 0, 1), ("1", "0", 4, 1, 0), ("50%", "30%", 3, 2, 0),
    ])
    func fenceposts(surge: String, unavailable: String, replicas: Int, expectSurge: Int, expectUnavailable: Int) {
        func value(_ s: String) -> IntOrString { Int(s).map(IntOrString.int) ?? .string(s) }
        let strategy = DeploymentStrategy(type: DeploymentStrategy.rollingUpdateType,
                                          rollingUpdate: .init(maxUnavailable: value(unavailable), maxSurge: value(surge)))
        let result = RollingUpdateBudget.fenceposts(strategy, replicas: replicas)
        #expect(result.surge == expectSurge && result.unavailable == expectUnavailable)
    }
}
