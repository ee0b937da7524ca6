import Foundation
import KubeAPI
import Logging

/// Binds pods without `spec.nodeName` to a node through the binding subresource, as the default
/// scheduler does: `SchedulingPolicy` picks among Ready, schedulable nodes (cordoned ones are skipped)
/// the one with the fewest pods. A pod that fits nowhere gets `PodScheduled=False` (Unschedulable) and
/// is tried again when a node changes.
actor Scheduler {
    private let pods: ResourceRegistry<Pod>
    private let nodes: ResourceRegistry<Node>
    private let logger: Logger
    private let now: @Sendable () -> Date
    private let queue = WorkQueue(batchPeriod: .milliseconds(10))
    private let reporters: [String: SyncReporter]

    private var nodeCache: [String: Node] = [:]
    /// Where each pod that holds a place sits (pod key → node), and how many pods each node holds.
    private var placement: [String: String] = [:]
    private var counts: [String: Int] = [:]
    private var pending: Set<String> = []

    init(pods: ResourceRegistry<Pod>, nodes: ResourceRegistry<Node>, logger: Logger, readiness: ReadinessChecks? = nil,
         now: @escaping @Sendable () -> Date = { Date() }) {
        self.pods = pods; self.nodes = nodes; self.logger = logger; self.now = now
        reporters = SyncReporter.informers(readiness, controller: "scheduler", kinds: ["pods", "nodes"])
    }

    func run() async {
        await withDiscardingTaskGroup { group in
            group.addTask { await self.queue.run { key in await self.schedule(key) } }
            group.addTask {
                await informLoop(self.nodes, logger: self.logger, reporter: self.reporters["nodes"],
                                 onSync: { all in await self.resetNodes(all) },
                                 onEvent: { type, n in await self.nodeChanged(type, n) })
            }
            group.addTask {
                await informLoop(self.pods, logger: self.logger, reporter: self.reporters["pods"],
                                 onSync: { all in await self.resetPods(all) },
                                 onEvent: { type, p in await self.podChanged(type, p) })
            }
        }
    }

    private func resetNodes(_ all: [Node]) {
        nodeCache = Dictionary(all.map { ($0.name, $0) }, uniquingKeysWith: { _, b in b })
        for key in pending { queue.add(key) }
    }

    private func nodeChanged(_ type: WatchEventType, _ node: Node) {
        if type == .deleted { nodeCache.removeValue(forKey: node.name) } else { nodeCache[node.name] = node }
        for key in pending { queue.add(key) }
    }

    private func resetPods(_ all: [Pod]) {
        placement = [:]; counts = [:]; pending = []
        for pod in all { podChanged(.added, pod) }
    }

    private func podChanged(_ type: WatchEventType, _ pod: Pod) {
        let key = pod.key
        if let old = placement.removeValue(forKey: key) { counts[old, default: 1] -= 1 }
        pending.remove(key)
        guard type != .deleted else { return }
        if SchedulingPolicy.occupies(pod), let node = pod.spec.nodeName {
            placement[key] = node
            counts[node, default: 0] += 1
        } else if SchedulingPolicy.wantsScheduling(pod) {
            pending.insert(key)
            queue.add(key)
        }
    }

    private func schedule(_ key: String) async {
        guard pending.contains(key) else { return }
        guard let (ns, name) = WorkQueue.split(key), let pod = try? await pods.get(namespace: ns, name: name),
              SchedulingPolicy.wantsScheduling(pod) else { return }
        let decision = SchedulingPolicy.decide(pod, nodes: nodeCache.values.sorted { $0.name < $1.name }, podCounts: counts)
        switch decision {
        case .bind(let node):
            let binding = Binding(metadata: ObjectMeta(name: pod.name, namespace: pod.metadata.namespace),
                                  target: ObjectReference(kind: "Node", name: node, apiVersion: "v1"))
            do {
                _ = try await BindingSubresource.bind(pods, namespace: pod.metadata.namespace, name: pod.name, binding: binding, now: now())
                // Counted at once, so a burst of pods spreads before their updates come back through the watch.
                pending.remove(key)
                placement[key] = node
                counts[node, default: 0] += 1
                logger.info("scheduler: bound \(key) to \(node)")
            } catch {
                logger.warning("scheduler: binding \(key) to \(node) failed: \(error)")
            }
        case .unschedulable(let message):
            let stamp = KubeTime.format(now())
            _ = try? await pods.guaranteedUpdate(namespace: pod.metadata.namespace, name: pod.name, subresource: .status) { current in
                var copy = current
                var conditions = copy.status.conditions ?? []
                if let old = conditions.first(where: { $0.type == .podScheduled }), old.status == .false, old.message == message { return current }
                conditions.removeAll { $0.type == .podScheduled }
                conditions.append(PodCondition(type: .podScheduled, status: .false, lastTransitionTime: stamp, reason: "Unschedulable", message: message))
                copy.status.conditions = conditions
                if copy.status.phase == nil { copy.status.phase = .pending }
                return copy
            }
        }
    }
}
