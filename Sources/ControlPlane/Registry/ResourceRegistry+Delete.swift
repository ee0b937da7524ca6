import Foundation
import KubeAPI

extension ResourceRegistry {
    /// The outcome of a DELETE: the object was removed, or only marked (grace period, finalizers).
    public enum DeleteOutcome: Sendable {
        case deleted(T)
        case marked(T)
        public var object: T { switch self { case .deleted(let o), .marked(let o): o } }
    }

    /// DELETE with upstream's rules: preconditions (uid, resourceVersion) → 409; finalizers or a grace
    /// period mark the object (`deletionTimestamp`) and keep it; otherwise it is removed at once.
    public func delete(namespace: String?, name: String, options: DeleteOptions = DeleteOptions(), dryRun: Bool = false) async throws -> DeleteOutcome {
        let objectKey = key(info.namespaced ? namespace : nil, name)
        for _ in 0..<Self.writeAttempts {
            do {
                guard let stored = try await store.getLatest(objectKey) else { throw Status.notFound(info, name: name) }
                var object = try Self.decode(stored)
                if let uid = options.preconditions?.uid, uid != object.metadata.uid {
                    throw Status(message: "Precondition failed: UID in precondition: \(uid), UID in object meta: \(object.metadata.uid ?? "")",
                                 reason: "Conflict", details: StatusDetails(name: name, kind: info.resource), code: 409)
                }
                if let rv = options.preconditions?.resourceVersion, rv != object.metadata.resourceVersion {
                    throw Status(message: "Precondition failed: ResourceVersion in precondition: \(rv), ResourceVersion in object meta: \(object.metadata.resourceVersion ?? "")",
                                 reason: "Conflict", details: StatusDetails(name: name, kind: info.resource), code: 409)
                }
                let grace = deletion.gracePeriod(for: object, requested: options.gracePeriodSeconds) ?? 0
                if deletion.propagatesToDependents, object.metadata.deletionTimestamp == nil {
                    let policy = options.propagationPolicy ?? (options.orphanDependents == true ? .orphan : .background)
                    let finalizer = policy == .orphan ? GCFinalizer.orphan : policy == .foreground ? GCFinalizer.foreground : nil
                    if let finalizer, !(object.metadata.finalizers ?? []).contains(finalizer) {
                        object.metadata.finalizers = (object.metadata.finalizers ?? []) + [finalizer]
                    }
                }
                if !hasPendingFinalizers(object), grace == 0 {
                    return .deleted(try await removeNow(objectKey, expectedRevision: stored.modRevision, finalState: object, dryRun: dryRun))
                }
                let now = env.now()
                if object.metadata.deletionTimestamp == nil {
                    object.metadata.deletionTimestamp = KubeTime.format(now.addingTimeInterval(TimeInterval(grace)))
                    object.metadata.deletionGracePeriodSeconds = grace
                    deletion.markDeleting(&object)
                } else if grace < (object.metadata.deletionGracePeriodSeconds ?? .max) {
                    // A shorter grace period may replace a longer one, never the other way round.
                    object.metadata.deletionTimestamp = KubeTime.format(now.addingTimeInterval(TimeInterval(grace)))
                    object.metadata.deletionGracePeriodSeconds = grace
                } else {
                    return .marked(object)
                }
                if dryRun { return .marked(object) }
                let marked = object
                let expected = stored.modRevision
                let result = try await store.update(objectKey) { current, revision in
                    guard current.modRevision == expected else { throw RetryUpdate() }
                    return try Self.encode(marked, revision: revision)
                }
                return .marked(try Self.decode(result))
            } catch is RetryUpdate {
                continue
            } catch { throw statusError(error, info, name: name) }
        }
        throw Status.conflict(info, name: name)
    }

    /// Removes the object if it is still at `expectedRevision`; the DELETED event carries `finalState`.
    func removeNow(_ objectKey: String, expectedRevision: Int64, finalState: T, dryRun: Bool = false) async throws -> T {
        if dryRun { return finalState }
        let final = finalState
        let removed = try await store.delete(objectKey) { current, revision in
            guard current.modRevision == expectedRevision else { throw RetryUpdate() }
            return try Self.encode(final, revision: revision)
        }
        let object = try Self.decode(removed)
        await hooks.didDelete(object)
        return object
    }

    /// DELETE on a collection: every object the options select, one by one, as upstream does. With
    /// `dryRun` nothing is removed or marked; the answer lists what would have been.
    public func deleteCollection(namespace: String?, listOptions: ListOptions, options: DeleteOptions, dryRun: Bool = false) async throws -> [T] {
        let (items, _) = try await list(namespace: namespace, options: listOptions)
        var deleted: [T] = []
        for item in items {
            do {
                deleted.append(try await delete(namespace: item.metadata.namespace, name: item.name, options: options, dryRun: dryRun).object)
            } catch let status as Status where status.code == 404 {
                continue
            }
        }
        return deleted
    }
}

/// `generateName` suffixes: five characters from upstream's alphabet (no vowels, no confusable digits).
enum NameGenerator {
    static let alphabet = Array("bcdfghjklmnpqrstvwxz2456789")
    static func generate(base: String) -> String {
        let trimmed = base.count > 58 ? String(base.prefix(58)) : base
        var suffix = ""
        for _ in 0..<5 { suffix.append(alphabet.randomElement() ?? "x") }
        return trimmed + suffix
    }
}

/// Moves `status` between two objects of a kind without knowing its type.
enum StatusCopier {
    static func withStatus<T: KubeObject>(of source: T, on target: T) -> T {
        guard let sourceJSON = try? KubeJSON.toJSONValue(source), var targetJSON = try? KubeJSON.toJSONValue(target) else { return target }
        targetJSON["status"] = sourceJSON["status"] ?? .null
        if sourceJSON["status"] == nil, case .object(var o) = targetJSON { o.removeValue(forKey: "status"); targetJSON = .object(o) }
        return (try? KubeJSON.fromJSONValue(T.self, targetJSON)) ?? target
    }
}
