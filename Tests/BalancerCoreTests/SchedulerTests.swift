import KubeAPI
import ProxyCore
import Testing

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
}
