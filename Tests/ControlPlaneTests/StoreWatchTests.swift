import Foundation
import Testing
import LinuxSystem
import Dispatch
import TestSupport
@testable import ControlPlane

@Suite(.timeLimit(.minutes(2))) struct StoreWatchTests {
    @Test func replayThenLiveWithoutGapsWhileWritersRace() async throws {
        try await withStoreDirectory { path in
            // A small ring forces part of the replay to come from SQLite.
            let store = try SQLiteStore(path: path, historyLimit: 50, watchBufferLimit: 100_000, logger: quietLogger)
            let total = 1_000
            for i in 0..<200 { try await store.put("/pods/ns/early-\(i)") }
            let writers = Task {
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for i in 0..<(total - 200) {
                        group.addTask { try await store.put("/pods/ns/late-\(i)") }
                    }
                    try await group.waitForAll()
                }
            }
            // Subscribe while the writers run; one from the start, one from a middle revision.
            let fromStart = try await store.watch(prefix: "/pods/", afterRevision: 0)
            let middle = await store.currentRevision()
            let fromMiddle = try await store.watch(prefix: "/pods/ns/", afterRevision: middle)
            try await writers.value

            let all = try await collect(fromStart, through: Int64(total))
            #expect(all.map(\.revision) == Array(1...Int64(total)))
            #expect(all.allSatisfy { $0.kind == .added && $0.previous == nil })
            let tail = try await collect(fromMiddle, through: Int64(total))
            #expect(tail.map(\.revision) == Array((middle + 1)...Int64(total)))
        }
    }

    @Test func watchFromCurrentRevisionGetsOnlyNewEvents() async throws {
        try await withStoreDirectory { path in
            let store = try SQLiteStore(path: path, logger: quietLogger)
            try await store.put("/a/1")
            try await store.put("/a/2")
            let stream = try await store.watch(prefix: "/a/", afterRevision: await store.currentRevision())
            let updated = try await store.update("/a/1") { _, _ in bytes("new") }
            _ = try await store.delete("/a/2") { current, _ in current.value }
            let events = try await collect(stream, through: 4)
            #expect(events.map(\.kind) == [.modified, .deleted])
            #expect(events[0].object == updated)
            #expect(events[0].previous?.modRevision == 1)
            #expect(events[1].object.key == "/a/2" && events[1].object.modRevision == 4)
            #expect(events[1].previous?.modRevision == 2)
        }
    }

    @Test func prefixFilteringStopsAtKeyBoundary() async throws {
        try await withStoreDirectory { path in
            let store = try SQLiteStore(path: path, logger: quietLogger)
            try await store.put("/services/default-2/a")
            try await store.put("/services/default/a")
            let stream = try await store.watch(prefix: "/services/default/", afterRevision: 0)
            try await store.put("/services/default-2/b")
            try await store.put("/services/defaultx")
            try await store.put("/services/default/b")
            let events = try await collect(stream, through: 5)
            #expect(events.map(\.object.key) == ["/services/default/a", "/services/default/b"])
        }
    }

    @Test func resumeAfterReopenFromPersistedHistory() async throws {
        try await withStoreDirectory { path in
            do {
                let store = try SQLiteStore(path: path, logger: quietLogger)
                for i in 1...100 { try await store.put("/e/\(i)", "\(i)") }
                _ = try await store.update("/e/7") { _, _ in bytes("seven") }
                await store.close()
            }
            let reopened = try SQLiteStore(path: path, historyLimit: 10, logger: quietLogger)
            let stream = try await reopened.watch(prefix: "/e/", afterRevision: 20)
            try await reopened.put("/e/new")
            let events = try await collect(stream, through: 102)
            #expect(events.map(\.revision) == Array(21...102))
            let modified = try #require(events.first { $0.revision == 101 })
            #expect(modified.kind == .modified)
            #expect(modified.previous == StoredObject(key: "/e/7", value: bytes("7"), createRevision: 7, modRevision: 7))
        }
    }

    @Test func compactionExpiresOldRevisionsAndSurvivesReopen() async throws {
        try await withStoreDirectory { path in
            do {
                let store = try SQLiteStore(path: path, historyLimit: 5, logger: quietLogger)
                for i in 1...50 { try await store.put("/c/\(i)") }
                #expect(try await store.compact(keepLast: 10) == 40)
                await #expect(throws: StoreError.expired(requested: 39, oldestAvailable: 40)) {
                    _ = try await store.watch(prefix: "/c/", afterRevision: 39)
                }
                await #expect(throws: StoreError.expired(requested: 0, oldestAvailable: 40)) {
                    _ = try await store.watch(prefix: "/", afterRevision: 0)
                }
                let stream = try await store.watch(prefix: "/c/", afterRevision: 40)
                #expect(try await collect(stream, through: 50).map(\.revision) == Array(41...50))
                await store.close()
            }
            let reopened = try SQLiteStore(path: path, historyLimit: 5, logger: quietLogger)
            #expect(reopened.compactedRevision() == 40)
            await #expect(throws: StoreError.expired(requested: 12, oldestAvailable: 40)) {
                _ = try await reopened.watch(prefix: "/c/", afterRevision: 12)
            }
            let stream = try await reopened.watch(prefix: "/c/", afterRevision: 42)
            #expect(try await collect(stream, through: 50).map(\.revision) == Array(43...50))
            #expect(try await reopened.put("/c/51").modRevision == 51)
        }
    }

    @Test func slowWatcherOverflowEndsOnlyThatWatcher() async throws {
        try await withStoreDirectory { path in
            let limit = 10
            let store = try SQLiteStore(path: path, watchBufferLimit: limit, logger: quietLogger)
            let slow = try await store.watch(prefix: "/s/", afterRevision: 0)
            let fast = try await store.watch(prefix: "/s/", afterRevision: 0)
            var fastEvents = fast.makeAsyncIterator()
            for i in 1...30 {
                let written = try await store.put("/s/\(i)")
                let seen = try await fastEvents.next()
                #expect(seen?.object == written)
            }
            #expect(store.watcherCount() == 1)
            let (events, error) = await drain(slow)
            #expect(events.map(\.revision) == Array(1...Int64(limit)))
            #expect(error as? WatchOverflowError == WatchOverflowError(prefix: "/s/", limit: limit))
            // The fast watcher is still live.
            try await store.put("/s/31")
            #expect(try await fastEvents.next()?.revision == 31)
        }
    }

    @Test func cancellingTheConsumerRemovesTheWatcher() async throws {
        try await withStoreDirectory { path in
            let store = try SQLiteStore(path: path, logger: quietLogger)
            let stream = try await store.watch(prefix: "/x/", afterRevision: 0)
            #expect(store.watcherCount() == 1)
            let consumer = Task { await drain(stream) }
            consumer.cancel()
            _ = await consumer.value
            #expect(await waitUntil(within: .seconds(5)) { store.watcherCount() == 0 })
            try await store.put("/x/1")
        }
    }

    /// The deadlock a cancelled `kubectl … --watch` once caused, built step by step: a commit holds the store's
    /// lock and yields to a watch stream (the yield needs the consumer task's status lock) while the consumer
    /// is cancelled (the cancel holds that status lock and runs the stream's termination). The termination
    /// must not wait for the store's lock; when it did, both threads waited for each other for ever.
    @Test func cancellingAConsumerWhileACommitYieldsDoesNotDeadlock() async throws {
        try await withStoreDirectory { path in
            let store = try SQLiteStore(path: path, logger: quietLogger)
            let written = try await store.put("/d/a")
            let stream = try await store.watch(prefix: "/d/", afterRevision: written.modRevision)
            let consumer = Task { await drain(stream) }
            try await Task.sleep(for: .milliseconds(20))  // by then it waits in next(), where a cancel runs the termination
            let locked = DispatchSemaphore(value: 0), committed = DispatchSemaphore(value: 0)
            let event = StoreEvent(kind: .modified, object: written, previous: nil)
            // The "commit": on a thread of its own, the store's lock held across a pause, then the yield.
            try OSThread {
                store.state.withLock { s in
                    locked.signal()
                    usleep(100_000)  // the cancel below starts meanwhile (and, in the old code, waited for this lock)
                    for watcher in s.watchers.values { _ = watcher.continuation.yield(event) }
                }
                committed.signal()
            }.start()
            await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in DispatchQueue.global().async { locked.wait(); c.resume() } }
            consumer.cancel()
            _ = await consumer.value
            let done = await withCheckedContinuation { (c: CheckedContinuation<Bool, Never>) in
                DispatchQueue.global().async { c.resume(returning: committed.wait(timeout: .now() + 10) == .success) }
            }
            #expect(done, "the commit finished: no deadlock")
            #expect(await waitUntil(within: .seconds(5)) { store.watcherCount() == 0 })
        }
    }

    @Test func closeFinishesWatchers() async throws {
        try await withStoreDirectory { path in
            let store = try SQLiteStore(path: path, logger: quietLogger)
            let stream = try await store.watch(prefix: "/", afterRevision: 0)
            try await store.put("/a")
            await store.close()
            let (events, error) = await drain(stream)
            #expect(events.map(\.revision) == [1])
            #expect(error as? StoreError == StoreError.storage("store closed"))
        }
    }
}
