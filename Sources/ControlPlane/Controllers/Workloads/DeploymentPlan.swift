import Foundation
import KubeAPI

/// What a Deployment's controller must do, from the Deployment and the ReplicaSets it owns: the new
/// ReplicaSet to create, the sizes of each ReplicaSet for this step of the rollout (RollingUpdate within
/// maxSurge/maxUnavailable, or Recreate), old ReplicaSets beyond the history limit, revisions and status.
struct DeploymentPlan: Equatable {
    var create: ReplicaSet?
    /// ReplicaSet name → new `spec.replicas`.
    var scale: [String: Int] = [:]
    /// ReplicaSet name → new revision (a rollback makes an old ReplicaSet the newest revision).
    var revisions: [String: Int] = [:]
    var delete: [String] = []
    /// The revision the Deployment's own annotation should carry.
    var revision: Int?
    /// The `max-replicas` annotation every scaled ReplicaSet gets (replicas + maxSurge).
    var maxReplicas = 0
    var status = DeploymentStatus()

    static let desiredReplicasAnnotation = "deployment.kubernetes.io/desired-replicas"
    static let maxReplicasAnnotation = "deployment.kubernetes.io/max-replicas"

    static func plan(_ d: Deployment, replicaSets: [ReplicaSet], now: Date) -> DeploymentPlan {
        var plan = DeploymentPlan()
        let replicas = d.spec.replicas ?? 1
        let hash = templateHash(d.spec.template, collisionCount: d.status.collisionCount ?? 0)
        let existingNew = replicaSets.first { matchesTemplate($0, d.spec.template) }
        let old = replicaSets.filter { $0.metadata.uid != existingNew?.metadata.uid }.sorted(by: olderFirst)
        let maxOldRevision = old.compactMap(revision).max() ?? 0
        let paused = d.spec.paused == true
        let recreate = d.spec.strategy?.type == DeploymentStrategy.recreateType
        let (surge, unavailable) = recreate ? (0, replicas) : RollingUpdateBudget.fenceposts(d.spec.strategy, replicas: replicas)

        var sizes: [String: Int] = [:]
        for rs in replicaSets { sizes[rs.name] = rs.spec.replicas ?? 0 }
        let oldTotal = old.reduce(0) { $0 + (sizes[$1.name] ?? 0) }

        plan.maxReplicas = replicas + surge
        // Upstream's sync before any rollout step: a paused Deployment, or one whose active ReplicaSets were
        // sized for another replica count (`kubectl scale` mid-rollout), only has its ReplicaSets scaled —
        // proportionally when several hold pods — and no new one is made this round.
        let desiredText = String(replicas)
        let scaling = replicaSets.contains { (sizes[$0.name] ?? 0) > 0 && $0.metadata.annotations?[desiredReplicasAnnotation] != desiredText }
        if (paused || scaling), d.metadata.deletionTimestamp == nil, existingNew != nil || !old.isEmpty {
            if let rs = existingNew, (revision(rs) ?? 0) <= maxOldRevision { plan.revisions[rs.name] = maxOldRevision + 1 }
            plan.revision = existingNew.map { plan.revisions[$0.name] ?? revision($0) ?? maxOldRevision + 1 } ?? (maxOldRevision > 0 ? maxOldRevision : nil)
            sizes = scaled(newRS: existingNew, old: old, sizes: sizes, replicas: replicas, surge: surge, rolling: !recreate,
                           fallback: d.status.replicas ?? 0)
            for rs in replicaSets {
                let size = sizes[rs.name] ?? 0
                // Resized, or sized right but annotated for another count: written with the new annotations.
                if size != (rs.spec.replicas ?? 0) || (size > 0 && rs.metadata.annotations?[desiredReplicasAnnotation] != desiredText) {
                    plan.scale[rs.name] = size
                }
            }
            plan.status = status(d, replicaSets: replicaSets, newRS: existingNew, justCreated: false, maxUnavailable: unavailable, now: now)
            return plan
        }

        var newRS = existingNew
        if newRS == nil, !paused, d.metadata.deletionTimestamp == nil {
            let initial = recreate ? 0 : max(0, min(replicas, replicas + surge - oldTotal))
            let created = newReplicaSet(d, hash: hash, replicas: initial, revision: maxOldRevision + 1, maxSurge: surge)
            plan.create = created
            newRS = created
            sizes[created.name] = initial
        } else if let rs = existingNew, (revision(rs) ?? 0) <= maxOldRevision {
            plan.revisions[rs.name] = maxOldRevision + 1
        }
        plan.revision = newRS.map { plan.revisions[$0.name] ?? revision($0) ?? maxOldRevision + 1 }

        if let newRS, !paused, d.metadata.deletionTimestamp == nil {
            let newName = newRS.name
            let newAvailable = newRS.status.availableReplicas ?? 0
            if recreate {
                if old.contains(where: { (sizes[$0.name] ?? 0) > 0 }) {
                    for rs in old { sizes[rs.name] = 0 }
                } else if !old.contains(where: { $0.status.replicas > 0 }) {
                    sizes[newName] = replicas
                }
            } else if oldTotal == 0 {
                sizes[newName] = replicas
            } else {
                // Scale the new ReplicaSet up within maxSurge.
                let current = sizes[newName] ?? 0
                if current > replicas {
                    sizes[newName] = replicas
                } else {
                    let total = oldTotal + current
                    sizes[newName] = current + max(0, min(replicas + surge - total, replicas - current))
                }
                // Scale old ReplicaSets down within maxUnavailable: unhealthy pods first, then available ones.
                let allPods = sizes.values.reduce(0, +)
                let minAvailable = replicas - unavailable
                let newUnavailable = max(0, (sizes[newName] ?? 0) - newAvailable)
                var budget = allPods - minAvailable - newUnavailable
                for rs in old where budget > 0 {
                    let size = sizes[rs.name] ?? 0
                    let unhealthy = size - (rs.status.availableReplicas ?? 0)
                    guard size > 0, unhealthy > 0 else { continue }
                    let down = min(budget, unhealthy)
                    sizes[rs.name] = size - down
                    budget -= down
                }
                let available = replicaSets.reduce(0) { $0 + ($1.status.availableReplicas ?? 0) }
                var healthyBudget = min(budget, available - minAvailable)
                for rs in old where healthyBudget > 0 {
                    let size = sizes[rs.name] ?? 0
                    guard size > 0 else { continue }
                    let down = min(size, healthyBudget)
                    sizes[rs.name] = size - down
                    healthyBudget -= down
                }
            }
        }
        for rs in replicaSets where sizes[rs.name] != (rs.spec.replicas ?? 0) { plan.scale[rs.name] = sizes[rs.name] }

        // History: old ReplicaSets with no pods left, beyond revisionHistoryLimit, oldest revision first.
        let limit = d.spec.revisionHistoryLimit ?? 10
        let idle = old.filter { (sizes[$0.name] ?? 0) == 0 && $0.status.replicas == 0 && $0.metadata.deletionTimestamp == nil }
            .sorted { (revision($0) ?? 0) < (revision($1) ?? 0) }
        if idle.count > limit { plan.delete = idle.prefix(idle.count - limit).map(\.name) }

        plan.status = status(d, replicaSets: replicaSets, newRS: newRS, justCreated: plan.create != nil, maxUnavailable: unavailable, now: now)
        return plan
    }

