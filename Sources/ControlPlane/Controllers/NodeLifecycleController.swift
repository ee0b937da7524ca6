import Foundation
import KubeAPI
import Logging

/// What the node lifecycle controller decides for one node, pure so it is table-tested.
///
/// As upstream's: a node's health is the last time this controller *saw* its heartbeat change (the
/// Lease's renewTime or the Ready condition's lastHeartbeatTime), on this controller's clock, so a node
/// with a skewed clock is judged fairly. Past the grace period (upstream's `--node-monitor-grace-period`)
/// its conditions turn Unknown and it is tainted `node.kubernetes.io/unreachable`; its pods are marked
/// not ready only when the node was Ready, so a Node object that never had an agent keeps its pods' status.
enum NodeLifecycle {
    static let unreachableTaint = "node.kubernetes.io/unreachable"

    /// The heartbeat's identity: it changes whenever the node's agent reports.
    static func heartbeat(_ node: Node, lease: Lease?) -> String {
        let ready = node.status.conditions?.first { $0.type == .ready }
        return "\(lease?.spec.renewTime ?? "")|\(ready?.lastHeartbeatTime ?? "")"
    }

    enum Verdict: Equatable {
        case healthy
        /// Past the grace period: write `updated` (conditions Unknown, taints); `markPods` when it was Ready.
        case unknown(markPods: Bool)
        /// Ready again while still tainted unreachable: remove the taints.
        case recovered
        case unchanged
    }

    static func assess(_ node: Node, lastObserved: Date, now: Date, grace: TimeInterval) -> Verdict {
        let ready = node.status.conditions?.first { $0.type == .ready }
        let tainted = (node.spec.taints ?? []).contains { $0.key == unreachableTaint }
        if now.timeIntervalSince(lastObserved) <= grace {
            return ready?.status == .true && tainted ? .recovered : .healthy
        }
        if ready?.status == .unknown { return .unchanged }
        return .unknown(markPods: ready?.status == .true)
    }

    /// The node with every condition Unknown and the unreachable taints, as upstream writes it.
    static func markedUnknown(_ node: Node, now: Date) -> Node {
        var copy = node
        let time = KubeTime.format(now)
        var conditions = copy.status.conditions ?? []
        if !conditions.contains(where: { $0.type == .ready }) {
            conditions.append(NodeCondition(type: .ready, status: .unknown, lastHeartbeatTime: nil, lastTransitionTime: time,
                                            reason: "NodeStatusNeverUpdated", message: "Kubelet never posted node status."))
        }
        for i in conditions.indices where conditions[i].status != .unknown {
            conditions[i].status = .unknown
            conditions[i].lastTransitionTime = time
            conditions[i].reason = "NodeStatusUnknown"
            conditions[i].message = "Kubelet stopped posting node status."
        }
        copy.status.conditions = conditions
        var taints = (copy.spec.taints ?? []).filter { $0.key != unreachableTaint }
        taints.append(Taint(key: unreachableTaint, effect: .noSchedule, timeAdded: nil))
        taints.append(Taint(key: unreachableTaint, effect: .noExecute, timeAdded: time))
        copy.spec.taints = taints
        return copy
    }

    static func untainted(_ node: Node) -> Node {
        var copy = node
        let taints = (copy.spec.taints ?? []).filter { $0.key != unreachableTaint }
        copy.spec.taints = taints.isEmpty ? nil : taints
        return copy
    }

    /// The pod with Ready (and ContainersReady) False, as upstream's MarkPodsNotReady; nil when it already is.
    static func markedNotReady(_ pod: Pod, now: Date) -> Pod? {
        var copy = pod
        var changed = false
        for i in (copy.status.conditions ?? []).indices {
            guard let c = copy.status.conditions?[i], c.type == .ready || c.type == .containersReady, c.status != .false else { continue }
            copy.status.conditions?[i].status = .false
            copy.status.conditions?[i].lastTransitionTime = KubeTime.format(now)
            changed = true
        }
        return changed ? copy : nil
    }
}

