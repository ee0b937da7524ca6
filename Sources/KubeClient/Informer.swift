import KubeAPI
import Logging
import Synchronization

/// Keeps a local cache of one kind in step with the server (client-go's reflector and indexer):
/// list, then watch from the list's resourceVersion with bookmarks; re-watch from the last seen
/// resourceVersion when the server closes the watch; relist on 410 Expired (delivering deletes for
/// objects that vanished meanwhile); back off exponentially on other errors.
///
/// Start it with `run()` in a task and cancel that task to stop. Reads (`snapshot()`, `get(_:)`)
/// are cheap and thread-safe. Changes are delivered on `events`, which buffers until consumed.
public final class Informer<T: KubeObject>: Sendable {
    /// Cache changes in the order they were applied. Finishes when `run()` returns.
    public let events: AsyncStream<InformerEvent<T>>
    private let continuation: AsyncStream<InformerEvent<T>>.Continuation
    private let source: any ListWatcher<T>
    private let timing: InformerTiming
    private let logger: Logger
    private let transform: (@Sendable (T) -> T)?
    private let state = Mutex(State())

    private struct State: ~Copyable {
        var cache: [String: T] = [:]
        var synced = false
        var stopped = false
        var resourceVersion: String?
        var nextWaiter: UInt64 = 0
        var waiters: [UInt64: CheckedContinuation<Void, any Error>] = [:]
    }

    /// `transform` is applied to every object before it is cached or delivered (client-go's
    /// `SetTransform`): a consumer that reads a few fields drops the rest there, so the cache holds only
    /// what it needs.
    public init(_ source: some ListWatcher<T>, timing: InformerTiming = InformerTiming(),
                eventBuffering: AsyncStream<InformerEvent<T>>.Continuation.BufferingPolicy = .unbounded,
                transform: (@Sendable (T) -> T)? = nil,
                logger: Logger = Logger(label: "kproxy.informer")) {
        self.source = source
        self.timing = timing
        self.transform = transform
        var logger = logger
        logger[metadataKey: "kind"] = "\(T.resourceInfo.kind)"
        self.logger = logger
        (events, continuation) = AsyncStream.makeStream(of: InformerEvent<T>.self, bufferingPolicy: eventBuffering)
    }

    // MARK: Reading

    /// The cache, keyed by `namespace/name` (or `name` for cluster-scoped kinds). Copy-on-write: O(1).
    public func snapshot() -> [String: T] { state.withLock { $0.cache } }

    /// One cached object by key.
    public func get(_ key: String) -> T? { state.withLock { $0.cache[key] } }

    /// True once the first list has been applied.
    public var hasSynced: Bool { state.withLock { $0.synced } }

    /// The resourceVersion the cache reflects (last list, event or bookmark).
    public var lastResourceVersion: String? { state.withLock { $0.resourceVersion } }

    /// Returns once the first list is in the cache; throws `CancellationError` if the calling task
    /// is cancelled or the informer stops first.
    public func waitForSync() async throws {
        let id = state.withLock { s in s.nextWaiter += 1; return s.nextWaiter }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (c: CheckedContinuation<Void, any Error>) in
                let outcome: Result<Void, any Error>? = state.withLock { s in
                    if s.synced { return .success(()) }
                    if s.stopped || Task.isCancelled { return .failure(CancellationError()) }
                    s.waiters[id] = c
                    return nil
                }
                if let outcome { c.resume(with: outcome) }
            }
        } onCancel: {
            state.withLock { $0.waiters.removeValue(forKey: id) }?.resume(throwing: CancellationError())
        }
    }

    // MARK: Running

    /// Lists and watches until the calling task is cancelled, then finishes `events`. Call once.
    public func run() async {
        defer { stop() }
        var backoff = timing.backoff
        var needsList = true
        var resourceVersion = ""
        while !Task.isCancelled {
            do {
                if needsList {
                    let list = try await source.list()
                    resourceVersion = list.metadata.resourceVersion ?? ""
                    replace(with: transform.map { list.items.map($0) } ?? list.items, resourceVersion: resourceVersion)
                    needsList = false
                    backoff.reset()
                }
                try await watchOnce(from: &resourceVersion, backoff: &backoff)
            } catch is CancellationError {
                break
            } catch let error as KubeClientError where error.isExpired {
                logger.info("resourceVersion \(resourceVersion) expired; relisting")
                needsList = true
            } catch {
                let delay = backoff.next(random: timing.random())
                logger.warning("\(needsList ? "list" : "watch") failed: \(error); retrying in \(delay)")
                do { try await timing.sleep(delay) } catch { break }
            }
        }
    }

    /// One watch until the server closes it; throws on errors, `ShortWatch` when it closed at once.
    private func watchOnce(from resourceVersion: inout String, backoff: inout Backoff) async throws {
        let started = timing.now()
        let stream = try await source.watch(resourceVersion: resourceVersion, timeoutSeconds: timing.watchTimeout())
        defer { stream.stop() }
        var received = 0
        for try await event in stream {
            switch event {
            case .added(let object), .modified(let object): upsert(transform?(object) ?? object)
            case .deleted(let object): remove(transform?(object) ?? object)
            case .bookmark: break
            case .error(let status): throw KubeClientError.status(status)
            }
            if let rv = event.resourceVersion, !rv.isEmpty {
                resourceVersion = rv
                state.withLock { $0.resourceVersion = rv }
            }
            received += 1
            backoff.reset()
        }
        if Task.isCancelled { throw CancellationError() }
        if received == 0, timing.now() - started < .seconds(1) { throw ShortWatch() }
    }

    /// A watch that ended immediately without events: treated as an error so it is retried with backoff.
    struct ShortWatch: Error, CustomStringConvertible {
        var description: String { "watch closed immediately without events" }
    }

    // MARK: Cache updates (each applies and emits under the lock, so events follow cache order)

    private func replace(with items: [T], resourceVersion: String) {
        state.withLock { s in
            var fresh: [String: T] = [:]
            fresh.reserveCapacity(items.count)
            for item in items { fresh[item.key] = item }
            for (key, old) in s.cache where fresh[key] == nil { continuation.yield(.deleted(old)) }
            for item in items {
                if let old = s.cache[item.key] {
                    if old != item { continuation.yield(.updated(old: old, new: item)) }
                } else {
                    continuation.yield(.added(item))
                }
            }
            s.cache = fresh
            s.resourceVersion = resourceVersion
            if !s.synced {
                s.synced = true
                continuation.yield(.synced)
                for waiter in s.waiters.values { waiter.resume() }
                s.waiters.removeAll()
            }
        }
    }

    private func upsert(_ object: T) {
        state.withLock { s in
            let old = s.cache.updateValue(object, forKey: object.key)
            _ = continuation.yield(old.map { .updated(old: $0, new: object) } ?? .added(object))
        }
    }

    private func remove(_ object: T) {
        state.withLock { s in
            s.cache.removeValue(forKey: object.key)
            _ = continuation.yield(.deleted(object))
        }
    }

    private func stop() {
        let waiters = state.withLock { s in
            s.stopped = true
            let w = s.waiters
            s.waiters.removeAll()
            return w
        }
        for waiter in waiters.values { waiter.resume(throwing: CancellationError()) }
        continuation.finish()
    }
}
