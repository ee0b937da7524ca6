import KubeAPI
import Synchronization

/// A scripted `ListWatcher` for tests: each `list()` and `watch` call takes the next step of its
/// script; an exhausted script blocks (a watch that stays open) until the caller is cancelled.
/// Every call, and every sleep routed through `sleep`, is reported on `journal` in order, so a test
/// can wait for the informer to reach a point without sleeping.
public final class FakeListWatcher<Object: KubeObject>: ListWatcher, Sendable {
    /// The answer to one `list()` call.
    public enum ListStep: Sendable {
        case items([Object], resourceVersion: String)
        case failure(any Error)
    }

    /// The answer to one `watch` call: deliver `events`, then end as `end` says.
    public enum WatchStep: Sendable {
        case events([TypedWatchEvent<Object>], end: WatchEnd)
        /// The watch request itself fails (e.g. HTTP 410 or a refused connection).
        case failure(any Error)
    }

    public enum WatchEnd: Sendable {
        /// The server closes the stream cleanly (timeoutSeconds elapsed).
        case close
        /// The stream breaks with an error.
        case fail(any Error)
        /// The stream stays open until the consumer goes away.
        case stayOpen
    }

    /// What the informer did, in order.
    public enum Call: Sendable, Hashable {
        case list
        case watch(resourceVersion: String, timeoutSeconds: Int)
        case sleep(Duration)
    }

    private struct Script: ~Copyable {
        var lists: [ListStep]
        var watches: [WatchStep]
        var open: [AsyncThrowingStream<TypedWatchEvent<Object>, any Error>.Continuation] = []
    }

    private let script: Mutex<Script>
    /// Every call in order; never finishes.
    public let journal: AsyncStream<Call>
    private let journalContinuation: AsyncStream<Call>.Continuation

    public init(lists: [ListStep] = [], watches: [WatchStep] = []) {
        script = Mutex(Script(lists: lists, watches: watches))
        (journal, journalContinuation) = AsyncStream.makeStream(of: Call.self)
    }

    /// Appends steps to the script.
    public func enqueue(lists: [ListStep] = [], watches: [WatchStep] = []) {
        script.withLock { $0.lists += lists; $0.watches += watches }
    }

    /// A sleep function for `InformerTiming` that returns at once (or throws if cancelled) and records the delay.
    public var sleep: @Sendable (Duration) async throws -> Void {
        { [journalContinuation] duration in
            journalContinuation.yield(.sleep(duration))
            try Task.checkCancellation()
            await Task.yield()
        }
    }

    public func list() async throws -> ObjectList<Object> {
        journalContinuation.yield(.list)
        let step: ListStep? = script.withLock { $0.lists.isEmpty ? nil : $0.lists.removeFirst() }
        switch step {
        case .items(let items, let rv): return ObjectList(items: items, resourceVersion: rv)
        case .failure(let error): throw error
        case nil:
            // Nothing scripted: block until cancelled.
            let (stream, continuation) = AsyncThrowingStream.makeStream(of: TypedWatchEvent<Object>.self)
            script.withLock { $0.open.append(continuation) }
            for try await _ in stream {}
            throw CancellationError()
        }
    }

    public func watch(resourceVersion: String, timeoutSeconds: Int) async throws
        -> WatchStream<Object>
    {
        journalContinuation.yield(.watch(resourceVersion: resourceVersion, timeoutSeconds: timeoutSeconds))
        let step: WatchStep? = script.withLock { $0.watches.isEmpty ? nil : $0.watches.removeFirst() }
        let (stream, continuation) = AsyncThrowingStream.makeStream(of: TypedWatchEvent<Object>.self)
        switch step {
        case .failure(let error): throw error
        case .events(let events, let end):
            for event in events { continuation.yield(event) }
            switch end {
            case .close: continuation.finish()
            case .fail(let error): continuation.finish(throwing: error)
            case .stayOpen: script.withLock { $0.open.append(continuation) }
            }
        case nil:
            script.withLock { $0.open.append(continuation) }
        }
        return WatchStream(stream, onStop: { continuation.finish() })
    }
}
