import Foundation
import Logging
import Testing
@testable import ControlPlane

/// Keeps test output readable: the store logs at info on open.
let quietLogger = Logger(label: "store-test", factory: { _ in SwiftLogNoOpLogHandler() })

/// A fresh directory for one test's database, removed afterwards even when the test fails.
func withStoreDirectory<T>(_ body: (String) async throws -> T) async throws -> T {
    let directory = FileManager.default.temporaryDirectory
        .appendingPathComponent("kproxy-store-\(UUID().uuidString)", isDirectory: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    return try await body(directory.appendingPathComponent("state/store.sqlite").path)
}

/// An error a test's closure throws to abort a write.
struct RejectedByTest: Error, Equatable {}

func bytes(_ text: String) -> Data { Data(text.utf8) }
func text(_ data: Data) -> String { String(decoding: data, as: UTF8.self) }

/// Reads events from `stream` until one with revision >= `revision` arrived.
func collect(_ stream: AsyncThrowingStream<StoreEvent, Error>, through revision: Int64) async throws -> [StoreEvent] {
    var events: [StoreEvent] = []
    for try await event in stream {
        events.append(event)
        if event.revision >= revision { break }
    }
    return events
}

/// Reads events until the stream ends; returns them and the error that ended it, if any.
func drain(_ stream: AsyncThrowingStream<StoreEvent, Error>) async -> (events: [StoreEvent], error: Error?) {
    var events: [StoreEvent] = []
    do {
        for try await event in stream { events.append(event) }
        return (events, nil)
    } catch {
        return (events, error)
    }
}

extension SQLiteStore {
    /// Creates `key` with `value` (test shorthand).
    @discardableResult
    func put(_ key: String, _ value: String = "v") async throws -> StoredObject {
        try await create(key) { _ in bytes(value) }
    }
}
