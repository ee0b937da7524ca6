import Glibc

/// A closure on a pthread of its own: for work that must not share a thread (it changes the thread's
/// namespaces) or that blocks for good (a reaper). Safe as `@unchecked Sendable`: the closure is handed to
/// the new thread once, and `runAndWait`'s caller blocks in `pthread_join` until the thread is done with it.
public final class OSThread: @unchecked Sendable {
    private let body: () -> Void
    public init(_ body: @escaping () -> Void) { self.body = body }

    private func create() throws(SystemError) -> pthread_t {
        var thread = pthread_t()
        let context = Unmanaged.passRetained(self).toOpaque()
        let rc = pthread_create(&thread, nil, { raw in
            guard let raw else { return nil }
            let me = Unmanaged<OSThread>.fromOpaque(raw).takeRetainedValue()
            me.body()
            return nil
        }, context)
        guard rc == 0 else {
            Unmanaged<OSThread>.fromOpaque(context).release()
            throw SystemError("pthread_create", "thread", errno: rc)
        }
        return thread
    }

    /// Starts the thread and lets it run on its own.
    public func start() throws(SystemError) { pthread_detach(try create()) }

    /// Runs the closure on the new thread and returns when it has finished.
    public func runAndWait() throws(SystemError) { pthread_join(try create(), nil) }
}
