import Dispatch
import Foundation

/// SIGINT/SIGTERM cancel the work, which then shuts down in order.
enum Signals {
    static func runUntilTerminated(_ work: @escaping @Sendable () async -> Void) async throws {
        // A parent may have left these blocked (the mask is inherited across exec); a daemon must still hear them.
        var unblock = sigset_t()
        sigemptyset(&unblock)
        sigaddset(&unblock, SIGINT)
        sigaddset(&unblock, SIGTERM)
        pthread_sigmask(SIG_UNBLOCK, &unblock, nil)
        signal(SIGINT, SIG_IGN)
        signal(SIGTERM, SIG_IGN)
        signal(SIGPIPE, SIG_IGN)
        let task = Task { await work() }
        let sources = [SIGINT, SIGTERM].map { sig in
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler { task.cancel() }
            source.resume()
            return source
        }
        await task.value
        sources.forEach { $0.cancel() }
    }
}