/// Watches node heartbeats (Leases in `kube-node-lease` and Node status) every `period` and applies
/// `NodeLifecycle`'s verdicts: nodes whose agent stopped turn Unknown, their pods' endpoints not ready.
actor NodeLifecycleController {
    private let nodes: ResourceRegistry<Node>
    private let leases: ResourceRegistry<Lease>
    private let pods: ResourceRegistry<Pod>
    private let logger: Logger
    private let grace: TimeInterval
    private let period: Duration
    private let now: @Sendable () -> Date
    private let sleep: @Sendable (Duration) async throws -> Void
    /// node name → (heartbeat identity, when this controller first saw it).
    private var observed: [String: (heartbeat: String, at: Date)] = [:]

    init(nodes: ResourceRegistry<Node>, leases: ResourceRegistry<Lease>, pods: ResourceRegistry<Pod>, logger: Logger,
         grace: TimeInterval = 40, period: Duration = .seconds(5), now: @escaping @Sendable () -> Date = { Date() },
         sleep: @escaping @Sendable (Duration) async throws -> Void = { try await Task.sleep(for: $0) }) {
        self.nodes = nodes; self.leases = leases; self.pods = pods; self.logger = logger
        self.grace = grace; self.period = period; self.now = now; self.sleep = sleep
    }

    func run() async {
        while !Task.isCancelled {
            do { try await monitor() } catch { logger.warning("node lifecycle: \(error); will retry") }
            do { try await sleep(period) } catch { return }
        }
    }

    /// One pass over all nodes.
    func monitor() async throws {
        let time = now()
        let leaseList = try await leases.list(namespace: Lease.nodeLeaseNamespace).items
        let leaseByNode = Dictionary(leaseList.map { ($0.metadata.name ?? "", $0) }, uniquingKeysWith: { a, _ in a })
        let all = try await nodes.list(namespace: nil).items
        observed = observed.filter { entry in all.contains { $0.name == entry.key } }
        for node in all {
            let beat = NodeLifecycle.heartbeat(node, lease: leaseByNode[node.name])
            if observed[node.name]?.heartbeat != beat { observed[node.name] = (beat, time) }
            let seen = observed[node.name]?.at ?? time
            switch NodeLifecycle.assess(node, lastObserved: seen, now: time, grace: grace) {
            case .healthy, .unchanged: continue
            case .recovered:
                _ = try await nodes.guaranteedUpdate(namespace: nil, name: node.name) { NodeLifecycle.untainted($0) }
                logger.info("node \(node.name) is reachable again: removed the \(NodeLifecycle.unreachableTaint) taints")
            case .unknown(let markPods):
                // Conditions are status, taints are spec: two writes, as upstream's controller makes them.
                let marked = NodeLifecycle.markedUnknown(node, now: time)
                _ = try await nodes.guaranteedUpdate(namespace: nil, name: node.name, subresource: .status) { current in
                    var copy = current; copy.status.conditions = marked.status.conditions; return copy
                }
                _ = try await nodes.guaranteedUpdate(namespace: nil, name: node.name) { current in
                    var copy = current; copy.spec.taints = marked.spec.taints; return copy
                }
                logger.warning("node \(node.name): no heartbeat for \(Int(time.timeIntervalSince(seen))) s; conditions Unknown")
                if markPods { try await markPodsNotReady(on: node.name, time) }
            }
        }
    }

    private func markPodsNotReady(on node: String, _ time: Date) async throws {
        var options = ListOptions()
        options.fieldSelector = try FieldSelector(parsing: "spec.nodeName=\(node)")
        for pod in try await pods.list(namespace: nil, options: options).items {
            guard NodeLifecycle.markedNotReady(pod, now: time) != nil, let ns = pod.metadata.namespace, let name = pod.metadata.name else { continue }
            do {
                _ = try await pods.guaranteedUpdate(namespace: ns, name: name, subresource: .status) { current in
                    NodeLifecycle.markedNotReady(current, now: time) ?? current
                }
            } catch let s as Status where s.code == 404 {}
        }
    }
}
