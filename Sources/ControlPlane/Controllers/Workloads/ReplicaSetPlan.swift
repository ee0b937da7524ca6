import Foundation
import KubeAPI

/// What a ReplicaSet's controller must do, from the ReplicaSet and the pods of its namespace: adopt
/// orphans its selector matches, create or delete pods to reach `replicas`, and report status.
struct ReplicaSetPlan: Equatable {
    /// Pods without a controller that the selector matches: they get this ReplicaSet as owner.
    var adopt: [String] = []
    /// Pods this ReplicaSet owns whose labels no longer match: released (owner reference removed).
    var release: [String] = []
    var create = 0
    /// Pod names to delete, most expendable first.
    var delete: [String] = []
    var status = ReplicaSetStatus()

    /// Upstream's `burstReplicas`: at most this many creations or deletions per sync.
    static let burst = 500

    static func plan(_ rs: ReplicaSet, pods: [Pod], now: Date) -> ReplicaSetPlan {
        var plan = ReplicaSetPlan()
        let selector = (try? rs.spec.selector?.selector()) ?? nil
        let uid = rs.metadata.uid ?? ""
        var owned: [Pod] = []
        for pod in pods {
            let labels = pod.metadata.labels ?? [:]
            let matches = selector?.matches(labels) ?? false
            if let controller = pod.controllerReference {
                guard controller.uid == uid else { continue }
                if matches || pod.isTerminating { owned.append(pod) } else { plan.release.append(pod.name) }
            } else if matches, !pod.isTerminating, rs.metadata.deletionTimestamp == nil, !isFinished(pod) {
                plan.adopt.append(pod.name)
                owned.append(pod)
            }
        }
        let active = owned.filter { !$0.isTerminating && !isFinished($0) }
        let desired = rs.spec.replicas ?? 1
        if rs.metadata.deletionTimestamp == nil {
            if active.count < desired {
                plan.create = min(desired - active.count, burst)
            } else if active.count > desired {
                plan.delete = active.sorted(by: moreExpendable).prefix(min(active.count - desired, burst)).map(\.name)
            }
        }
        let templateLabels = rs.spec.template.metadata.labels ?? [:]
        let minReady = TimeInterval(rs.spec.minReadySeconds ?? 0)
        plan.status.replicas = active.count
        plan.status.fullyLabeledReplicas = active.filter { pod in templateLabels.allSatisfy { pod.metadata.labels?[$0.key] == $0.value } }.count
        plan.status.readyReplicas = active.filter(\.isReady).count
        plan.status.availableReplicas = active.filter { isAvailable($0, minReadySeconds: minReady, now: now) }.count
        plan.status.observedGeneration = rs.metadata.generation
        plan.status.conditions = rs.status.conditions  // ReplicaFailure is the controller's to set and clear
        return plan
    }

    static func isFinished(_ pod: Pod) -> Bool { pod.status.phase == .succeeded || pod.status.phase == .failed }

    /// Ready for at least `minReadySeconds` (upstream's `IsPodAvailable`).
    static func isAvailable(_ pod: Pod, minReadySeconds: TimeInterval, now: Date) -> Bool {
        guard let ready = pod.status.conditions?.first(where: { $0.type == .ready }), ready.status == .true else { return false }
        if minReadySeconds == 0 { return true }
        guard let since = ready.lastTransitionTime.flatMap(KubeTime.parse) else { return false }
        return since.addingTimeInterval(minReadySeconds) <= now
    }

    /// Upstream's `ActivePods` ranking for scale-down: unscheduled before scheduled, pending before running,
    /// not ready before ready, more restarts first, newer before older.
    static func moreExpendable(_ a: Pod, _ b: Pod) -> Bool {
        let (sa, sb) = (!(a.spec.nodeName ?? "").isEmpty, !(b.spec.nodeName ?? "").isEmpty)
        if sa != sb { return !sa }
        let (pa, pb) = (phaseRank(a), phaseRank(b))
        if pa != pb { return pa < pb }
        if a.isReady != b.isReady { return !a.isReady }
        let (ra, rb) = (a.restartCount, b.restartCount)
        if ra != rb { return ra > rb }
        let (ca, cb) = (a.metadata.creationTimestamp ?? "", b.metadata.creationTimestamp ?? "")
        if ca != cb { return ca > cb }
        return a.name > b.name
    }

    private static func phaseRank(_ pod: Pod) -> Int {
        switch pod.status.phase {
        case .pending?, nil: 0
        case .unknown?: 1
        default: 2
        }
    }

    /// The pod a ReplicaSet creates: its template, named after it, owned by it.
    static func newPod(for rs: ReplicaSet) -> Pod {
        var meta = ObjectMeta(namespace: rs.metadata.namespace, labels: rs.spec.template.metadata.labels,
                              annotations: rs.spec.template.metadata.annotations)
        meta.generateName = "\(rs.name)-"
        meta.ownerReferences = [rs.ownerReference]
        meta.finalizers = rs.spec.template.metadata.finalizers
        return Pod(metadata: meta, spec: rs.spec.template.spec)
    }
}

extension KubeObject {
    /// The owner reference with `controller: true`, if any.
    var controllerReference: OwnerReference? { metadata.ownerReferences?.first { $0.controller == true } }

    /// A controller reference to this object, as its dependents carry it.
    var ownerReference: OwnerReference {
        OwnerReference(apiVersion: Self.resourceInfo.apiVersion, kind: Self.resourceInfo.kind, name: name,
                       uid: metadata.uid ?? "", controller: true, blockOwnerDeletion: true)
    }
}

extension Pod {
    /// The sum of the containers' `restartCount`.
    var restartCount: Int64 { Int64(status.containerStatuses?.reduce(0) { $0 + $1.restartCount } ?? 0) }
}

extension ReplicaSetStatus {
    static let replicaFailure = "ReplicaFailure"

    /// With ReplicaFailure set (a create failed: upstream's FailedCreate) or removed (nil: creates work again).
    func withFailure(_ message: String?, now: Date) -> ReplicaSetStatus {
        var copy = self
        var conditions = (conditions ?? []).filter { $0.type != Self.replicaFailure }
        if let message {
            let old = self.conditions?.first { $0.type == Self.replicaFailure }
            var c = ReplicaSetCondition(type: Self.replicaFailure, status: .true, reason: "FailedCreate", message: message, now: KubeTime.format(now))
            c.lastUpdateTime = nil
            if old?.status == .true { c.lastTransitionTime = old?.lastTransitionTime }
            conditions.append(c)
        }
        copy.conditions = conditions.isEmpty ? nil : conditions
        return copy
    }
}
