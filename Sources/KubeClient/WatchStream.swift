import Synchronization
import KubeAPI

/// The events of one watch request. Dropping the stream and all its iterators, or calling `stop()`,
/// closes the request (an `AsyncThrowingStream` alone would keep it open until the server's timeout
/// when the consumer merely stops iterating).
public struct WatchStream<T: KubeObject>: AsyncSequence, Sendable {
    public typealias Element = TypedWatchEvent<T>
    private let base: AsyncThrowingStream<Element, any Error>
    private let handle: StopHandle

    /// Wraps `base`; `onStop` runs once, when the stream is stopped or no longer referenced.
    public init(_ base: AsyncThrowingStream<Element, any Error>, onStop: @escaping @Sendable () -> Void) {
        self.base = base
        handle = StopHandle(onStop)
    }

    /// Closes the watch; iteration then ends.
    public func stop() { handle.stop() }

    public func makeAsyncIterator() -> Iterator { Iterator(base: base.makeAsyncIterator(), handle: handle) }

    public struct Iterator: AsyncIteratorProtocol {
        var base: AsyncThrowingStream<Element, any Error>.Iterator
        let handle: StopHandle
        public mutating func next() async throws -> Element? { try await base.next() }
    }

    /// Runs the stop action exactly once: explicitly or on deinit.
    final class StopHandle: Sendable {
        private let action: Mutex<(@Sendable () -> Void)?>
        init(_ action: @escaping @Sendable () -> Void) { self.action = Mutex(action) }
        func stop() { action.withLock { a in defer { a = nil }; return a }?() }
        deinit { stop() }
    }
}
