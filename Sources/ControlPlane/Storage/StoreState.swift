import Foundation

/// Everything ``SQLiteStore`` keeps in memory, guarded by one mutex.
///
/// Two views of the data: `objects` (committed: what reads, lists and watches see) and
/// `overlay` (writes accepted but not yet committed: what the next `build` closure sees).
struct StoreState: Sendable {
    /// A write waiting for its group commit; `event` is nil for an update that changed nothing, or a
    /// read of pending state, that must not return before the state it returns is durable
    /// (`result == nil`: the key's pending write deletes it).
    struct PendingWrite: Sendable {
        var event: StoreEvent?
        var result: StoredObject?
        var waiter: CheckedContinuation<StoredObject?, Error>
    }

    /// The latest uncommitted state of a key (`object == nil`: deleted) and the revision that wrote it.
    struct Pending: Sendable {
        var object: StoredObject?
        var revision: Int64
    }

    struct Watcher: Sendable {
        var prefix: String
        /// Events at or below this revision were already replayed (or predate the watch).
        var after: Int64
        var continuation: AsyncThrowingStream<StoreEvent, Error>.Continuation
    }

    var objects: [String: StoredObject]
    var index: SortedKeyIndex
    var overlay: [String: Pending] = [:]
    var queue: [PendingWrite] = []
    var flushing = false
    var drainWaiters: [CheckedContinuation<Void, Never>] = []
    /// The revision of the last committed write.
    var committedRevision: Int64
    /// The last revision handed to a `build` closure (committed or pending). Never reused.
    var lastAssigned: Int64
    var compactedRevision: Int64
    var ring: EventRing
    var watchers: [Int: Watcher] = [:]
    var nextWatcherID = 0
    var closed = false
    /// Why the last commit failed; nil once a commit succeeds again.
    var lastCommitFailure: String?

    init(snapshot: StoreDatabase.Snapshot, historyLimit: Int) {
        var objects: [String: StoredObject] = [:]
        objects.reserveCapacity(snapshot.objects.count)
        for object in snapshot.objects { objects[object.key] = object }
        self.objects = objects
        index = SortedKeyIndex(objects.keys)
        committedRevision = snapshot.lastRevision
        lastAssigned = snapshot.lastRevision
        compactedRevision = snapshot.compactedRevision
        ring = EventRing(capacity: historyLimit, events: snapshot.recentEvents, floor: snapshot.recentFloor)
    }

    /// The state a write builds on: pending writes first, then committed objects.
    func latest(_ key: String) -> StoredObject? {
        if let pending = overlay[key] { return pending.object }
        return objects[key]
    }

    /// Accepts a write at revision `lastAssigned + 1` into the queue and the overlay.
    /// Returns true when the caller must start the flush loop.
    mutating func enqueue(_ event: StoreEvent, waiter: CheckedContinuation<StoredObject?, Error>) -> Bool {
        lastAssigned = event.revision
        let key = event.object.key
        overlay[key] = Pending(object: event.kind == .deleted ? nil : event.object, revision: event.revision)
        queue.append(PendingWrite(event: event, result: event.object, waiter: waiter))
        return startFlushing()
    }

    /// Queues a waiter that returns `result` once everything queued before it is committed.
    mutating func enqueueWait(_ result: StoredObject?, waiter: CheckedContinuation<StoredObject?, Error>) -> Bool {
        queue.append(PendingWrite(event: nil, result: result, waiter: waiter))
        return startFlushing()
    }

    private mutating func startFlushing() -> Bool {
        guard !flushing else { return false }
        flushing = true
        return true
    }

    /// Applies a committed batch to the committed view and the history ring, and publishes it
    /// to matching watchers. Returns the watchers whose buffers overflowed (already removed);
    /// the caller finishes them outside the lock.
    mutating func applyCommitted(_ events: [StoreEvent]) -> [Watcher] {
        var overflowed: [Watcher] = []
        for event in events {
            let key = event.object.key
            switch event.kind {
            case .added, .modified:
                if objects.updateValue(event.object, forKey: key) == nil { index.insert(key) }
            case .deleted:
                if objects.removeValue(forKey: key) != nil { index.remove(key) }
            }
            if let pending = overlay[key], pending.revision <= event.revision {
                overlay.removeValue(forKey: key)
            }
            ring.append(event)
            committedRevision = max(committedRevision, event.revision)
            overflowed += publish(event)
        }
        return overflowed
    }

    /// Drops every uncommitted write after a failed commit; returns their waiters to fail.
    mutating func abandonPending() -> [PendingWrite] {
        let abandoned = queue
        queue = []
        overlay = [:]
        return abandoned
    }

    private mutating func publish(_ event: StoreEvent) -> [Watcher] {
        var overflowed: [Watcher] = []
        for (id, watcher) in watchers where event.revision > watcher.after && event.object.key.hasPrefix(watcher.prefix) {
            switch watcher.continuation.yield(event) {
            case .enqueued:
                continue
            case .dropped:
                watchers.removeValue(forKey: id)
                overflowed.append(watcher)
            case .terminated:
                watchers.removeValue(forKey: id)
            @unknown default:
                watchers.removeValue(forKey: id)
            }
        }
        return overflowed
    }
}
