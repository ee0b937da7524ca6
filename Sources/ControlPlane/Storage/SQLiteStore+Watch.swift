import Foundation
import Logging

/// Ends a watch stream whose consumer fell more than `limit` events behind the writers. The
/// events before it were delivered in order without gaps; the consumer should watch again from
/// the last revision it saw (the API server ends that HTTP watch; clients re-watch).
public struct WatchOverflowError: Error, Hashable, Sendable {
    public var prefix: String
    public var limit: Int
    public init(prefix: String, limit: Int) {
        self.prefix = prefix; self.limit = limit
    }
}

extension SQLiteStore {
    /// Replays the history after `afterRevision` under `prefix` (from memory, or from SQLite
    /// for older revisions), then streams live events, in revision order with no gaps or
    /// duplicates. Throws ``StoreError/expired(requested:oldestAvailable:)`` when `afterRevision`
    /// is below the compacted revision (`oldestAvailable` is the lowest `afterRevision` accepted).
    /// A revision above the current one streams only events after it. The stream ends with
    /// ``WatchOverflowError`` when the consumer lags more than `watchBufferLimit` live events.
    public func watch(prefix: String, afterRevision: Int64) async throws -> AsyncThrowingStream<StoreEvent, Error> {
        var from = afterRevision
        var replay: [StoreEvent] = []
        while true {
            enum Start { case stream(AsyncThrowingStream<StoreEvent, Error>), expired(Int64), closed, needHistory }
            let start: Start = state.withLock { s in
                if s.closed { return .closed }
                if from < s.compactedRevision { return .expired(s.compactedRevision) }
                guard from >= s.ring.floor else { return .needHistory }
                let events = replay + s.ring.events(after: from, prefix: prefix)
                let (stream, continuation) = AsyncThrowingStream.makeStream(
                    of: StoreEvent.self, throwing: Error.self,
                    bufferingPolicy: .bufferingOldest(events.count + watchBufferLimit))
                for event in events { continuation.yield(event) }
                let id = s.nextWatcherID
                s.nextWatcherID += 1
                s.watchers[id] = StoreState.Watcher(
                    prefix: prefix, after: max(from, events.last?.revision ?? from), continuation: continuation)
                // Not under the store's lock here: onTermination runs inside the consumer's cancellation, holding
                // that task's status lock, while a commit yields to the same stream under the store's lock (and
                // the yield needs the task's status lock): taking the store's lock here deadlocked the two. The
                // watcher is removed from a task of its own (a commit also drops terminated ones).
                continuation.onTermination = { [weak self] _ in
                    Task.detached { self?.state.withLock { _ = $0.watchers.removeValue(forKey: id) } }
                }
                return .stream(stream)
            }
            switch start {
            case .stream(let stream):
                return stream
            case .expired(let oldest):
                throw StoreError.expired(requested: afterRevision, oldestAvailable: oldest)
            case .closed:
                throw StoreError.storage("store closed")
            case .needHistory:
                let history: (events: [StoreEvent], lastRevision: Int64, compactedRevision: Int64)
                do {
                    history = try await StoreDatabase.history(pool, after: from, prefix: prefix)
                } catch {
                    throw StoreError.storage("reading history: \(error)")
                }
                if from < history.compactedRevision {
                    throw StoreError.expired(requested: afterRevision, oldestAvailable: history.compactedRevision)
                }
                replay += history.events
                from = max(from, history.lastRevision)
                logger.debug("watch replays from disk", metadata: ["prefix": "\(prefix)", "events": "\(history.events.count)"])
            }
        }
    }

    /// How many watch streams are open (for tests and metrics).
    public func watcherCount() -> Int {
        state.withLock { $0.watchers.count }
    }
}
