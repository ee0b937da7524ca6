import Foundation
import GRDB
import Logging
import Synchronization

/// The control plane's durable ``ObjectStore``: SQLite (WAL, `synchronous=FULL`) underneath,
/// the current state and recent history in memory on top.
///
/// - Reads and lists are served from memory (a dictionary plus a sorted key index) and see
///   committed writes only.
/// - Writes are serialised: each `build`/`check` closure runs under the store's lock, sees the
///   latest state including writes still waiting for their commit, and gets the next revision.
///   A closure that throws writes nothing and consumes no revision.
/// - Accepted writes are **group committed**: one SQLite transaction per batch, while the next
///   batch queues up. A write returns, and its event reaches watchers, only after its batch
///   committed, so every acknowledged write survives `kill -9`. A failed commit fails every
///   write queued at that moment with ``StoreError/storage(_:)``; their revisions are skipped.
/// - Revisions are one counter across all keys, persisted, never reused (also across reopen,
///   deletes and compaction).
/// - History: the newest `historyLimit` events stay in memory; older ones are read from
///   SQLite until ``compact(keepLast:)`` removes them.
/// - Watches get a bounded buffer (`watchBufferLimit` live events beyond their replay); a
///   watcher that falls further behind has its stream finished with ``WatchOverflowError``
///   and no other watcher or writer is slowed by it.
public final class SQLiteStore: ObjectStore, Sendable {
    let pool: DatabasePool
    let state: Mutex<StoreState>
    let logger: Logger
    /// How many recent events are kept in memory for watches.
    public let historyLimit: Int
    /// How many undelivered live events a watcher may lag behind before its stream is ended.
    public let watchBufferLimit: Int
    /// Where the database file lives.
    public let path: String

    /// Opens (or creates) the store at `path`, creating its directory and schema, and loads
    /// the current objects and the newest `historyLimit` events into memory.
    public init(path: String, historyLimit: Int = 10_000, watchBufferLimit: Int = 10_000, logger: Logger? = nil) throws {
        let logger = logger ?? Logger(label: "kproxy.store")
        let pool: DatabasePool
        let snapshot: StoreDatabase.Snapshot
        do {
            pool = try StoreDatabase.open(path: path)
            snapshot = try StoreDatabase.load(pool, historyLimit: max(1, historyLimit))
        } catch {
            throw StoreError.storage("opening \(path): \(error)")
        }
        self.pool = pool
        self.path = path
        self.logger = logger
        self.historyLimit = max(1, historyLimit)
        self.watchBufferLimit = max(1, watchBufferLimit)
        state = Mutex(StoreState(snapshot: snapshot, historyLimit: max(1, historyLimit)))
        logger.info("store opened", metadata: [
            "path": "\(path)", "objects": "\(snapshot.objects.count)",
            "revision": "\(snapshot.lastRevision)", "compacted": "\(snapshot.compactedRevision)",
        ])
    }

    /// Same as ``init(path:historyLimit:watchBufferLimit:logger:)``.
    public static func open(path: String, historyLimit: Int = 10_000, watchBufferLimit: Int = 10_000,
                            logger: Logger? = nil) throws -> SQLiteStore {
        try SQLiteStore(path: path, historyLimit: historyLimit, watchBufferLimit: watchBufferLimit, logger: logger)
    }

    // MARK: Reads

    public func currentRevision() async -> Int64 {
        state.withLock { $0.committedRevision }
    }

    /// The revision below which history is gone: watches must start at or after it.
    public func compactedRevision() -> Int64 {
        state.withLock { $0.compactedRevision }
    }

    public func get(_ key: String) async throws -> StoredObject? {
        state.withLock { $0.objects[key] }
    }

    public func getLatest(_ key: String) async throws -> StoredObject? {
        try await withCheckedThrowingContinuation { (waiter: CheckedContinuation<StoredObject?, Error>) in
            enum Next { case none, startFlush, resume(StoredObject?) }
            let next: Next = state.withLock { s in
                guard let pending = s.overlay[key] else { return .resume(s.objects[key]) }
                return s.enqueueWait(pending.object, waiter: waiter) ? .startFlush : .none
            }
            switch next {
            case .none: break
            case .startFlush: Task { await self.flushLoop() }
            case .resume(let object): waiter.resume(returning: object)
            }
        }
    }

