import Foundation
import Testing
import TestSupport
@testable import ControlPlane
import GRDB

@Suite struct StoreSemanticsTests {
    @Test func createGetUpdateDelete() async throws {
        try await withStoreDirectory { path in
            let store = try SQLiteStore(path: path, logger: quietLogger)
            #expect(await store.currentRevision() == 0)

            let created = try await store.create("/services/default/web") { revision in bytes("v\(revision)") }
            #expect(created == StoredObject(key: "/services/default/web", value: bytes("v1"), createRevision: 1, modRevision: 1))
            #expect(try await store.get("/services/default/web") == created)
            await #expect(throws: StoreError.alreadyExists(key: "/services/default/web")) {
                try await store.create("/services/default/web") { _ in bytes("again") }
            }

            let updated = try await store.update("/services/default/web") { current, revision in
                bytes(text(current.value) + "+v\(revision)")
            }
            #expect(updated.value == bytes("v1+v2"))
            #expect(updated.createRevision == 1 && updated.modRevision == 2)

            let unchanged = try await store.update("/services/default/web") { _, _ in nil }
            #expect(unchanged == updated)
            #expect(await store.currentRevision() == 2)

            await #expect(throws: StoreError.notFound(key: "/services/default/nope")) {
                try await store.update("/services/default/nope") { _, _ in bytes("x") }
            }

            let deleted = try await store.delete("/services/default/web") { current, revision in
                #expect(current == updated)
                return bytes("final@\(revision)")
            }
            #expect(deleted == StoredObject(key: "/services/default/web", value: bytes("final@3"), createRevision: 1, modRevision: 3))
            #expect(try await store.get("/services/default/web") == nil)
            await #expect(throws: StoreError.notFound(key: "/services/default/web")) {
                try await store.delete("/services/default/web") { current, _ in current.value }
            }
            #expect(await store.currentRevision() == 3)
        }
    }

    @Test(arguments: ["create", "update", "delete"])
    func throwingClosureWritesNothing(operation: String) async throws {
        try await withStoreDirectory { path in
            let store = try SQLiteStore(path: path, logger: quietLogger)
            let existing = try await store.put("/pods/ns/a", "original")
            await #expect(throws: RejectedByTest()) {
                switch operation {
                case "create": _ = try await store.create("/pods/ns/b") { _ in throw RejectedByTest() }
                case "update": _ = try await store.update("/pods/ns/a") { _, _ in throw RejectedByTest() }
                default: _ = try await store.delete("/pods/ns/a") { _, _ in throw RejectedByTest() }
                }
            }
            #expect(await store.currentRevision() == 1)
            #expect(try await store.get("/pods/ns/a") == existing)
            #expect(try await store.get("/pods/ns/b") == nil)
            // No revision was consumed: the next write gets 2.
            #expect(try await store.put("/pods/ns/c").modRevision == 2)
        }
    }

    @Test func listByPrefixRespectsKeyBoundary() async throws {
        try await withStoreDirectory { path in
            let store = try SQLiteStore(path: path, logger: quietLogger)
            for key in ["/services/default/b", "/services/default-2/a", "/services/default/a",
                        "/services/defaultx", "/services/kube-system/dns", "/pods/default/a"] {
                try await store.put(key)
            }
            let (objects, revision) = try await store.list(prefix: "/services/default/")
            #expect(objects.map(\.key) == ["/services/default/a", "/services/default/b"])
            #expect(revision == 6)
            let all = try await store.list(prefix: "/services/").objects.map(\.key)
            #expect(all == ["/services/default-2/a", "/services/default/a", "/services/default/b",
                            "/services/defaultx", "/services/kube-system/dns"])
            #expect(try await store.list(prefix: "/nodes/").objects.isEmpty)
        }
    }

    @Test func sortedKeyIndexMatchesSortedSet() {
        var index = SortedKeyIndex()
        var reference = Set<String>()
        var generator = SeededGenerator.forTest("sortedKeyIndexMatchesSortedSet")
        for step in 0..<20_000 {
            let key = "/pods/ns\(Int.random(in: 0..<20, using: &generator))/p\(Int.random(in: 0..<2_000, using: &generator))"
            if step % 3 == 2 {
                #expect(index.remove(key) == (reference.remove(key) != nil))
            } else {
                #expect(index.insert(key) == reference.insert(key).inserted)
            }
        }
        #expect(index.all == reference.sorted())
        #expect(index.count == reference.count)
        var listed: [String] = []
        index.forEach(withPrefix: "/pods/ns1/") { listed.append($0) }
        #expect(listed == reference.filter { $0.hasPrefix("/pods/ns1/") }.sorted())
    }

    @Test func reopenContinuesRevisionsAndKeepsState() async throws {
        try await withStoreDirectory { path in
            do {
                let store = try SQLiteStore(path: path, logger: quietLogger)
                try await store.put("/a/1")
                try await store.put("/a/2")
                try await store.put("/a/3")
                _ = try await store.delete("/a/3") { current, _ in current.value }
                await store.close()
            }
            let reopened = try SQLiteStore(path: path, logger: quietLogger)
            #expect(await reopened.currentRevision() == 4)
            #expect(try await reopened.list(prefix: "/a/").objects.map(\.key) == ["/a/1", "/a/2"])
            #expect(try await reopened.get("/a/3") == nil)
            // The deleted key's revision is not reused, nor is the delete's.
            #expect(try await reopened.put("/a/3").modRevision == 5)
        }
    }

    @Test func closedStoreRejectsWrites() async throws {
        try await withStoreDirectory { path in
            let store = try SQLiteStore(path: path, logger: quietLogger)
            try await store.put("/a/1")
            await store.close()
            await #expect(throws: StoreError.self) { try await store.put("/a/2") }
            #expect(try await store.get("/a/1") != nil)
        }
    }

    @Test func databaseUsesWALAndFullSync() async throws {
        try await withStoreDirectory { path in
            let store = try SQLiteStore(path: path, logger: quietLogger)
            let (mode, sync) = try await store.pool.write { db in
                (try String.fetchOne(db, sql: "PRAGMA journal_mode"), try Int.fetchOne(db, sql: "PRAGMA synchronous"))
            }
            #expect(mode == "wal")
            #expect(sync == 2) // FULL
        }
    }
}
