import Foundation
import KubeAPI
import Logging
import Synchronization

/// Finalizes deleted namespaces: removes every object in them, then the `kubernetes` finalizer,
/// after which the registry removes the namespace itself.
struct NamespaceController: Sendable {
    let namespaces: ResourceRegistry<Namespace>
    /// Deletes all objects of one kind in a namespace (one closure per namespaced kind).
    let purgers: [@Sendable (String) async throws -> Void]
    let logger: Logger
    var reporter: SyncReporter?

    func run() async {
        let queue = WorkQueue()
        await withDiscardingTaskGroup { group in
            group.addTask { await queue.run { name in await finalize(name) } }
            group.addTask {
                await informLoop(namespaces, logger: logger, reporter: reporter,
                                 onSync: { all in for ns in all where ns.metadata.deletionTimestamp != nil { queue.add(ns.name) } },
                                 onEvent: { type, ns in if type != .deleted, ns.metadata.deletionTimestamp != nil { queue.add(ns.name) } })
                queue.finish()
            }
        }
    }

    func finalize(_ name: String) async {
        do {
            for purge in purgers { try await purge(name) }
            _ = try await namespaces.guaranteedUpdate(namespace: nil, name: name) { ns in
                var copy = ns
                copy.spec.finalizers = (ns.spec.finalizers ?? []).filter { $0 != "kubernetes" }
                return copy
            }
            logger.info("namespace \(name) finalized")
        } catch let status as Status where status.code == 404 {
            return
        } catch {
            logger.warning("finalizing namespace \(name) failed: \(error)")
        }
    }
}

/// Removes pods whose grace period has ended (the part of a kubelet's job the control plane must do
/// when no kubelet will), and pods marked with a zero grace period. A pod whose node has a live agent
/// (`hasAgent`: its Lease is being renewed) is left to that agent, which removes it once its containers
/// have stopped; it is looked at again later, in case the agent goes.
struct PodTerminator: Sendable {
    let pods: ResourceRegistry<Pod>
    let logger: Logger
    let now: @Sendable () -> Date
    var reporter: SyncReporter?
    var hasAgent: @Sendable (String) async -> Bool = { _ in false }
    /// How many deadline checks have run (tests wait on it instead of sleeping).
    let rounds = RoundCounter()

    func run() async {
        let deadlines = LockedDictionary<String, Date>()
        await withDiscardingTaskGroup { group in
            group.addTask {
                await informLoop(pods, as: MetadataView.self, logger: logger, reporter: reporter,
                                 onSync: { all in
                                     for pod in all { if let d = deadline(pod) { deadlines.set(pod.key, d) } }
                                 },
                                 onEvent: { type, pod in
                                     if type == .deleted { deadlines.remove(pod.key) } else if let d = deadline(pod) { deadlines.set(pod.key, d) }
                                 })
            }
            group.addTask {
                while !Task.isCancelled {
                    try? await Task.sleep(for: .milliseconds(250))
                    defer { rounds.increment() }
                    let current = now()
                    for key in deadlines.keys {
                        guard let d = deadlines.get(key), d <= current else { continue }
                        deadlines.remove(key)
                        let parts = key.split(separator: "/", maxSplits: 1).map(String.init)
                        guard parts.count == 2 else { continue }
                        if let pod = try? await pods.get(namespace: parts[0], name: parts[1]), pod.metadata.deletionGracePeriodSeconds != 0,
                           let node = pod.spec.nodeName, !node.isEmpty, await hasAgent(node) {
                            deadlines.set(key, current.addingTimeInterval(5))
                            continue
                        }
                        var options = DeleteOptions()
                        options.gracePeriodSeconds = 0
                        do { _ = try await pods.delete(namespace: parts[0], name: parts[1], options: options) } catch {
                            logger.debug("pod \(key) final delete: \(error)")
                        }
                    }
                }
            }
        }
    }

    private func deadline(_ pod: MetadataView) -> Date? {
        guard let ts = pod.metadata.deletionTimestamp else { return nil }
        return KubeTime.parse(ts)
    }
}

/// A count other tasks can read.
final class RoundCounter: Sendable {
    private let value = Mutex(0)
    var count: Int { value.withLock { $0 } }
    func increment() { value.withLock { $0 += 1 } }
}
