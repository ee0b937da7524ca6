import Foundation
import KubeAPI
import Logging

/// In-process list-then-watch over a registry, for controllers: `onSync` gets the full list (again after
/// every relist), `onEvent` each change. Ends when the task is cancelled. `reporter` hears when a list
/// has been handled and when the watch broke (readiness).
func informLoop<T: ServedObject>(_ registry: ResourceRegistry<T>, logger: Logger, reporter: SyncReporter? = nil,
                                  onSync: @Sendable ([T]) async -> Void,
                                  onEvent: @Sendable (WatchEventType, T) async -> Void) async {
    await informLoop(registry, as: T.self, logger: logger, reporter: reporter, onSync: onSync, onEvent: onEvent)
}

/// The same, decoding each object only as far as the view `V` needs (a controller that reads only
/// metadata should not pay for decoding whole pods).
func informLoop<T: ServedObject, V: Decodable & Sendable>(_ registry: ResourceRegistry<T>, as view: V.Type, logger: Logger,
                                                          reporter: SyncReporter? = nil,
                                                          onSync: @Sendable ([V]) async -> Void,
                                                          onEvent: @Sendable (WatchEventType, V) async -> Void) async {
    let decoder = KubeJSON.decoder()
    while !Task.isCancelled {
        do {
            let page = try await registry.listRaw(namespace: nil)
            await onSync(try page.items.map { try decoder.decode(V.self, from: $0) })
            reporter?.synced()
            var options = ListOptions()
            options.resourceVersion = String(page.resourceVersion)
            options.timeoutSeconds = 3600
            for try await item in registry.watch(namespace: nil, options: options) {
                switch item.type {
                case .bookmark: continue
                case .error: throw (try? KubeJSON.decode(Status.self, from: item.object)) ?? Status.internalError("watch failed")
                default: await onEvent(item.type, try decoder.decode(V.self, from: item.object))
                }
            }
        } catch is CancellationError {
            return
        } catch {
            logger.warning("controller watch of \(T.resourceInfo.resource) ended, relisting: \(error)")
            reporter?.lost("\(error)")
            try? await Task.sleep(for: .milliseconds(500))
        }
    }
}

/// The identity and deletion state of an object, for controllers that need no more.
struct MetadataView: Decodable, Sendable {
    struct Meta: Decodable, Sendable {
        var name: String?
        var namespace: String?
        var deletionTimestamp: String?
    }
    var metadata: Meta
    var key: String {
        if let ns = metadata.namespace, !ns.isEmpty { return "\(ns)/\(metadata.name ?? "")" }
        return metadata.name ?? ""
    }
}

/// A set of keys to work on, coalescing repeats, with one consumer.
final class WorkQueue: Sendable {
    private let pending = LockedDictionary<String, Bool>()
    private let signal: AsyncStream<Void>.Continuation
    private let stream: AsyncStream<Void>

    /// Work waits this long after it is first queued, so a burst of changes to one key costs one sync
    /// (upstream's `--endpointslice-updates-batch-period`).
    private let batchPeriod: Duration

    init(batchPeriod: Duration = .zero) {
        self.batchPeriod = batchPeriod
        (stream, signal) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
    }

    func add(_ key: String) {
        pending.set(key, true)
        signal.yield()
    }

    /// Runs `work` for queued keys until cancelled; a key added while it is worked on is worked on again.
    func run(_ work: @Sendable (String) async -> Void) async {
        for await _ in stream {
            if batchPeriod > .zero { try? await Task.sleep(for: batchPeriod) }
            while let key = pending.popAny() {
                await work(key)
                if Task.isCancelled { return }
            }
        }
    }

    func finish() { signal.finish() }

    /// Queues `key` again after `delay` (a sync that failed is retried, not dropped).
    func retry(_ key: String, after delay: Duration = .seconds(1)) {
        Task { try? await Task.sleep(for: delay); self.add(key) }
    }

    /// A `namespace/name` key split in two; nil for a key without a namespace.
    static func split(_ key: String) -> (namespace: String, name: String)? {
        let parts = key.split(separator: "/", maxSplits: 1).map(String.init)
        return parts.count == 2 ? (parts[0], parts[1]) : nil
    }
}

