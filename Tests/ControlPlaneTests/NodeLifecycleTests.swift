import Foundation
import KubeAPI
import Testing
@testable import ControlPlane

@Suite("Node lifecycle: heartbeats, Unknown after the grace period, pods marked not ready")
struct NodeLifecycleTests {
    static func node(ready: ConditionStatus?, tainted: Bool = false) -> Node {
        var n = Node(metadata: ObjectMeta(name: "n1"))
        if let ready { n.status.conditions = [NodeCondition(type: .ready, status: ready, lastHeartbeatTime: "2026-01-01T00:00:00Z")] }
        if tainted { n.spec.taints = [Taint(key: NodeLifecycle.unreachableTaint, effect: .noSchedule)] }
        return n
    }

    static let t0 = Date(timeIntervalSince1970: 1_767_225_600)

    @Test(arguments: [
        // (Ready status, tainted, seconds since the heartbeat was seen, verdict)
        (ConditionStatus?.some(.true), false, 10.0, NodeLifecycle.Verdict.healthy),
        (.some(.true), false, 40.0, .healthy),
        (.some(.true), false, 41.0, .unknown(markPods: true)),
        (.some(.false), false, 41.0, .unknown(markPods: false)),
        (nil, false, 41.0, .unknown(markPods: false)),
        (.some(.unknown), true, 100.0, .unchanged),
        (.some(.true), true, 1.0, .recovered),
        (.some(.unknown), true, 1.0, .healthy),
    ])
    func verdicts(ready: ConditionStatus?, tainted: Bool, age: Double, expected: NodeLifecycle.Verdict) {
        let verdict = NodeLifecycle.assess(Self.node(ready: ready, tainted: tainted), lastObserved: Self.t0,
                                           now: Self.t0.addingTimeInterval(age), grace: 40)
        #expect(verdict == expected)
    }

    @Test func unknownSetsEveryConditionAndBothTaints() {
        let marked = NodeLifecycle.markedUnknown(Self.node(ready: .true), now: Self.t0)
        #expect(marked.status.conditions?.map(\.status) == [.unknown])
        #expect(marked.status.conditions?.first?.reason == "NodeStatusUnknown")
        #expect(marked.spec.taints?.map(\.effect) == [.noSchedule, .noExecute])
        let never = NodeLifecycle.markedUnknown(Self.node(ready: nil), now: Self.t0)
        #expect(never.status.conditions?.first?.reason == "NodeStatusNeverUpdated")
        #expect(NodeLifecycle.untainted(marked).spec.taints == nil)
    }

    /// A node whose Lease stops renewing turns Unknown after the grace period and its pods not ready; a
    /// renewal within the grace period keeps it Ready; Ready again removes the taints.
    @Test func staleLeaseTurnsTheNodeUnknownAndItsPodsNotReady() async throws {
        try await Cluster.with { c in
            _ = try await c.namespaces.create(Namespace(metadata: ObjectMeta(name: Lease.nodeLeaseNamespace)), namespace: nil)
            var node = Self.node(ready: .true)
            node = try await c.nodes.create(node, namespace: nil)
            _ = try await c.nodes.guaranteedUpdate(namespace: nil, name: "n1", subresource: .status) { _ in Self.node(ready: .true) }
            var spec = LeaseSpec()
            spec.holderIdentity = "n1"; spec.leaseDurationSeconds = 40; spec.renewTime = KubeTime.formatMicro(c.clock.now)
            _ = try await c.leases.create(Lease(metadata: ObjectMeta(name: "n1", namespace: Lease.nodeLeaseNamespace), spec: spec),
                                          namespace: Lease.nodeLeaseNamespace)
            _ = try await c.pods.create(makePod("on-n1", node: "n1", ip: "10.244.1.5"), namespace: "default")
            _ = try await c.pods.create(makePod("elsewhere", node: "n2", ip: "10.244.2.5"), namespace: "default")
            let clock = c.clock
            let controller = NodeLifecycleController(nodes: c.nodes, leases: c.leases, pods: c.pods, logger: silentLogger,
                                                     grace: 40, now: { clock.now })
            try await controller.monitor()
            clock.advance(30)
            try await controller.monitor()
            // Renewed at +30 s: at +60 s it was seen 30 s ago.
            _ = try await c.leases.guaranteedUpdate(namespace: Lease.nodeLeaseNamespace, name: "n1") { l in
                var copy = l; copy.spec.renewTime = KubeTime.formatMicro(clock.now); return copy
            }
            try await controller.monitor()
            clock.advance(30)
            try await controller.monitor()
            #expect(try await c.nodes.get(namespace: nil, name: "n1").isReady)
            clock.advance(11)
            try await controller.monitor()
            let stale = try await c.nodes.get(namespace: nil, name: "n1")
            #expect(stale.status.conditions?.first { $0.type == .ready }?.status == .unknown)
            #expect(stale.spec.taints?.count == 2)
            #expect(try await c.pods.get(namespace: "default", name: "on-n1").isReady == false)
            #expect(try await c.pods.get(namespace: "default", name: "elsewhere").isReady)

            // The agent comes back: Ready again, and the next pass removes the taints.
            _ = try await c.nodes.guaranteedUpdate(namespace: nil, name: "n1", subresource: .status) { n in
                var copy = n
                copy.status.conditions = [NodeCondition(type: .ready, status: .true, lastHeartbeatTime: KubeTime.format(clock.now))]
                return copy
            }
            try await controller.monitor()
            #expect(try await c.nodes.get(namespace: nil, name: "n1").spec.taints == nil)
        }
    }
}
