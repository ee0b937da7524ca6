import KubeAPI
import ProxyCore
import Testing

#if canImport(Glibc)
import Glibc
#endif

@testable import BalancerCore

@Suite struct SchedulerTests {
    /// Picks `count` times from one client each (`client(i)`), completing each connection at once.
    static func shares(_ set: BackendSet, count: Int, seed: UInt64 = 1, hold: Bool = false) -> [Int] {
        var random = FastRandom(seed: seed)
        var counts = [Int](repeating: 0, count: set.backends.count)
        for i in 0..<count {
            guard let b = set.pick(client: BC.client(i), now: BC.second, random: &random),
                  let index = set.backends.firstIndex(where: { $0 === b }) else { continue }
            counts[index] += 1
            b.connectStarted(); b.connectSucceeded()
            if !hold { b.closed() }
        }
        return counts
    }

    @Test func roundRobinCyclesExactly() {
        let set = BC.set(4, .roundrobin)
        var random = FastRandom(seed: 7)
        let order = (0..<8).compactMap { _ in set.pick(client: BC.client(1), now: 0, random: &random) }
            .compactMap { b in set.backends.firstIndex { $0 === b } }
        #expect(order == [0, 1, 2, 3, 0, 1, 2, 3])
    }

    @Test(arguments: [SchedulerKind.roundrobin, .random, .leastconn, .p2c, .maglev])
    func equalEndpointsShareEvenly(scheduler: SchedulerKind) {
        let counts = Self.shares(BC.set(5, scheduler), count: 10_000)
        let mean = 10_000.0 / 5
        // Round robin and leastconn (ties in turn) are exact; random, p2c and maglev (10,000 distinct
        // clients) stay within 10% of the mean with these seeds and counts.
        let bound = scheduler == .roundrobin || scheduler == .leastconn ? 0.0 : 0.1
        for c in counts { #expect(abs(Double(c) - mean) <= mean * bound, "\(scheduler): \(counts)") }
    }

    @Test func leastconnCountsConnectionsStillBeingSetUp() {
        let set = BC.set(3, .leastconn)
        var random = FastRandom(seed: 3)
        // Endpoint 0 has two connects in progress, endpoint 1 one established: endpoint 2 is the least loaded.
        set.backends[0].connectStarted(); set.backends[0].connectStarted()
        set.backends[1].connectStarted(); set.backends[1].connectSucceeded()
        for _ in 0..<5 { #expect(set.pick(client: BC.client(1), now: 0, random: &random) === set.backends[2]) }
        // Endpoint 2 now has three pending: endpoint 1 (one) is the least loaded.
        for _ in 0..<3 { set.backends[2].connectStarted() }
        #expect(set.pick(client: BC.client(1), now: 0, random: &random) === set.backends[1])
    }

    @Test func p2cPicksTheLessLoadedOfTwo() {
        let set = BC.set(4, .p2c)
        var random = FastRandom(seed: 11)
        for _ in 0..<50 { set.backends[3].connectStarted() }
        var heavy = 0
        for i in 0..<3000 {
            guard let b = set.pick(client: BC.client(i), now: 0, random: &random) else { continue }
            if b === set.backends[3] { heavy += 1 }
        }
        // The loaded endpoint wins only when both choices are it, which distinct choices rule out.
        #expect(heavy == 0)
    }

    @Test func triedEndpointsAreSkippedAndNoneLeftGivesNil() {
        for scheduler in SchedulerKind.allCases {
            let set = BC.set(3, scheduler)
            var random = FastRandom(seed: 5)
            var tried: [BackendStats] = []
            for _ in 0..<3 {
                guard let b = set.pick(client: BC.client(9), now: 0, excluding: tried, random: &random) else { break }
                #expect(!tried.contains { $0 === b }, "\(scheduler)")
                tried.append(b)
            }
            #expect(tried.count == 3, "\(scheduler) tried every endpoint once")
            #expect(set.pick(client: BC.client(9), now: 0, excluding: tried, random: &random) == nil, "\(scheduler)")
        }
    }

    @Test func emptySetPicksNothing() {
        var random = FastRandom(seed: 1)
        #expect(BC.set(0, .roundrobin).pick(client: BC.client(1), now: 0, random: &random) == nil)
    }

    @Test func retryTimeoutsDoubleToTheCap() {
        let p = RetryPolicy()
        #expect((0..<5).map { p.timeout(attempt: $0) } == [.milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2), .seconds(2)])
        #expect(p.tries == 4)
    }

    // MARK: response latency (tie-break of leastconn and p2c)

    static let ms: Nanos = 1_000_000

    /// One endpoint answers in 50 ms, the others in 0.3 ms, all idle between connections: every tie goes
    /// to a fast one, which share the connections as evenly as before.
    @Test(arguments: [SchedulerKind.leastconn, .p2c])
    func tiesGoToTheClearlyFasterEndpoint(scheduler: SchedulerKind) {
        let set = BC.set(4, scheduler)
        set.backends[0].recordLatency(50 * Self.ms, now: BC.second)
        for b in set.backends.dropFirst() { b.recordLatency(3 * Self.ms / 10, now: BC.second) }
        let counts = Self.shares(set, count: 3000)
        #expect(counts[0] == 0, "\(scheduler): \(counts)")
        let bound = scheduler == .leastconn ? 0.0 : 0.1
        for c in counts.dropFirst() { #expect(abs(Double(c) - 1000) <= 1000 * bound, "\(scheduler): \(counts)") }
    }

    /// Latencies within a factor of two are a tie: leastconn's round robin stays exact.
    @Test func similarLatenciesStayTied() {
        let set = BC.set(3, .leastconn)
        for (i, b) in set.backends.enumerated() { b.recordLatency(Nanos(3 + i) * Self.ms / 10, now: BC.second) }
        #expect(Self.shares(set, count: 3000) == [1000, 1000, 1000])
    }

    /// leastconn: latency only breaks ties, so the slow endpoint gets the connection when the fast ones are
    /// busier.
    @Test func leastconnPutsLoadFirst() {
        let set = BC.set(2, .leastconn)
        set.backends[0].recordLatency(50 * Self.ms, now: BC.second)
        set.backends[1].recordLatency(Self.ms, now: BC.second)
        set.backends[1].connectStarted(); set.backends[1].connectSucceeded()
        var random = FastRandom(seed: 5)
        for _ in 0..<10 { #expect(set.pick(client: BC.client(1), now: BC.second, random: &random) === set.backends[0]) }
    }

    /// p2c: between endpoints whose latencies differ over 2×, the expected wait (latency × (load + 1))
    /// decides — an idle 50 ms endpoint loses to a 1 ms one with a connection in flight (2 ms), but a 3 ms
    /// one wins against a 1 ms one with five (6 ms); comparable latencies leave it to load alone.
    @Test func p2cWeighsLoadByLatencyWhenTheyDifferClearly() {
        func pick(_ latencies: [Nanos], busy: Int) -> Int? {
            let set = BC.set(2, .p2c)
            for (b, l) in zip(set.backends, latencies) { b.recordLatency(l, now: BC.second) }
            for _ in 0..<busy { set.backends[1].connectStarted() }
            var random = FastRandom(seed: 5)
            let picks = Set((0..<10).compactMap { _ in set.pick(client: BC.client(1), now: BC.second, random: &random) }.map { p in
                set.backends.firstIndex { $0 === p } ?? -1
            })
            return picks.count == 1 ? picks.first : nil
        }
        #expect(pick([50 * Self.ms, Self.ms], busy: 1) == 1, "the slow idle endpoint loses")
        #expect(pick([3 * Self.ms, Self.ms], busy: 5) == 0, "a busy enough fast endpoint loses")
        #expect(pick([15 * Self.ms / 10, Self.ms], busy: 1) == 0, "within 2×: fewer connections win")
    }

    /// Peak-EWMA: a slower answer replaces the estimate at once; faster ones pull it down by their age
    /// (τ = 5 s); with no samples it fades, so a once-slow endpoint wins ties again and is re-measured.
    @Test func latencyEstimateRisesAtOnceAndFades() {
        let b = BC.endpoints(1).map(BackendStats.init)[0]
        #expect(b.latency(now: BC.second) == 0)
        b.recordLatency(Self.ms, now: BC.second)
        b.recordLatency(50 * Self.ms, now: BC.second + Self.ms)
        #expect(b.latency(now: BC.second + Self.ms) == Double(50 * Self.ms))
        // A fast answer 1 ms later weighs 1 − e^(−1 ms / 5 s): the estimate barely moves.
        b.recordLatency(Self.ms, now: BC.second + 2 * Self.ms)
        #expect(b.latency(now: BC.second + 2 * Self.ms) > Double(49 * Self.ms))
        // One after 5 s of silence weighs 1 − 1/e, the old estimate 1/e (which is also what it faded to).
        let later = BC.second + 2 * Self.ms + BackendStats.latencyDecay
        let faded = b.latency(now: later)
        #expect(abs(faded - Double(50 * Self.ms) * exp(-1)) < Double(Self.ms))
        b.recordLatency(Self.ms, now: later)
        #expect(abs(b.latency(now: later) - (faded + Double(Self.ms) * (1 - exp(-1)))) < 1e3)
        // 30 s more without samples: the estimate fades below a 0.3 ms endpoint's, which no longer beats it.
        let fast = BC.endpoints(2).map(BackendStats.init)[1]
        let muchLater = later + 6 * BackendStats.latencyDecay
        fast.recordLatency(3 * Self.ms / 10, now: muchLater)
        #expect(b.latency(now: muchLater) < Double(Self.ms) / 10)
        #expect(!BackendSet.clearlyFaster(fast, than: b, now: muchLater))
    }
}
