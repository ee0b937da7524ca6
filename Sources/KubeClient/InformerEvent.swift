import KubeAPI

/// A change in an informer's cache, delivered in order.
public enum InformerEvent<T: KubeObject>: Sendable, Hashable {
    case added(T)
    case updated(old: T, new: T)
    /// The object's last known state (from the watch event, or from the cache when a relist found it gone).
    case deleted(T)
    /// The initial list is in the cache (sent once, after the first list's events).
    case synced
}

/// The informer's clock and randomness, injectable so tests run without waiting.
public struct InformerTiming: Sendable {
    /// Suspends for a backoff delay; throws when cancelled.
    public var sleep: @Sendable (Duration) async throws -> Void
    /// Current time (detects watches that closed immediately).
    public var now: @Sendable () -> ContinuousClock.Instant
    /// A number in [0, 1) (jitter and watch timeouts).
    public var random: @Sendable () -> Double
    /// Server-side watch timeout is picked uniformly from this range, like client-go's 5–10 minutes.
    public var watchTimeoutSeconds: ClosedRange<Int>
    public var backoff: Backoff

    public init(sleep: @escaping @Sendable (Duration) async throws -> Void = { try await Task.sleep(for: $0) },
                now: @escaping @Sendable () -> ContinuousClock.Instant = { ContinuousClock.now },
                random: @escaping @Sendable () -> Double = { Double.random(in: 0..<1) },
                watchTimeoutSeconds: ClosedRange<Int> = 300...600,
                backoff: Backoff = Backoff()) {
        self.sleep = sleep; self.now = now; self.random = random
        self.watchTimeoutSeconds = watchTimeoutSeconds; self.backoff = backoff
    }

    func watchTimeout() -> Int {
        let span = Double(watchTimeoutSeconds.upperBound - watchTimeoutSeconds.lowerBound)
        return watchTimeoutSeconds.lowerBound + min(Int(random() * (span + 1)), Int(span))
    }
}