    /// Objects whose key starts with `prefix` (literally: pass `/services/default/`, with the
    /// trailing slash, to keep `/services/default-2/` out), sorted by key.
    public func list(prefix: String) async throws -> (objects: [StoredObject], revision: Int64) {
        state.withLock { s in
            var objects: [StoredObject] = []
            s.index.forEach(withPrefix: prefix) { key in
                if let object = s.objects[key] { objects.append(object) }
            }
            return (objects, s.committedRevision)
        }
    }

    public func checkHealth() async throws {
        let (closed, failure) = state.withLock { ($0.closed, $0.lastCommitFailure) }
        if closed { throw StoreError.storage("store closed") }
        if let failure { throw StoreError.storage("last commit failed: \(failure)") }
        do {
            _ = try await pool.read { db in try Int.fetchOne(db, sql: "SELECT 1") }
        } catch {
            throw StoreError.storage("database \(path) does not answer: \(error)")
        }
    }

    // MARK: Writes

    public func create(_ key: String, build: @Sendable (_ revision: Int64) throws -> Data) async throws -> StoredObject {
        try await submit(key) { current, revision in
            if current != nil { throw StoreError.alreadyExists(key: key) }
            let value = try build(revision)
            let object = StoredObject(key: key, value: value, createRevision: revision, modRevision: revision)
            return StoreEvent(kind: .added, object: object, previous: nil)
        }
    }

    public func update(_ key: String, build: @Sendable (_ current: StoredObject, _ revision: Int64) throws -> Data?) async throws -> StoredObject {
        try await submit(key) { current, revision in
            guard let current else { throw StoreError.notFound(key: key) }
            guard let value = try build(current, revision) else { return nil }
            let object = StoredObject(key: key, value: value, createRevision: current.createRevision, modRevision: revision)
            return StoreEvent(kind: .modified, object: object, previous: current)
        }
    }

    public func delete(_ key: String, check: @Sendable (_ current: StoredObject, _ revision: Int64) throws -> Data) async throws -> StoredObject {
        try await submit(key) { current, revision in
            guard let current else { throw StoreError.notFound(key: key) }
            let value = try check(current, revision)
            let object = StoredObject(key: key, value: value, createRevision: current.createRevision, modRevision: revision)
            return StoreEvent(kind: .deleted, object: object, previous: current)
        }
    }

    /// Stops accepting writes, waits until every accepted write is committed, and finishes all
    /// watch streams with ``StoreError/storage(_:)``. Reads keep working.
    public func close() async {
        let watchers = state.withLock { s in
            s.closed = true
            let watchers = Array(s.watchers.values)
            s.watchers = [:]
            return watchers
        }
        for watcher in watchers { watcher.continuation.finish(throwing: StoreError.storage("store closed")) }
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            let idle = state.withLock { s in
                if !s.flushing { return true }
                s.drainWaiters.append(done)
                return false
            }
            if idle { done.resume() }
        }
    }

    /// Runs `decide` under the lock with the latest state of `key` and the revision the write
    /// would get; `nil` from `decide` means "no change" and returns the latest state.
    private func submit(
        _ key: String,
        _ decide: (_ current: StoredObject?, _ revision: Int64) throws -> StoreEvent?
    ) async throws -> StoredObject {
        let written = try await withCheckedThrowingContinuation { (waiter: CheckedContinuation<StoredObject?, Error>) in
            enum Next { case none, startFlush, resume(StoredObject), fail(Error) }
            let next: Next = state.withLock { s in
                guard !s.closed else { return .fail(StoreError.storage("store closed")) }
                let current = s.latest(key)
                do {
                    if let event = try decide(current, s.lastAssigned + 1) {
                        return s.enqueue(event, waiter: waiter) ? .startFlush : .none
                    }
                } catch {
                    return .fail(error)
                }
                guard let current else { return .fail(StoreError.notFound(key: key)) }
                if s.overlay[key] == nil { return .resume(current) }
                return s.enqueueWait(current, waiter: waiter) ? .startFlush : .none
            }
            switch next {
            case .none: break
            case .startFlush: Task { await self.flushLoop() }
            case .resume(let object): waiter.resume(returning: object)
            case .fail(let error): waiter.resume(throwing: error)
            }
        }
        guard let written else { throw StoreError.notFound(key: key) }
        return written
    }
}
