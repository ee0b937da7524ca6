import Foundation
import KubeAPI
import Logging

/// In-process list-then-watch over a registry, for controllers: `onSync` gets the full list (again after
/// every relist), `onEvent` each change. Ends when the task is cancelled.
func informLoop<T: ServedObject>(_ registry: ResourceRegistry<T>, logger: Logger,
                                  onSync: @Sendable ([T]) async -> Void,
                                  onEvent: @Sendable (WatchEventType, T) async -> Void) async {
    while !Task.isCancelled {
        do {
            let (items, revision) = try await registry.list(namespace: nil)
            await onSync(items)
            var options = ListOptions()
            options.resourceVersion = String(revision)
            options.timeoutSeconds = 3600
            for try await (type, object) in registry.watchObjects(namespace: nil, options: options) {
                await onEvent(type, object)
            }
        } catch is CancellationError {
            return
        } catch {
            logger.warning("controller watch of \(T.resourceInfo.resource) ended, relisting: \(error)")
            try? await Task.sleep(for: .milliseconds(500))
        }
    }
}

/// A set of keys to work on, coalescing repeats, with one consumer.
final class WorkQueue: Sendable {
    private let pending = LockedDictionary<String, Bool>()
    private let signal: AsyncStream<Void>.Continuation
    private let stream: AsyncStream<Void>

    init() {
        (stream, signal) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
    }

    func add(_ key: String) {
        pending.set(key, true)
        signal.yield()
    }

    /// Runs `work` for queued keys until cancelled; a key added while it is worked on is worked on again.
    func run(_ work: @Sendable (String) async -> Void) async {
        for await _ in stream {
            while let key = pending.popAny() {
                await work(key)
                if Task.isCancelled { return }
            }
        }
    }

    func finish() { signal.finish() }
}

