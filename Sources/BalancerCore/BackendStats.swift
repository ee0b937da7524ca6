import ProxyCore
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// One endpoint of one listener, with live counters shared by every event loop. The object stays the same
/// across backend-set updates for as long as the endpoint does, so counts and health survive syncs.
///
/// The data path calls, per connection: `connectStarted` when it picks the endpoint, then `connectSucceeded`
/// or `connectFailed`, and `closed` when an established connection (or UDP session) ends.
public final class BackendStats: Sendable, CustomStringConvertible {
    public let endpoint: EndpointInfo
    /// Established connections (TCP) or open sessions (UDP).
    public let active = Atomic<Int>(0)
    /// Connects in progress.
    public let pending = Atomic<Int>(0)
    /// Connections (sessions) established, ever.
    public let total = Atomic<Int>(0)
    /// Connects that failed (refused, unreachable, timed out), ever.
    public let failed = Atomic<Int>(0)
    /// Times passive health checking ejected the endpoint.
    public let ejections = Atomic<Int>(0)
    let consecutiveFailures = Atomic<Int>(0)
    /// Until when (monotonic ns) the endpoint is ejected; 0 when admitted.
    let ejectedUntil = Atomic<Int64>(0)
    /// When (monotonic ns) its slow start began: its first use or its re-admission; 0 for a full weight.
    let slowStartFrom = Atomic<Int64>(0)
    /// Peak-EWMA of the response latency (ns) and when it was last sampled: see `recordLatency`.
    let latencyEWMA = Atomic<Int64>(0)
    let latencySampledAt = Atomic<Int64>(0)
    /// The EWMA's time constant: a sample's weight fades by 1/e over this span, and so does the estimate of
    /// an endpoint that gets no samples (no connections) meanwhile.
    public static let latencyDecay: Nanos = 5_000_000_000

    public init(endpoint: EndpointInfo) { self.endpoint = endpoint }

    public var description: String { endpoint.description }

    /// active + pending: what leastconn and p2c compare.
    public var load: Int { active.load(ordering: .relaxed) + pending.load(ordering: .relaxed) }

    public func connectStarted() { pending.add(1, ordering: .relaxed) }

    public func connectSucceeded() {
        pending.subtract(1, ordering: .relaxed)
        active.add(1, ordering: .relaxed)
        total.add(1, ordering: .relaxed)
        consecutiveFailures.store(0, ordering: .relaxed)
    }

    /// Counts a failed connect; returns true when this failure ejected the endpoint.
    @discardableResult
    public func connectFailed(now: Nanos, policy: HealthPolicy) -> Bool {
        pending.subtract(1, ordering: .relaxed)
        failed.add(1, ordering: .relaxed)
        let failures = consecutiveFailures.add(1, ordering: .relaxed).newValue
        guard failures >= policy.consecutiveFailures, !isEjected(now: now) else { return false }
        let count = ejections.add(1, ordering: .relaxed).newValue
        let span = min(policy.baseEjection.nanos * Int64(count), policy.maxEjection.nanos)
        ejectedUntil.store(now + span, ordering: .relaxed)
        slowStartFrom.store(now + span, ordering: .relaxed)
        consecutiveFailures.store(0, ordering: .relaxed)
        return true
    }

    /// Records a response latency: how long the endpoint took to send its first bytes after being sent some
    /// (per exchange, measured by the relay at its loop's clock). Peak-EWMA, as Finagle's and Linkerd's
    /// balancers keep: a sample above the estimate replaces it at once (an endpoint turning slow is noticed
    /// by its first slow answer); a lower one is averaged in, the old estimate weighing e^(−Δt/τ) and the
    /// sample 1 − e^(−Δt/τ). Loops update it without a lock; a lost update between two loops only delays the
    /// estimate by one sample.
    public func recordLatency(_ sample: Nanos, now: Nanos) {
        let (estimate, w) = faded(now: now)
        let value = Double(sample) >= estimate ? Double(sample) : estimate + Double(sample) * (1 - w)
        latencyEWMA.store(Int64(value), ordering: .relaxed)
        latencySampledAt.store(now, ordering: .relaxed)
    }

    /// The latency estimate (ns) at `now`: the EWMA, fading with the time since its last sample, so an
    /// endpoint that was slow and got nothing since is tried again eventually (0 before any sample).
    public func latency(now: Nanos) -> Double { faded(now: now).estimate }

    /// The stored EWMA times w = e^(−Δt/τ), Δt the time since the last sample; and w.
    private func faded(now: Nanos) -> (estimate: Double, w: Double) {
        let ewma = latencyEWMA.load(ordering: .relaxed)
        guard ewma > 0 else { return (0, 0) }
        let since = Double(max(0, now - latencySampledAt.load(ordering: .relaxed)))
        let w = exp(-since / Double(Self.latencyDecay))
        return (Double(ewma) * w, w)
    }

    /// An established connection or session ended.
    public func closed() { active.subtract(1, ordering: .relaxed) }

    public func isEjected(now: Nanos) -> Bool { now < ejectedUntil.load(ordering: .relaxed) }

    /// 1 normally; during slow start after re-admission, ramps from the policy's minimum to 1.
    public func weight(now: Nanos, policy: HealthPolicy) -> Double {
        let from = slowStartFrom.load(ordering: .relaxed)
        guard from > 0, now >= from else { return from > 0 ? policy.slowStartMinimumWeight : 1 }
        let span = policy.slowStart.nanos
        guard span > 0, now - from < span else { return 1 }
        let ramp = Double(now - from) / Double(span)
        return max(policy.slowStartMinimumWeight, min(1, ramp))
    }
}
