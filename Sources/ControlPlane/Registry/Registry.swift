import Foundation
import KubeAPI

/// What a kind may add to the generic registry: allocation on create, release on delete, and so on.
/// Hooks run before the store write; `rollback` undoes `prepareCreate`/`prepareUpdate` work when the write fails.
public protocol RegistryHooks<Object>: Sendable {
    associatedtype Object: ServedObject
    func prepareCreate(_ object: inout Object) async throws
    func prepareUpdate(_ object: inout Object, old: Object) async throws
    func rollbackCreate(_ object: Object) async
    func rollbackUpdate(_ object: Object, old: Object) async
    func didCreate(_ object: Object) async
    func didUpdate(_ object: Object, old: Object) async
    func didDelete(_ object: Object) async
}

extension RegistryHooks {
    public func prepareCreate(_ object: inout Object) async throws {}
    public func prepareUpdate(_ object: inout Object, old: Object) async throws {}
    public func rollbackCreate(_ object: Object) async {}
    public func rollbackUpdate(_ object: Object, old: Object) async {}
    public func didCreate(_ object: Object) async {}
    public func didUpdate(_ object: Object, old: Object) async {}
    public func didDelete(_ object: Object) async {}
}

/// Hooks for kinds that need none.
public struct NoHooks<Object: ServedObject>: RegistryHooks {
    public init() {}
}

/// Options of a list or watch, as the query string carries them.
public struct ListOptions: Sendable {
    public var labelSelector: LabelSelector?
    public var fieldSelector: FieldSelector?
    public var resourceVersion: String?
    public var resourceVersionMatch: String?
    public var limit: Int?
    public var continueToken: String?
    public var timeoutSeconds: Int?
    public var allowWatchBookmarks = false
    public var sendInitialEvents: Bool?
    public init() {}
}

/// Where an object lives in the store: `/services/default/web`, `/nodes/n1`.
struct StoreKey {
    static func key(_ info: ResourceInfo, namespace: String?, name: String) -> String {
        if info.namespaced, let namespace { return "/\(info.resource)/\(namespace)/\(name)" }
        return "/\(info.resource)/\(name)"
    }

    static func prefix(_ info: ResourceInfo, namespace: String?) -> String {
        if info.namespaced, let namespace, !namespace.isEmpty { return "/\(info.resource)/\(namespace)/" }
        return "/\(info.resource)/"
    }
}

/// Time and identity sources, injected so tests are deterministic.
public struct RegistryEnvironment: Sendable {
    public var now: @Sendable () -> Date
    public var newUID: @Sendable () -> String
    public init(now: @escaping @Sendable () -> Date = { Date() },
                newUID: @escaping @Sendable () -> String = { UUID().uuidString.lowercased() }) {
        self.now = now; self.newUID = newUID
    }
}

/// Turns store errors into the Status a client expects.
func statusError(_ error: Error, _ info: ResourceInfo, name: String) -> Status {
    if let status = error as? Status { return status }
    if let storeError = error as? StoreError {
        switch storeError {
        case .notFound: return .notFound(info, name: name)
        case .alreadyExists: return .alreadyExists(info, name: name)
        case .expired(let requested, let oldest):
            return .expired("too old resource version: \(requested) (\(oldest))")
        case .storage(let message): return .internalError(message)
        }
    }
    if let decoding = error as? DecodingError { return .badRequest(describe(decoding)) }
    return .internalError(String(describing: error))
}

/// A short, user-facing description of a JSON decoding failure.
func describe(_ error: DecodingError) -> String {
    func path(_ context: DecodingError.Context) -> String {
        context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
    }
    switch error {
    case .typeMismatch(let type, let ctx): return "json: cannot unmarshal into \(path(ctx)) of type \(type): \(ctx.debugDescription)"
    case .valueNotFound(_, let ctx): return "json: missing value at \(path(ctx))"
    case .keyNotFound(let key, let ctx): return "json: missing field \"\(key.stringValue)\" at \(path(ctx))"
    case .dataCorrupted(let ctx): return "json: invalid data at \(path(ctx)): \(ctx.debugDescription)"
    @unknown default: return "json: \(error)"
    }
}

/// How a kind is deleted, beyond the generic rules (finalizers make every kind wait).
public protocol DeletionPolicy<Object>: Sendable {
    associatedtype Object: ServedObject
    /// Grace period to wait before the object is really removed; nil deletes at once.
    func gracePeriod(for object: Object, requested: Int64?) -> Int64?
    /// Finalization still pending besides `metadata.finalizers` (a Namespace's `spec.finalizers`).
    func hasPendingFinalization(_ object: Object) -> Bool
    /// What marking the object for deletion also changes (a Namespace turns Terminating).
    func markDeleting(_ object: inout Object)
    /// Whether the garbage collector follows this kind's dependents, so Orphan and Foreground
    /// propagation become the `orphan` / `foregroundDeletion` finalizers it works off.
    var propagatesToDependents: Bool { get }
}

extension DeletionPolicy {
    public func gracePeriod(for object: Object, requested: Int64?) -> Int64? { nil }
    public func hasPendingFinalization(_ object: Object) -> Bool { false }
    public func markDeleting(_ object: inout Object) {}
    public var propagatesToDependents: Bool { false }
}

public struct ImmediateDeletion<Object: ServedObject>: DeletionPolicy {
    public init() {}
}

/// Deployments and ReplicaSets: deleted at once (Background, their default), or held by a
/// finalizer while the garbage collector orphans (Orphan) or deletes (Foreground) their dependents.
public struct OwnerDeletion<Object: ServedObject>: DeletionPolicy {
    public init() {}
    public var propagatesToDependents: Bool { true }
}

/// The finalizers of propagated deletion, as upstream names them.
public enum GCFinalizer {
    public static let orphan = "orphan"
    public static let foreground = "foregroundDeletion"
}
