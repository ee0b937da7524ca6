/// Jittered exponential backoff: `initial`, doubling up to `cap`; `reset()` after a success.
public struct Backoff: Sendable, Hashable {
    public var initial: Duration
    public var cap: Duration
    public var factor: Double
    /// Each delay is stretched by up to this fraction (0.5 → up to 50 % longer), still capped.
    public var jitter: Double
    private var current: Duration?

    public init(initial: Duration = .milliseconds(800), cap: Duration = .seconds(30), factor: Double = 2,
                jitter: Double = 0.5) {
        self.initial = initial; self.cap = cap; self.factor = factor; self.jitter = jitter
    }

    /// The next delay; `random` is a number in [0, 1).
    public mutating func next(random: Double) -> Duration {
        let base = current ?? initial
        current = min(base * factor, cap)
        return min(base * (1 + jitter * random), cap)
    }

    /// Back to `initial` (after a success).
    public mutating func reset() { current = nil }
}
