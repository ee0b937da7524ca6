import NIOCore
import Synchronization

/// A streamed response body that coalesces: the producer appends chunks as they come, the writer takes
/// everything accumulated since its last write in one piece. Idle, each chunk goes out at once; under
/// load, one write (one TLS record, one syscall) carries many — the watch fan-out's main saving.
public final class ChunkBatcher: Sendable {
    private struct State {
        var buffer = ByteBuffer()
        var finished = false
        var waiter: CheckedContinuation<ByteBuffer?, Never>?
        var onClose: (@Sendable () -> Void)?
    }
    private let state = Mutex(State())

    public init() {}

    /// Called once when the consumer goes away (client disconnected), e.g. to cancel the producer.
    public func onClose(_ action: @escaping @Sendable () -> Void) { state.withLock { $0.onClose = action } }

    public func append(_ chunk: ByteBuffer) {
        let resume: (CheckedContinuation<ByteBuffer?, Never>, ByteBuffer)? = state.withLock { s in
            guard !s.finished else { return nil }
            if let waiter = s.waiter {
                s.waiter = nil
                return (waiter, chunk)
            }
            var c = chunk
            s.buffer.writeBuffer(&c)
            return nil
        }
        if let (waiter, chunk) = resume { waiter.resume(returning: chunk) }
    }

    /// No more chunks; what is buffered is still delivered.
    public func finish() {
        let waiter: CheckedContinuation<ByteBuffer?, Never>? = state.withLock { s in
            s.finished = true
            defer { s.waiter = nil }
            return s.buffer.readableBytes == 0 ? s.waiter : nil
        }
        waiter?.resume(returning: nil)
    }

    /// Everything buffered, waiting for the next chunk when there is none; nil at the end or when cancelled.
    public func next() async -> ByteBuffer? {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<ByteBuffer?, Never>) in
                let ready: ByteBuffer?? = state.withLock { s in
                    if s.buffer.readableBytes > 0 {
                        let out = s.buffer
                        s.buffer = ByteBuffer()
                        return .some(out)
                    }
                    if s.finished || Task.isCancelled { return .some(nil) }
                    s.waiter = continuation
                    return .none
                }
                if let ready { continuation.resume(returning: ready) }
            }
        } onCancel: {
            close()
        }
    }

    /// The consumer is gone: wake it, drop the buffer, tell the producer.
    public func close() {
        let (waiter, action): (CheckedContinuation<ByteBuffer?, Never>?, (@Sendable () -> Void)?) = state.withLock { s in
            s.finished = true
            s.buffer.clear()
            defer { s.waiter = nil; s.onClose = nil }
            return (s.waiter, s.onClose)
        }
        waiter?.resume(returning: nil)
        action?()
    }

    /// The body as an on-demand stream: `next()` is called only when the writer is ready for more.
    public var stream: AsyncThrowingStream<ByteBuffer, Error> {
        AsyncThrowingStream(unfolding: { await self.next() })
    }
}
