import Foundation
import KubeAPI
import Logging

/// Rolls Deployments out through ReplicaSets: one sync reads the Deployment and its namespace's
/// ReplicaSets from the registries, adopts orphans its selector matches, and carries out `DeploymentPlan`
/// (create the new ReplicaSet, resize, prune history, write the revision and status). ReplicaSet status
/// changes (pods turning ready) bring the Deployment back, so a rollout advances as pods become available.
actor DeploymentController {
    private let deployments: ResourceRegistry<Deployment>
    private let replicaSets: ResourceRegistry<ReplicaSet>
    private let logger: Logger
    private let now: @Sendable () -> Date
    private let queue = WorkQueue(batchPeriod: .milliseconds(20))
    private let reporters: [String: SyncReporter]
    private var known: Set<String> = []

    init(deployments: ResourceRegistry<Deployment>, replicaSets: ResourceRegistry<ReplicaSet>, logger: Logger,
         readiness: ReadinessChecks? = nil, now: @escaping @Sendable () -> Date = { Date() }) {
        self.deployments = deployments; self.replicaSets = replicaSets; self.logger = logger; self.now = now
        reporters = SyncReporter.informers(readiness, controller: "deployment-controller", kinds: ["deployments", "replicasets"])
    }

    func run() async {
        await withDiscardingTaskGroup { group in
            group.addTask { await self.queue.run { key in await self.sync(key) } }
            group.addTask {
                await informLoop(self.deployments, as: MetadataView.self, logger: self.logger, reporter: self.reporters["deployments"],
                                 onSync: { all in await self.reset(all) },
                                 onEvent: { type, d in await self.deploymentChanged(type, d) })
            }
            group.addTask {
                await informLoop(self.replicaSets, logger: self.logger, reporter: self.reporters["replicasets"],
                                 onSync: { all in for rs in all { await self.replicaSetChanged(rs) } },
                                 onEvent: { _, rs in await self.replicaSetChanged(rs) })
            }
            // The progress deadline is a matter of time: look again now and then.
            group.addTask {
                while !Task.isCancelled {
                    try? await Task.sleep(for: .seconds(10))
                    await self.requeueAll()
                }
            }
        }
    }

    private func reset(_ all: [MetadataView]) {
        known = Set(all.map(\.key))
        for key in known { queue.add(key) }
    }

    private func deploymentChanged(_ type: WatchEventType, _ d: MetadataView) {
        if type == .deleted { known.remove(d.key) } else { known.insert(d.key) }
        queue.add(d.key)
    }

    private func replicaSetChanged(_ rs: ReplicaSet) {
        let ns = rs.metadata.namespace ?? ""
        if let owner = rs.controllerReference {
            if owner.kind == Deployment.resourceInfo.kind { queue.add("\(ns)/\(owner.name)") }
            return
        }
        // An orphan: any Deployment of its namespace may adopt it.
        for key in known where key.hasPrefix("\(ns)/") { queue.add(key) }
    }

    private func requeueAll() { for key in known { queue.add(key) } }

    func sync(_ key: String) async {
        guard let (ns, name) = WorkQueue.split(key) else { return }
        do {
            guard let d = try? await deployments.get(namespace: ns, name: name) else { return }
            let uid = d.metadata.uid ?? ""
            var owned: [ReplicaSet] = []
            for rs in try await replicaSets.list(namespace: ns).items {
                if let owner = rs.controllerReference {
                    if owner.uid == uid { owned.append(rs) }
                } else if d.metadata.deletionTimestamp == nil, rs.metadata.deletionTimestamp == nil,
                          d.spec.selector?.matches(rs.metadata.labels ?? [:]) == true, let adopted = try await adopt(rs, by: d) {
                    owned.append(adopted)
                }
            }
            let plan = DeploymentPlan.plan(d, replicaSets: owned, now: now())
            try await apply(plan, d)
        } catch {
            logger.warning("deployment \(key): sync failed, will retry: \(error)")
            queue.retry(key)
        }
    }

    private func adopt(_ rs: ReplicaSet, by d: Deployment) async throws -> ReplicaSet? {
        let reference = d.ownerReference
        let updated = try await replicaSets.guaranteedUpdate(namespace: rs.metadata.namespace, name: rs.name) { current in
            guard current.controllerReference == nil else { return current }
            var copy = current
            copy.metadata.ownerReferences = (copy.metadata.ownerReferences ?? []) + [reference]
            return copy
        }
        return updated.controllerReference?.uid == reference.uid ? updated : nil
    }

    private func apply(_ plan: DeploymentPlan, _ d: Deployment) async throws {
        let ns = d.metadata.namespace
        var status = plan.status
        if let create = plan.create {
            do {
                _ = try await replicaSets.create(create, namespace: ns)
                logger.info("deployment \(d.key): created replicaset \(create.name) with \(create.spec.replicas ?? 0) replica(s)")
            } catch let s as Status where s.code == 409 {
                // A ReplicaSet of that name that is not this template's: count the collision, so the next hash differs.
                let existing = try? await replicaSets.get(namespace: ns, name: create.name)
                if existing.map({ !DeploymentPlan.matchesTemplate($0, d.spec.template) || $0.controllerReference?.uid != d.metadata.uid }) ?? true {
                    status.collisionCount = (d.status.collisionCount ?? 0) + 1
                    logger.info("deployment \(d.key): replicaset name \(create.name) collides; collisionCount \(status.collisionCount ?? 0)")
                }
            }
        }
        for (name, revision) in plan.revisions {
            _ = try await replicaSets.guaranteedUpdate(namespace: ns, name: name) { current in
                var copy = current
                copy.metadata.annotations = (copy.metadata.annotations ?? [:]).merging([Deployment.revisionAnnotation: String(revision)]) { _, new in new }
                return copy
            }
        }
        let annotations = [DeploymentPlan.desiredReplicasAnnotation: String(d.spec.replicas ?? 1),
                           DeploymentPlan.maxReplicasAnnotation: String(plan.maxReplicas)]
        for (name, replicas) in plan.scale.sorted(by: { $0.key < $1.key }) {
            _ = try await replicaSets.guaranteedUpdate(namespace: ns, name: name) { current in
                var copy = current
                copy.spec.replicas = replicas
                copy.metadata.annotations = (copy.metadata.annotations ?? [:]).merging(annotations) { _, new in new }
                return copy
            }
            logger.info("deployment \(d.key): scaled replicaset \(name) to \(replicas)")
        }
        for name in plan.delete {
            do { _ = try await replicaSets.delete(namespace: ns, name: name) } catch let s as Status where s.code == 404 {}
        }
        if let revision = plan.revision.map(String.init), d.metadata.annotations?[Deployment.revisionAnnotation] != revision {
            _ = try await deployments.guaranteedUpdate(namespace: ns, name: d.name) { current in
                var copy = current
                copy.metadata.annotations = (copy.metadata.annotations ?? [:]).merging([Deployment.revisionAnnotation: revision]) { _, new in new }
                return copy
            }
        }
        if status != d.status {
            let final = status
            _ = try await deployments.guaranteedUpdate(namespace: ns, name: d.name, subresource: .status) { current in
                var copy = current
                copy.status = final
                return copy
            }
        }
    }
}
