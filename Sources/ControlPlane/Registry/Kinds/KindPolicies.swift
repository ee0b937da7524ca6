import Foundation
import KubeAPI

/// Services: ClusterIP and NodePort allocation on create and update, released on delete.
struct ServiceHooks: RegistryHooks {
    let allocations: ServiceAllocations
    /// Allocations made by the last prepare, per Service, so a failed write can return them.
    private let pending = PendingAllocations()

    init(allocations: ServiceAllocations) { self.allocations = allocations }

    func prepareCreate(_ object: inout Service) async throws {
        let made = try await allocations.allocate(&object, old: nil)
        pending.put(object, made)
    }

    func prepareUpdate(_ object: inout Service, old: Service) async throws {
        let made = try await allocations.allocate(&object, old: old)
        pending.put(object, made)
    }

    func rollbackCreate(_ object: Service) async {
        if let made = pending.take(object) { await allocations.undo(made) }
    }

    func rollbackUpdate(_ object: Service, old: Service) async {
        if let made = pending.take(object) { await allocations.undo(made) }
    }

    func didUpdate(_ object: Service, old: Service) async {
        _ = pending.take(object)
        await allocations.releaseDropped(old: old, new: object)
    }

    func didCreate(_ object: Service) async { _ = pending.take(object) }

    func didDelete(_ object: Service) async { await allocations.release(object) }
}

/// Allocations between prepare and commit, keyed by namespace/name.
final class PendingAllocations: Sendable {
    private let map = LockedDictionary<String, ServiceAllocations.Allocated>()
    func put(_ s: Service, _ a: ServiceAllocations.Allocated) { map.set(s.key, a) }
    func take(_ s: Service) -> ServiceAllocations.Allocated? { map.remove(s.key) }
}

/// Namespaces: created with the `kubernetes` finalizer and phase Active; deleting turns them Terminating
/// until the namespace controller has removed their contents and the finalizer.
struct NamespaceHooks: RegistryHooks {
    /// The check every namespaced create passes: the namespace exists (404) and is not terminating (403).
    static func gate(_ namespaces: ResourceRegistry<Namespace>) -> @Sendable (String) async throws -> Void {
        { name in
            guard let ns = try? await namespaces.get(namespace: nil, name: name) else {
                throw Status.notFound(Namespace.resourceInfo, name: name)
            }
            if ns.metadata.deletionTimestamp != nil {
                throw Status(message: "unable to create new content in namespace \(name) because it is being terminated",
                             reason: "Forbidden", details: StatusDetails(name: name, kind: "namespaces"), code: 403)
            }
        }
    }


    func prepareCreate(_ object: inout Namespace) async throws {
        object.spec.finalizers = object.spec.finalizers ?? ["kubernetes"]
        object.status.phase = .active
    }
}

struct NamespaceDeletion: DeletionPolicy {
    func hasPendingFinalization(_ object: Namespace) -> Bool { !(object.spec.finalizers ?? []).isEmpty }
    func markDeleting(_ object: inout Namespace) { object.status.phase = .terminating }
}

/// Pods bound to a node are deleted gracefully (terminationGracePeriodSeconds, default 30 s); unbound or
/// finished pods go at once. The pod terminator removes them when their grace period ends.
struct PodDeletion: DeletionPolicy {
    func gracePeriod(for pod: Pod, requested: Int64?) -> Int64? {
        if (pod.spec.nodeName ?? "").isEmpty { return 0 }
        if pod.status.phase == .succeeded || pod.status.phase == .failed { return 0 }
        return max(0, requested ?? pod.spec.terminationGracePeriodSeconds ?? 30)
    }
}
