/// The timing and thresholds of one probe, with upstream's defaults.
public struct ProbeTiming: Sendable, Equatable {
    public var initialDelay: Double, period: Double, timeout: Double
    public var successThreshold: Int, failureThreshold: Int
    public init(initialDelay: Double = 0, period: Double = 10, timeout: Double = 1, successThreshold: Int = 1, failureThreshold: Int = 3) {
        self.initialDelay = initialDelay; self.period = period; self.timeout = timeout
        self.successThreshold = max(1, successThreshold); self.failureThreshold = max(1, failureThreshold)
    }
}

/// One probe's state, as the kubelet's prober worker keeps it: a result that flips only after
/// `successThreshold` consecutive successes or `failureThreshold` consecutive failures. Readiness starts
/// failed, liveness and startup start succeeded (they act only on failure) — except that a startup
/// probe gates the others until it has succeeded once.
public struct ProbeTracker: Sendable, Equatable {
    public enum Kind: Sendable, Equatable { case readiness, liveness, startup }
    public let kind: Kind
    public let timing: ProbeTiming
    public private(set) var passing: Bool
    private var successes = 0, failures = 0

    public init(kind: Kind, timing: ProbeTiming) {
        self.kind = kind; self.timing = timing
        passing = kind == .liveness
    }

    /// Records one probe outcome; returns true when the result flipped.
    @discardableResult
    public mutating func record(success: Bool) -> Bool {
        if success { successes += 1; failures = 0 } else { failures += 1; successes = 0 }
        let before = passing
        if success, successes >= timing.successThreshold { passing = true }
        if !success, failures >= timing.failureThreshold { passing = false }
        return before != passing
    }

    /// A liveness or startup probe that reached its failure threshold: the container is killed and restarted.
    public var demandsRestart: Bool { kind != .readiness && !passing && failures >= timing.failureThreshold }

    /// Whether the probe is due at `elapsed` seconds after the container started, given its last run.
    public func isDue(elapsed: Double, lastRun: Double?) -> Bool {
        guard elapsed >= timing.initialDelay else { return false }
        guard let lastRun else { return true }
        return elapsed - lastRun >= timing.period
    }
}
