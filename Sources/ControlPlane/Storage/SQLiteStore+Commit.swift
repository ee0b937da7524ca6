import Foundation
import GRDB
import Logging

extension SQLiteStore {
    /// The group-commit loop. Started by the first write that finds the store idle; each pass
    /// takes everything queued so far, commits it in one transaction, then publishes the events
    /// and acknowledges the writers. Writes arriving meanwhile form the next batch. Ends when
    /// the queue is empty.
    func flushLoop() async {
        while true {
            let batch: [StoreState.PendingWrite]? = state.withLock { s in
                guard !s.queue.isEmpty else {
                    s.flushing = false
                    return nil
                }
                let batch = s.queue
                s.queue = []
                return batch
            }
            guard let batch else {
                let drained = state.withLock { s in
                    let waiters = s.drainWaiters
                    s.drainWaiters = []
                    return waiters
                }
                for waiter in drained { waiter.resume() }
                return
            }
            await commit(batch)
        }
    }

    private func commit(_ batch: [StoreState.PendingWrite]) async {
        let events = batch.compactMap(\.event)
        do {
            if let last = events.last {
                try await pool.write { db in
                    try StoreDatabase.persist(events, lastRevision: last.revision, in: db)
                }
            }
        } catch {
            logger.error("store commit failed", metadata: ["writes": "\(events.count)", "error": "\(error)"])
            let abandoned = state.withLock { s in
                s.lastCommitFailure = "\(error)"
                return s.abandonPending()
            }
            let failure = StoreError.storage("commit failed: \(error)")
            for write in batch + abandoned { write.waiter.resume(throwing: failure) }
            return
        }
        let overflowed = state.withLock { s in
            s.lastCommitFailure = nil
            return s.applyCommitted(events)
        }
        for watcher in overflowed {
            logger.warning("watch fell behind, ending it", metadata: [
                "prefix": "\(watcher.prefix)", "limit": "\(watchBufferLimit)",
            ])
            watcher.continuation.finish(throwing: WatchOverflowError(prefix: watcher.prefix, limit: watchBufferLimit))
        }
        for write in batch { write.waiter.resume(returning: write.result) }
    }

    /// Removes history up to `currentRevision - keepLast`, so watches may resume from any of the
    /// last `keepLast` revisions; older ones get ``StoreError/expired(requested:oldestAvailable:)``.
    /// Returns the compacted revision. Call it periodically (or use ``runCompaction(every:keepLast:)``).
    @discardableResult
    public func compact(keepLast: Int) async throws -> Int64 {
        let (current, compacted) = state.withLock { ($0.committedRevision, $0.compactedRevision) }
        let target = current - Int64(max(0, keepLast))
        guard target > compacted else { return compacted }
        let newCompacted: Int64
        do {
            newCompacted = try await StoreDatabase.compact(pool, through: target)
        } catch {
            throw StoreError.storage("compaction failed: \(error)")
        }
        state.withLock { $0.compactedRevision = max($0.compactedRevision, newCompacted) }
        logger.debug("store compacted", metadata: ["revision": "\(newCompacted)"])
        return newCompacted
    }

    /// Compacts every `interval` until the calling task is cancelled; failures are logged.
    public func runCompaction(every interval: Duration, keepLast: Int) async {
        while !Task.isCancelled {
            do {
                try await Task.sleep(for: interval)
            } catch {
                return
            }
            do {
                try await compact(keepLast: keepLast)
            } catch {
                logger.warning("store compaction failed", metadata: ["error": "\(error)"])
            }
        }
    }
}
