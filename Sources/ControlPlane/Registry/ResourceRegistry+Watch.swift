import Foundation
import KubeAPI
import Synchronization
import Values

/// One event of a watch, with the object as the bytes the store holds (encoding it again per watcher
/// would cost more than the whole fan-out).
public struct WatchItem: Sendable {
    public var type: WatchEventType
    public var object: Data
}

extension ResourceRegistry {
    /// A watch as upstream's watch cache serves it:
    /// - no resourceVersion or "0": the current objects as ADDED, then changes;
    /// - resourceVersion N: changes after N, or an ERROR event with a 410 Status when N is compacted away;
    /// - `sendInitialEvents=true`: the current objects, then a BOOKMARK annotated `k8s.io/initial-events-end`;
    /// - selectors filter, and an object that stops (starts) matching is reported DELETED (ADDED);
    /// - BOOKMARKs every `bookmarkInterval` when asked; the stream ends after `timeoutSeconds`.
    public func watch(namespace: String?, options: ListOptions, bookmarkInterval: Duration = .seconds(60)) -> AsyncThrowingStream<WatchItem, Error> {
        let prefix = StoreKey.prefix(info, namespace: namespace)
        let requested = options.resourceVersion.flatMap { Int64($0) } ?? 0
        let initialEvents = options.sendInitialEvents ?? (requested == 0)
        let timeout = Duration.seconds(options.timeoutSeconds ?? Int.random(in: 1800..<3600))
        let info = self.info
        let (stream, continuation) = AsyncThrowingStream<WatchItem, Error>.makeStream(bufferingPolicy: .bufferingNewest(10_000))
        let task = Task {
            let delivered = RevisionCell(requested)
            do {
                var startAfter = requested
                if initialEvents {
                    let (objects, revision) = try await store.list(prefix: prefix)
                    for stored in objects where try self.selects(stored.value, options) {
                        continuation.yield(WatchItem(type: .added, object: stored.value))
                    }
                    startAfter = max(revision, requested)
                    if options.sendInitialEvents == true, options.allowWatchBookmarks {
                        continuation.yield(WatchItem(type: .bookmark, object: try Self.bookmark(info, revision: startAfter, initialEventsEnd: true)))
                    }
                }
                delivered.set(startAfter)
                let events = try await store.watch(prefix: prefix, afterRevision: startAfter)
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask { try await Task.sleep(for: timeout); throw WatchTimeout() }
                    if options.allowWatchBookmarks {
                        // A bookmark never runs ahead of what this watcher was sent.
                        group.addTask {
                            while true {
                                try await Task.sleep(for: bookmarkInterval)
                                let revision = delivered.get()
                                continuation.yield(WatchItem(type: .bookmark, object: try Self.bookmark(info, revision: revision)))
                            }
                        }
                    }
                    group.addTask {
                        for try await event in events {
                            if let item = try self.translate(event, options) { continuation.yield(item) }
                            delivered.set(event.revision)
                        }
                    }
                    try await group.next()
                    group.cancelAll()
                }
                continuation.finish()
            } catch is WatchTimeout {
                continuation.finish()
            } catch is CancellationError {
                continuation.finish()
            } catch is WatchOverflowError {
                // Too slow to keep up: end this watch cleanly; the client watches again from the
                // last resourceVersion it saw, as after a server-side timeout.
                continuation.finish()
            } catch {
                let status = statusError(error, info, name: "")
                if let body = try? KubeJSON.encode(status) { continuation.yield(WatchItem(type: .error, object: body)) }
                continuation.finish()
            }
        }
        continuation.onTermination = { _ in task.cancel() }
        return stream
    }

    /// Typed events for in-process controllers.
    public func watchObjects(namespace: String?, options: ListOptions) -> AsyncThrowingStream<(WatchEventType, T), Error> {
        let raw = watch(namespace: namespace, options: options)
        return AsyncThrowingStream { continuation in
            let task = Task {
                do {
                    for try await item in raw {
                        switch item.type {
                        case .bookmark: continue
                        case .error:
                            continuation.finish(throwing: (try? KubeJSON.decode(Status.self, from: item.object)) ?? Status.internalError("watch failed"))
                            return
                        default: continuation.yield((item.type, try Self.decodeBytes(item.object)))
                        }
                    }
                    continuation.finish()
                } catch { continuation.finish(throwing: error) }
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }

    static func decodeBytes(_ data: Data) throws -> T { try KubeJSON.decode(T.self, from: data) }

    func selects(_ data: Data, _ options: ListOptions) throws -> Bool {
        if options.labelSelector == nil && options.fieldSelector == nil { return true }
        if options.fieldSelector == nil, let selector = options.labelSelector {
            // Labels alone need only the metadata, not the whole typed object.
            return selector.matches(try KubeJSON.decode(MetadataOnly.self, from: data).metadata.labels ?? [:])
        }
        return matches(try Self.decodeBytes(data), options)
    }

    /// Maps a store event to what this watcher sees, or nil when it concerns objects outside its selection.
    func translate(_ event: StoreEvent, _ options: ListOptions) throws -> WatchItem? {
        let now = try selects(event.object.value, options)
        switch event.kind {
        case .added: return now ? WatchItem(type: .added, object: event.object.value) : nil
        case .deleted:
            let before = try event.previous.map { try selects($0.value, options) } ?? now
            return (before || now) ? WatchItem(type: .deleted, object: event.object.value) : nil
        case .modified:
            let before = try event.previous.map { try selects($0.value, options) } ?? now
            switch (before, now) {
            case (true, true): return WatchItem(type: .modified, object: event.object.value)
            case (false, true): return WatchItem(type: .added, object: event.object.value)
            case (true, false): return WatchItem(type: .deleted, object: event.object.value)
            case (false, false): return nil
            }
        }
    }

    /// A BOOKMARK object: only the kind and the resourceVersion, as upstream sends it.
    static func bookmark(_ info: ResourceInfo, revision: Int64, initialEventsEnd: Bool = false) throws -> Data {
        var metadata: [String: JSONValue] = ["resourceVersion": .string(String(revision)), "creationTimestamp": .null]
        if initialEventsEnd { metadata["annotations"] = ["k8s.io/initial-events-end": "true"] }
        let object: JSONValue = ["kind": .string(info.kind), "apiVersion": .string(info.apiVersion), "metadata": .object(metadata)]
        return try KubeJSON.encode(object)
    }
}

struct WatchTimeout: Error {}

/// The last revision a watcher was sent, shared between its event and bookmark tasks.
final class RevisionCell: Sendable {
    private let value: Mutex<Int64>
    init(_ initial: Int64) { value = Mutex(initial) }
    func get() -> Int64 { value.withLock { $0 } }
    func set(_ revision: Int64) { value.withLock { $0 = revision } }
}

/// The part of an object a label selector reads.
struct MetadataOnly: Decodable {
    struct Meta: Decodable { var labels: [String: String]? }
    var metadata: Meta
}