    /// Upstream's `scale`: one ReplicaSet with pods (or none) takes the whole count; a saturated new one
    /// leaves the old ones nothing; otherwise, in a rolling update, the difference to replicas + maxSurge is
    /// shared out in proportion to each ReplicaSet's size against the count it was sized for (its
    /// `max-replicas` annotation), larger ones first, the rounding leftover to the largest.
    static func scaled(newRS: ReplicaSet?, old: [ReplicaSet], sizes: [String: Int], replicas: Int, surge: Int, rolling: Bool,
                       fallback: Int) -> [String: Int] {
        var sizes = sizes
        let all = (newRS.map { [$0] } ?? []) + old
        let active = all.filter { (sizes[$0.name] ?? 0) > 0 }
        if active.count <= 1 {
            if let target = active.first ?? newRS ?? old.last { sizes[target.name] = replicas }
            return sizes
        }
        if let newRS, sizes[newRS.name] == replicas, newRS.metadata.annotations?[desiredReplicasAnnotation] == String(replicas),
           (newRS.status.availableReplicas ?? 0) >= replicas {
            for rs in old { sizes[rs.name] = 0 }
            return sizes
        }
        guard rolling else { return sizes }
        let allowed = replicas > 0 ? replicas + surge : 0
        let toAdd = allowed - active.reduce(0) { $0 + (sizes[$1.name] ?? 0) }
        guard toAdd != 0 else { return sizes }
        let ordered = active.sorted { a, b in
            let (sa, sb) = (sizes[a.name] ?? 0, sizes[b.name] ?? 0)
            if sa != sb { return sa > sb }
            return toAdd > 0 ? olderFirst(b, a) : olderFirst(a, b)  // growing: newer first; shrinking: older first
        }
        var added = 0
        for rs in ordered {
            let size = sizes[rs.name] ?? 0
            var share = 0
            if toAdd != added {
                let fraction: Int
                if replicas == 0 {
                    fraction = -size
                } else {
                    let sizedFor = rs.metadata.annotations?[maxReplicasAnnotation].flatMap { Int($0) } ?? fallback
                    fraction = sizedFor > 0 ? Int((Double(size * (replicas + surge)) / Double(sizedFor)).rounded()) - size : 0
                }
                share = toAdd > 0 ? min(fraction, toAdd - added) : max(fraction, toAdd - added)
            }
            sizes[rs.name] = size + share
            added += share
        }
        if let first = ordered.first { sizes[first.name] = max(0, (sizes[first.name] ?? 0) + toAdd - added) }
        return sizes
    }

