import Foundation
import Testing
@testable import ControlPlane

@Suite struct StoreConcurrencyTests {
    @Test func concurrentCreatesAreAllAcknowledgedAndDurable() async throws {
        try await withStoreDirectory { path in
            let count = 2_000
            let store = try SQLiteStore(path: path, logger: quietLogger)
            let revisions = try await withThrowingTaskGroup(of: Int64.self) { group in
                for i in 0..<count {
                    group.addTask {
                        let object = try await store.create("/configmaps/ns/cm-\(i)") { revision in bytes("\(i)@\(revision)") }
                        #expect(object.value == bytes("\(i)@\(object.modRevision)"))
                        return object.modRevision
                    }
                }
                var all: [Int64] = []
                for try await revision in group { all.append(revision) }
                return all
            }
            #expect(Set(revisions) == Set(1...Int64(count)))
            #expect(await store.currentRevision() == Int64(count))
            #expect(try await store.list(prefix: "/configmaps/ns/").objects.count == count)

            // A second store on the same file, without closing the first (as after `kill -9`):
            // every acknowledged write is already on disk.
            let reopened = try SQLiteStore(path: path, logger: quietLogger)
            #expect(try await reopened.list(prefix: "/configmaps/").objects.count == count)
            #expect(await reopened.currentRevision() == Int64(count))
        }
    }

    @Test func concurrentUpdatesSeeUnflushedWrites() async throws {
        try await withStoreDirectory { path in
            let store = try SQLiteStore(path: path, logger: quietLogger)
            try await store.put("/counters/c", "0")
            let writers = 500
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<writers {
                    group.addTask {
                        _ = try await store.update("/counters/c") { current, _ in
                            bytes(String((Int(text(current.value)) ?? -1_000_000) + 1))
                        }
                    }
                }
                try await group.waitForAll()
            }
            let final = try #require(try await store.get("/counters/c"))
            #expect(text(final.value) == "\(writers)")
            #expect(final.modRevision == Int64(writers + 1))
        }
    }

    /// `getLatest` reads what the next write builds on (pending writes included), and answers only once
    /// that state is durable; `get` keeps answering the committed state.
    @Test func getLatestSeesPendingWritesOnceDurable() async throws {
        try await withStoreDirectory { path in
            let store = try SQLiteStore(path: path, logger: quietLogger)
            try await store.put("/counters/c", "0")
            try await store.put("/counters/gone", "x")
            var sawPending = false
            for round in 1...200 {
                let write = Task { try await store.update("/counters/c") { _, _ in bytes("\(round)") } }
                let removal = round == 1 ? Task { try await store.delete("/counters/gone") { current, _ in current.value } } : nil
                await Task.yield()
                let committed = try await store.get("/counters/c")
                let latest = try #require(try await store.getLatest("/counters/c"))
                #expect(latest.modRevision <= (await store.currentRevision()), "returned before it was durable")
                #expect(latest.modRevision >= committed?.modRevision ?? 0)
                if latest.modRevision != committed?.modRevision { sawPending = true }
                _ = try await write.value
                if let removal {
                    #expect(try await store.getLatest("/counters/gone") == nil)
                    _ = try await removal.value
                }
            }
            #expect(sawPending, "no read ever found a pending write: the test did not exercise getLatest")
        }
    }

    @Test func interleavedCreatesAndDeletesOfOneKeyStayConsistent() async throws {
        try await withStoreDirectory { path in
            let store = try SQLiteStore(path: path, logger: quietLogger)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for i in 0..<400 {
                    group.addTask {
                        if i.isMultiple(of: 2) {
                            _ = try? await store.put("/k/x", "\(i)")
                        } else {
                            _ = try? await store.delete("/k/x") { current, _ in current.value }
                        }
                    }
                }
                try await group.waitForAll()
            }
            let memory = try await store.get("/k/x")
            let revision = await store.currentRevision()
            await store.close()
            let reopened = try SQLiteStore(path: path, logger: quietLogger)
            #expect(try await reopened.get("/k/x") == memory)
            #expect(await reopened.currentRevision() == revision)
        }
    }
}
