import Foundation
import KubeAPI
import Logging

/// One kind the garbage collector follows, reduced to what it needs: metadata, delete, metadata update.
struct CollectedKind: Sendable {
    let kind: String
    let namespaced: Bool
    let get: @Sendable (String?, String) async throws -> ObjectMeta?
    let delete: @Sendable (String?, String, DeleteOptions) async throws -> Void
    let updateMetadata: @Sendable (String?, String, @escaping @Sendable (inout ObjectMeta) -> Void) async throws -> Void
    let inform: @Sendable (Logger, @escaping @Sendable ([ObjectMeta]) async -> Void, @escaping @Sendable (WatchEventType, ObjectMeta) async -> Void) async -> Void

    static func of<T: ServedObject>(_ registry: ResourceRegistry<T>) -> CollectedKind {
        CollectedKind(
            kind: T.resourceInfo.kind,
            namespaced: T.resourceInfo.namespaced,
            get: { ns, name in
                do { return try await registry.get(namespace: ns, name: name).metadata } catch let s as Status where s.code == 404 { return nil }
            },
            delete: { ns, name, options in
                do { _ = try await registry.delete(namespace: ns, name: name, options: options) } catch let s as Status where s.code == 404 {}
            },
            updateMetadata: { ns, name, change in
                do {
                    _ = try await registry.guaranteedUpdate(namespace: ns, name: name) { current in
                        var copy = current
                        change(&copy.metadata)
                        return copy
                    }
                } catch let s as Status where s.code == 404 {}
            },
            inform: { logger, onSync, onEvent in
                await informLoop(registry, as: OwnershipView.self, logger: logger,
                                 onSync: { all in await onSync(all.map(\.metadata)) }, onEvent: { type, v in await onEvent(type, v.metadata) })
            })
    }
}

/// Just the metadata, decoded whole (uid, owner references, finalizers).
struct OwnershipView: Decodable, Sendable {
    var metadata: ObjectMeta
}