    /// Upstream's `calculateStatus` and the Available/Progressing conditions.
    static func status(_ d: Deployment, replicaSets: [ReplicaSet], newRS: ReplicaSet?, justCreated: Bool, maxUnavailable: Int, now: Date) -> DeploymentStatus {
        let desired = d.spec.replicas ?? 1
        var s = DeploymentStatus()
        s.observedGeneration = d.metadata.generation
        s.replicas = replicaSets.reduce(0) { $0 + $1.status.replicas }
        s.updatedReplicas = justCreated ? 0 : (newRS?.status.replicas ?? 0)
        s.readyReplicas = replicaSets.reduce(0) { $0 + ($1.status.readyReplicas ?? 0) }
        let available = replicaSets.reduce(0) { $0 + ($1.status.availableReplicas ?? 0) }
        s.availableReplicas = available
        s.unavailableReplicas = max(0, desired - available)
        s.collisionCount = d.status.collisionCount
        let stamp = KubeTime.format(now)
        let previous = d.status.conditions ?? []

        let availableCondition = available >= desired - maxUnavailable
            ? DeploymentCondition(type: "Available", status: .true, reason: "MinimumReplicasAvailable", message: "Deployment has minimum availability.", now: stamp)
            : DeploymentCondition(type: "Available", status: .false, reason: "MinimumReplicasUnavailable", message: "Deployment does not have minimum availability.", now: stamp)

        let name = newRS?.name ?? ""
        let complete = (s.updatedReplicas ?? 0) == desired && (s.replicas ?? 0) == desired && available == desired
        var progressing: DeploymentCondition
        let old = previous.first { $0.type == "Progressing" }
        if justCreated {
            progressing = DeploymentCondition(type: "Progressing", status: .true, reason: "NewReplicaSetCreated",
                                              message: "Created new replica set \"\(name)\"", now: stamp)
        } else if complete {
            progressing = DeploymentCondition(type: "Progressing", status: .true, reason: "NewReplicaSetAvailable",
                                              message: "ReplicaSet \"\(name)\" has successfully progressed.", now: stamp)
        } else {
            progressing = DeploymentCondition(type: "Progressing", status: .true, reason: "ReplicaSetUpdated",
                                              message: "ReplicaSet \"\(name)\" is progressing.", now: stamp)
            // No progress (the counts did not move) for progressDeadlineSeconds: the rollout has stalled.
            let moved = d.status.replicas != s.replicas || d.status.updatedReplicas != s.updatedReplicas
                || d.status.availableReplicas != s.availableReplicas || d.status.readyReplicas != s.readyReplicas
            if !moved, let old, old.reason != "NewReplicaSetAvailable", let since = old.lastUpdateTime.flatMap(KubeTime.parse),
               d.spec.paused != true, since.addingTimeInterval(TimeInterval(d.spec.progressDeadlineSeconds ?? 600)) < now {
                progressing = DeploymentCondition(type: "Progressing", status: .false, reason: "ProgressDeadlineExceeded",
                                                  message: "ReplicaSet \"\(name)\" has timed out progressing.", now: stamp)
            } else if !moved, let old, old.status == .true, old.reason == progressing.reason || old.reason == "NewReplicaSetCreated" {
                progressing.lastUpdateTime = old.lastUpdateTime
            }
        }
        s.conditions = [keepTimes(availableCondition, previous), keepTimes(progressing, previous)]
        // The new ReplicaSet's ReplicaFailure, mirrored as upstream's controller does (and dropped with it).
        if let failure = newRS?.status.conditions?.first(where: { $0.type == ReplicaSetStatus.replicaFailure }) {
            var mirrored = DeploymentCondition(type: failure.type, status: failure.status, reason: failure.reason ?? "FailedCreate",
                                               message: failure.message ?? "", now: stamp)
            mirrored = keepTimes(mirrored, previous)
            s.conditions?.append(mirrored)
        }
        return s
    }

