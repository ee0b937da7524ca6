import Dispatch

/// Blocking work (process I/O, netns creation, probes with timeouts) off the cooperative pool: it runs
/// on Dispatch's threads, which may block, and the caller awaits the result.
public enum Blocking {
    private static let queue = DispatchQueue(label: "kproxy.node.blocking", attributes: .concurrent)

    public static func run<T: Sendable, E: Error>(_ body: @escaping @Sendable () throws(E) -> T) async throws(E) -> T {
        let result: Result<T, E> = await withCheckedContinuation { continuation in
            queue.async {
                do throws(E) { continuation.resume(returning: .success(try body())) } catch { continuation.resume(returning: .failure(error)) }
            }
        }
        return try result.get()
    }
}
