import KubeAPI
import Values

/// Where a pod may run and where it goes: a Ready, schedulable node whose labels satisfy the pod's
/// `nodeSelector` and whose NoSchedule/NoExecute taints it tolerates; among those, the one with the
/// fewest pods (ties by name, so the choice is deterministic).
enum SchedulingPolicy {
    enum Decision: Equatable {
        case bind(String)
        /// No node fits; the message is upstream's "0/N nodes are available: …" summary.
        case unschedulable(String)
    }

    static func decide(_ pod: Pod, nodes: [Node], podCounts: [String: Int]) -> Decision {
        var reasons: [String: Int] = [:]
        var feasible: [Node] = []
        for node in nodes {
            if let reason = rejection(pod, node) { reasons[reason, default: 0] += 1 } else { feasible.append(node) }
        }
        let best = feasible.min { a, b in
            let (ca, cb) = (podCounts[a.name] ?? 0, podCounts[b.name] ?? 0)
            return ca != cb ? ca < cb : a.name < b.name
        }
        if let best { return .bind(best.name) }
        let detail = reasons.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", ")
        return .unschedulable("0/\(nodes.count) nodes are available" + (detail.isEmpty ? "." : ": \(detail)."))
    }

    /// Why `node` cannot take `pod`, in upstream's words, or nil when it can.
    static func rejection(_ pod: Pod, _ node: Node) -> String? {
        if node.metadata.deletionTimestamp != nil { return "node(s) were being deleted" }
        if !node.isReady { return "node(s) were not ready" }
        if node.spec.unschedulable == true { return "node(s) were unschedulable" }
        let labels = node.metadata.labels ?? [:]
        if let selector = pod.spec.nodeSelector, !selector.allSatisfy({ labels[$0.key] == $0.value }) {
            return "node(s) didn't match Pod's node affinity/selector"
        }
        let tolerations = pod.spec.unknownFields.values["tolerations"]?.arrayValue ?? []
        for taint in node.spec.taints ?? [] where taint.effect == .noSchedule || taint.effect == .noExecute {
            if !tolerations.contains(where: { tolerates($0, taint) }) {
                return "node(s) had untolerated taint {\(taint.key): \(taint.value ?? "")}"
            }
        }
        return nil
    }

    /// Upstream's `Toleration.ToleratesTaint`.
    static func tolerates(_ toleration: JSONValue, _ taint: Taint) -> Bool {
        let effect = toleration["effect"]?.stringValue ?? ""
        if !effect.isEmpty && effect != taint.effect.rawValue { return false }
        let key = toleration["key"]?.stringValue ?? ""
        let op = toleration["operator"]?.stringValue ?? "Equal"
        if key.isEmpty { return op == "Exists" }
        guard key == taint.key else { return false }
        switch op {
        case "Exists": return true
        case "Equal", "": return (toleration["value"]?.stringValue ?? "") == (taint.value ?? "")
        default: return false
        }
    }

    /// Pods that hold a place on their node: bound and not finished.
    static func occupies(_ pod: Pod) -> Bool {
        guard let node = pod.spec.nodeName, !node.isEmpty else { return false }
        return pod.status.phase != .succeeded && pod.status.phase != .failed
    }

    /// Pods the scheduler should place: unbound, not being deleted, for the default scheduler.
    static func wantsScheduling(_ pod: Pod) -> Bool {
        (pod.spec.nodeName ?? "").isEmpty && !pod.isTerminating
            && (pod.spec.schedulerName ?? "default-scheduler") == "default-scheduler"
            && pod.status.phase != .succeeded && pod.status.phase != .failed
    }
}
