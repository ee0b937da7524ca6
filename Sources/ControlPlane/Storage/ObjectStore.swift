import Foundation

/// One stored object: its key (`/services/default/web`), its JSON bytes (which already carry
/// `metadata.resourceVersion` = `modRevision`), and the revisions that created and last changed it.
public struct StoredObject: Sendable, Hashable {
    public var key: String
    public var value: Data
    public var createRevision: Int64
    public var modRevision: Int64
    public init(key: String, value: Data, createRevision: Int64, modRevision: Int64) {
        self.key = key; self.value = value; self.createRevision = createRevision; self.modRevision = modRevision
    }
}

/// A change, in revision order. For `.deleted`, `object.value` is the object's last state with its
/// resourceVersion set to the deleting revision (as upstream's DELETED watch events carry).
public struct StoreEvent: Sendable, Hashable {
    public enum Kind: Sendable, Hashable { case added, modified, deleted }
    public var kind: Kind
    public var object: StoredObject
    /// The state before this change (nil for `.added`): lets a watch with a label selector
    /// turn a MODIFIED that leaves the selection into DELETED, as upstream does.
    public var previous: StoredObject?
    public var revision: Int64 { object.modRevision }
    public init(kind: Kind, object: StoredObject, previous: StoredObject?) {
        self.kind = kind; self.object = object; self.previous = previous
    }
}

public enum StoreError: Error, Hashable, Sendable {
    case notFound(key: String)
    case alreadyExists(key: String)
    /// A watch or list asked for history older than what compaction kept.
    case expired(requested: Int64, oldestAvailable: Int64)
    /// The database failed (open, commit, history read) or the store is closed. Errors thrown by
    /// a caller's `build`/`check` closure are never wrapped in this: they reach the caller unchanged.
    case storage(String)
}

/// The storage contract of the API server: a revisioned key-value store with watchable history,
/// like etcd's subset that kube-apiserver uses. Every write is atomic and durable when it returns.
///
/// Writes take a `build` closure that receives the revision the write will get, so the caller
/// can embed it as `metadata.resourceVersion` in the bytes it stores: reads then need no rewriting.
/// A closure may throw to abort the write (validation, conflicts); the error reaches the caller unchanged,
/// nothing is written and no revision is consumed. Closures run one at a time under the store's
/// lock: they must be quick and must not call back into the store.
public protocol ObjectStore: Sendable {
    /// The revision of the last committed write (0 for an empty store).
    func currentRevision() async -> Int64

    /// The committed state of `key`: what reads, lists and watches see.
    func get(_ key: String) async throws -> StoredObject?

    /// The state the next write to `key` builds on, returned once it is durable. A read-modify-write
    /// reads with this: after `get`, a write accepted but not yet committed may already have replaced
    /// what was read, and every compare-and-swap against it would lose until that write commits.
    func getLatest(_ key: String) async throws -> StoredObject?

    /// All objects whose key starts with `prefix`, sorted by key, and the revision they are consistent at.
    func list(prefix: String) async throws -> (objects: [StoredObject], revision: Int64)

    /// Creates `key`; fails with `.alreadyExists` when it is present.
    func create(_ key: String, build: @Sendable (_ revision: Int64) throws -> Data) async throws -> StoredObject

    /// Replaces `key` with what `build` returns from the current object; `nil` from `build` means
    /// "no change" and returns the current object without a new revision. Fails with `.notFound`.
    func update(_ key: String, build: @Sendable (_ current: StoredObject, _ revision: Int64) throws -> Data?) async throws -> StoredObject

    /// Deletes `key` after `check` accepts the current object; `finalState` produces the bytes the
    /// DELETED event carries. Returns that final state. Fails with `.notFound`.
    func delete(_ key: String, check: @Sendable (_ current: StoredObject, _ revision: Int64) throws -> Data) async throws -> StoredObject

    /// Events for keys under `prefix` with revision > `afterRevision`, in order, then live ones until
    /// the stream is cancelled. Throws `.expired` when `afterRevision` is older than the kept history.
    /// A store may end the stream with an error (e.g. ``WatchOverflowError`` when the consumer falls
    /// too far behind); the events before it were complete, so the caller can watch again from the
    /// last revision it saw.
    func watch(prefix: String, afterRevision: Int64) async throws -> AsyncThrowingStream<StoreEvent, Error>

    /// Throws when the store cannot serve: closed, its last commit failed, or its database does not answer
    /// (`/readyz` and `/livez` report it, as kube-apiserver's `etcd` check does).
    func checkHealth() async throws
}
