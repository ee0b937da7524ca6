/// Monotonic time in nanoseconds. The data path passes its loop's clock reading; tests pass what they like.
public typealias Nanos = Int64

/// Connect retries on another endpoint (kube-proxy's userspace mode: 4 tries, timeouts 250 ms doubling to 2 s).
public struct RetryPolicy: Hashable, Sendable {
    /// Endpoints tried for one connection, the first included.
    public var tries: Int
    public var firstTimeout: Duration
    public var maxTimeout: Duration

    public init(tries: Int = 4, firstTimeout: Duration = .milliseconds(250), maxTimeout: Duration = .seconds(2)) {
        self.tries = tries; self.firstTimeout = firstTimeout; self.maxTimeout = maxTimeout
    }

    /// The connect timeout of try `attempt` (0-based): the first timeout doubled `attempt` times, capped.
    public func timeout(attempt: Int) -> Duration {
        var t = firstTimeout
        for _ in 0..<max(0, attempt) where t < maxTimeout { t = t * 2 }
        return min(t, maxTimeout)
    }
}

/// Passive health checking: an endpoint whose connects fail `consecutiveFailures` times in a row is ejected
/// (gets no new connections) for `baseEjection` × the number of times it was ejected (capped at
/// `maxEjection`), then re-admitted with a weight that ramps linearly from `slowStartMinimumWeight` to 1
/// over `slowStart`.
public struct HealthPolicy: Hashable, Sendable {
    public var consecutiveFailures: Int
    public var baseEjection: Duration
    public var maxEjection: Duration
    public var slowStart: Duration
    public var slowStartMinimumWeight: Double

    public init(consecutiveFailures: Int = 3, baseEjection: Duration = .seconds(5), maxEjection: Duration = .seconds(60),
                slowStart: Duration = .seconds(10), slowStartMinimumWeight: Double = 0.1) {
        self.consecutiveFailures = consecutiveFailures; self.baseEjection = baseEjection; self.maxEjection = maxEjection
        self.slowStart = slowStart; self.slowStartMinimumWeight = slowStartMinimumWeight
    }
}

extension Duration {
    /// Whole nanoseconds.
    public var nanos: Nanos {
        let (s, a) = components
        return s * 1_000_000_000 + a / 1_000_000_000
    }
}