/// Deletes objects whose owners are gone (Background propagation), and works off the two finalizers of
/// propagated deletion: `orphan` (dependents lose the owner reference, then the owner goes) and
/// `foregroundDeletion` (dependents are deleted first, then the owner). Before acting on a missing owner
/// it asks the registry, so an owner created a moment ago is never taken for a dangling one.
actor GarbageCollector {
    private let kinds: [String: CollectedKind]
    private let logger: Logger
    private let queue = WorkQueue(batchPeriod: .milliseconds(20))
    /// "Kind/namespace/name" → metadata, and owner uid → its dependents' keys.
    private var objects: [String: ObjectMeta] = [:]
    private var dependents: [String: Set<String>] = [:]
    private var keyOfUID: [String: String] = [:]

    init(kinds: [CollectedKind], logger: Logger) {
        self.kinds = Dictionary(kinds.map { ($0.kind, $0) }, uniquingKeysWith: { a, _ in a })
        self.logger = logger
    }

    func run() async {
        await withDiscardingTaskGroup { group in
            group.addTask { await self.queue.run { key in await self.process(key) } }
            for kind in kinds.values {
                group.addTask {
                    await kind.inform(self.logger, { all in await self.reset(kind.kind, all) },
                                      { type, meta in await self.changed(kind.kind, type, meta) })
                }
            }
        }
    }

    static func key(_ kind: String, _ meta: ObjectMeta) -> String { "\(kind)/\(meta.namespace ?? "")/\(meta.name ?? "")" }

    private func reset(_ kind: String, _ all: [ObjectMeta]) {
        for (key, meta) in objects where key.hasPrefix(kind + "/") { forget(key, meta) }
        for meta in all { changed(kind, .added, meta) }
    }

    private func changed(_ kind: String, _ type: WatchEventType, _ meta: ObjectMeta) {
        let key = Self.key(kind, meta)
        if let old = objects[key] { forget(key, old) }
        if type == .deleted {
            // Its dependents may now dangle; an owner waiting in the foreground may now be free.
            for dependent in dependents[meta.uid ?? ""] ?? [] { queue.add(dependent) }
            for ref in meta.ownerReferences ?? [] { if let owner = keyOfUID[ref.uid] { queue.add(owner) } }
            return
        }
        objects[key] = meta
        if let uid = meta.uid { keyOfUID[uid] = key }
        for ref in meta.ownerReferences ?? [] { dependents[ref.uid, default: []].insert(key) }
        if !(meta.ownerReferences ?? []).isEmpty || meta.deletionTimestamp != nil { queue.add(key) }
    }

    private func forget(_ key: String, _ meta: ObjectMeta) {
        objects.removeValue(forKey: key)
        if let uid = meta.uid, keyOfUID[uid] == key { keyOfUID.removeValue(forKey: uid) }
        for ref in meta.ownerReferences ?? [] { dependents[ref.uid]?.remove(key) }
    }

    private func process(_ key: String) async {
        let parts = key.split(separator: "/", maxSplits: 2, omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 3, let kind = kinds[parts[0]] else { return }
        let ns = parts[1].isEmpty ? nil : parts[1]
        do {
            guard let meta = try await kind.get(ns, parts[2]) else { return }
            if meta.deletionTimestamp != nil, let uid = meta.uid {
                let finalizers = meta.finalizers ?? []
                if finalizers.contains(GCFinalizer.orphan) { try await orphanDependents(of: uid, kind, ns, parts[2]) }
                if finalizers.contains(GCFinalizer.foreground) { try await deleteDependentsFirst(of: uid, kind, ns, parts[2]) }
            }
            try await checkOwners(meta, kind, ns, parts[2])
        } catch {
            logger.warning("garbage collector: \(key): \(error); will retry")
            queue.retry(key)
        }
    }

    private func orphanDependents(of uid: String, _ kind: CollectedKind, _ ns: String?, _ name: String) async throws {
        for key in dependents[uid] ?? [] {
            let p = key.split(separator: "/", maxSplits: 2, omittingEmptySubsequences: false).map(String.init)
            guard p.count == 3, let dependentKind = kinds[p[0]] else { continue }
            try await dependentKind.updateMetadata(p[1].isEmpty ? nil : p[1], p[2]) { meta in
                meta.ownerReferences?.removeAll { $0.uid == uid }
                if meta.ownerReferences?.isEmpty == true { meta.ownerReferences = nil }
            }
        }
        try await kind.updateMetadata(ns, name) { meta in meta.finalizers?.removeAll { $0 == GCFinalizer.orphan } }
        logger.info("garbage collector: orphaned the dependents of \(kind.kind) \(ns ?? "")/\(name)")
    }

    private func deleteDependentsFirst(of uid: String, _ kind: CollectedKind, _ ns: String?, _ name: String) async throws {
        var remaining = 0
        for key in dependents[uid] ?? [] {
            let p = key.split(separator: "/", maxSplits: 2, omittingEmptySubsequences: false).map(String.init)
            guard p.count == 3, let dependentKind = kinds[p[0]] else { continue }
            remaining += 1
            if objects[key]?.deletionTimestamp == nil {
                var options = DeleteOptions()
                options.propagationPolicy = .foreground
                try await dependentKind.delete(p[1].isEmpty ? nil : p[1], p[2], options)
            }
        }
        guard remaining == 0 else { return }
        try await kind.updateMetadata(ns, name) { meta in meta.finalizers?.removeAll { $0 == GCFinalizer.foreground } }
        logger.info("garbage collector: dependents of \(kind.kind) \(ns ?? "")/\(name) are gone; removed it")
    }

    /// Owner references whose owner is gone (or is another object of that name now) dangle. All dangling:
    /// the dependent goes. Some: the dangling ones are removed. An owner deleting in the foreground takes
    /// its blocking dependents with it.
    private func checkOwners(_ meta: ObjectMeta, _ kind: CollectedKind, _ ns: String?, _ name: String) async throws {
        let refs = meta.ownerReferences ?? []
        guard !refs.isEmpty, meta.deletionTimestamp == nil else { return }
        var dangling: [String] = []
        for ref in refs {
            guard let ownerKind = kinds[ref.kind] else { continue }  // owners of kinds not followed are assumed alive
            // A cluster-scoped owner (a Node owning its Lease) is looked up without the dependent's namespace.
            let owner = try await ownerKind.get(ownerKind.namespaced ? ns : nil, ref.name)
            guard let owner, owner.uid == ref.uid else { dangling.append(ref.uid); continue }
            if owner.deletionTimestamp != nil, (owner.finalizers ?? []).contains(GCFinalizer.foreground) {
                var options = DeleteOptions()
                options.propagationPolicy = .foreground
                try await kind.delete(ns, name, options)
                return
            }
        }
        if dangling.count == refs.count {
            var options = DeleteOptions()
            options.propagationPolicy = .background
            try await kind.delete(ns, name, options)
            logger.info("garbage collector: deleted \(kind.kind) \(ns ?? "")/\(name): its owner is gone")
        } else if !dangling.isEmpty {
            let gone = Set(dangling)
            try await kind.updateMetadata(ns, name) { meta in meta.ownerReferences?.removeAll { gone.contains($0.uid) } }
        }
    }
}
