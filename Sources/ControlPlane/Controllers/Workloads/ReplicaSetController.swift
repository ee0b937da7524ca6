import Foundation
import KubeAPI
import Logging

/// Keeps each ReplicaSet's pods at `replicas`. Informers only say which ReplicaSet to look at; a sync
/// reads the ReplicaSet and its namespace's pods from the registries (in process, so always current:
/// no expectations bookkeeping is needed to avoid creating twice), then carries out `ReplicaSetPlan`.
actor ReplicaSetController {
    private let replicaSets: ResourceRegistry<ReplicaSet>
    private let pods: ResourceRegistry<Pod>
    private let logger: Logger
    private let now: @Sendable () -> Date
    private let queue = WorkQueue(batchPeriod: .milliseconds(20))
    private let reporters: [String: SyncReporter]
    /// ReplicaSet selectors by namespace, to find who may adopt an orphan pod.
    private var selectors: [String: [String: LabelSelectorSpec]] = [:]

    init(replicaSets: ResourceRegistry<ReplicaSet>, pods: ResourceRegistry<Pod>, logger: Logger, readiness: ReadinessChecks? = nil,
         now: @escaping @Sendable () -> Date = { Date() }) {
        self.replicaSets = replicaSets; self.pods = pods; self.logger = logger; self.now = now
        reporters = SyncReporter.informers(readiness, controller: "replicaset-controller", kinds: ["replicasets", "pods"])
    }

    func run() async {
        await withDiscardingTaskGroup { group in
            group.addTask { await self.queue.run { key in await self.sync(key) } }
            group.addTask {
                await informLoop(self.replicaSets, logger: self.logger, reporter: self.reporters["replicasets"],
                                 onSync: { all in await self.resetReplicaSets(all) },
                                 onEvent: { type, rs in await self.replicaSetChanged(type, rs) })
            }
            group.addTask {
                await informLoop(self.pods, logger: self.logger, reporter: self.reporters["pods"],
                                 onSync: { all in for p in all { await self.podChanged(p) } },
                                 onEvent: { _, p in await self.podChanged(p) })
            }
            // Availability after minReadySeconds is a matter of time, not of events: look again now and then.
            group.addTask {
                while !Task.isCancelled {
                    try? await Task.sleep(for: .seconds(5))
                    await self.requeueAll()
                }
            }
        }
    }

    private func resetReplicaSets(_ all: [ReplicaSet]) {
        selectors = [:]
        for rs in all { replicaSetChanged(.added, rs) }
    }

    private func replicaSetChanged(_ type: WatchEventType, _ rs: ReplicaSet) {
        let ns = rs.metadata.namespace ?? ""
        if type == .deleted { selectors[ns]?.removeValue(forKey: rs.name) } else { selectors[ns, default: [:]][rs.name] = rs.spec.selector }
        queue.add(rs.key)
    }

    private func podChanged(_ pod: Pod) {
        let ns = pod.metadata.namespace ?? ""
        if let owner = pod.controllerReference {
            if owner.kind == ReplicaSet.resourceInfo.kind { queue.add("\(ns)/\(owner.name)") }
            return
        }
        for (name, selector) in selectors[ns] ?? [:] where selector.matches(pod.metadata.labels ?? [:]) { queue.add("\(ns)/\(name)") }
    }

    private func requeueAll() {
        for (ns, names) in selectors { for name in names.keys { queue.add("\(ns)/\(name)") } }
    }

    func sync(_ key: String) async {
        guard let (ns, name) = WorkQueue.split(key) else { return }
        do {
            guard let rs = try? await replicaSets.get(namespace: ns, name: name) else { return }
            let all = try await pods.list(namespace: ns).items
            let plan = ReplicaSetPlan.plan(rs, pods: all, now: now())
            try await apply(plan, rs)
        } catch {
            logger.warning("replicaset \(key): sync failed, will retry: \(error)")
            queue.retry(key)
        }
    }

    private func apply(_ plan: ReplicaSetPlan, _ rs: ReplicaSet) async throws {
        let ns = rs.metadata.namespace
        let reference = rs.ownerReference
        for name in plan.adopt {
            _ = try? await pods.guaranteedUpdate(namespace: ns, name: name) { current in
                guard current.controllerReference == nil else { return current }
                var copy = current
                copy.metadata.ownerReferences = (copy.metadata.ownerReferences ?? []) + [reference]
                return copy
            }
        }
        for name in plan.release {
            _ = try? await pods.guaranteedUpdate(namespace: ns, name: name) { current in
                var copy = current
                copy.metadata.ownerReferences?.removeAll { $0.uid == reference.uid }
                return copy
            }
        }
        var status = plan.status
        if plan.create > 0 {
            let pod = ReplicaSetPlan.newPod(for: rs)
            do {
                for _ in 0..<plan.create { _ = try await pods.create(pod, namespace: ns) }
                logger.info("replicaset \(rs.key): created \(plan.create) pod(s)")
                status = status.withFailure(nil, now: now())
            } catch let failure as Status where failure.code != 409 && failure.code < 500 {
                // Refused (forbidden, invalid): upstream's ReplicaFailure, kept until a create works; retried.
                let failed = status.withFailure(failure.message ?? "pod creation refused (\(failure.code))", now: now())
                if failed != rs.status {
                    _ = try await replicaSets.guaranteedUpdate(namespace: ns, name: rs.name, subresource: .status) { current in
                        var copy = current
                        copy.status = failed
                        return copy
                    }
                }
                throw failure
            }
        }
        for name in plan.delete {
            do { _ = try await pods.delete(namespace: ns, name: name) } catch let s as Status where s.code == 404 {}
        }
        if !plan.delete.isEmpty { logger.info("replicaset \(rs.key): deleted \(plan.delete.count) pod(s)") }
        if status != rs.status {
            let status = status
            _ = try await replicaSets.guaranteedUpdate(namespace: ns, name: rs.name, subresource: .status) { current in
                var copy = current
                copy.status = status
                return copy
            }
        }
    }
}