    /// An unchanged condition keeps its timestamps (a transition only when the status changes).
    private static func keepTimes(_ condition: DeploymentCondition, _ previous: [DeploymentCondition]) -> DeploymentCondition {
        guard let old = previous.first(where: { $0.type == condition.type }) else { return condition }
        var c = condition
        if old.status == c.status { c.lastTransitionTime = old.lastTransitionTime }
        if old.status == c.status, old.reason == c.reason, old.message == c.message, c.reason != "ReplicaSetUpdated" {
            c.lastUpdateTime = old.lastUpdateTime
        }
        return c
    }

    static func revision(_ rs: ReplicaSet) -> Int? {
        rs.metadata.annotations?[Deployment.revisionAnnotation].flatMap { Int($0) }
    }

    static func olderFirst(_ a: ReplicaSet, _ b: ReplicaSet) -> Bool {
        let (ca, cb) = (a.metadata.creationTimestamp ?? "", b.metadata.creationTimestamp ?? "")
        return ca != cb ? ca < cb : a.name < b.name
    }

    /// Whether `rs` was made from `template` (its copy differs only by the `pod-template-hash` label).
    static func matchesTemplate(_ rs: ReplicaSet, _ template: PodTemplateSpec) -> Bool {
        var copy = rs.spec.template
        copy.metadata.labels?.removeValue(forKey: Deployment.templateHashLabel)
        if copy.metadata.labels?.isEmpty == true, template.metadata.labels == nil { copy.metadata.labels = nil }
        return copy == template
    }

    /// A short, label-safe hash of the template and the collision count (FNV-1a 32 over the canonical JSON,
    /// spelled in upstream's safe alphabet, as `pod-template-hash` values look).
    static func templateHash(_ template: PodTemplateSpec, collisionCount: Int) -> String {
        var h: UInt32 = 2_166_136_261
        let bytes = (try? KubeJSON.encode(template)) ?? Data()
        for b in bytes + Array(String(collisionCount).utf8) { h = (h ^ UInt32(b)) &* 16_777_619 }
        return String(String(h).utf8.map { NameGenerator.alphabet[Int($0) % NameGenerator.alphabet.count] })
    }

    static func newReplicaSet(_ d: Deployment, hash: String, replicas: Int, revision: Int, maxSurge: Int) -> ReplicaSet {
        var template = d.spec.template
        template.metadata.labels = (template.metadata.labels ?? [:]).merging([Deployment.templateHashLabel: hash]) { _, new in new }
        var selector = d.spec.selector ?? LabelSelectorSpec()
        selector.matchLabels = (selector.matchLabels ?? [:]).merging([Deployment.templateHashLabel: hash]) { _, new in new }
        var meta = ObjectMeta(name: "\(d.name)-\(hash)", namespace: d.metadata.namespace, labels: template.metadata.labels,
                              annotations: [Deployment.revisionAnnotation: String(revision),
                                            desiredReplicasAnnotation: String(d.spec.replicas ?? 1),
                                            maxReplicasAnnotation: String((d.spec.replicas ?? 1) + maxSurge)])
        meta.ownerReferences = [d.ownerReference]
        var spec = ReplicaSetSpec()
        spec.replicas = replicas
        spec.minReadySeconds = d.spec.minReadySeconds
        spec.selector = selector
        spec.template = template
        return ReplicaSet(metadata: meta, spec: spec)
    }
}
