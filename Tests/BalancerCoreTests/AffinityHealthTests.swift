import KubeAPI
import ProxyCore
import Testing

@testable import BalancerCore

@Suite struct AffinityHealthTests {
    @Test(arguments: SchedulerKind.allCases)
    func affinitySticksRefreshesAndExpires(scheduler: SchedulerKind) {
        let set = BC.set(4, scheduler, affinity: .seconds(10))
        var random = FastRandom(seed: 2)
        let s = BC.second
        let client = BC.client(7)
        guard let first = set.pick(client: client, now: 0, random: &random) else { Issue.record("no pick"); return }
        // Each new connection refreshes the entry: 9 s apart, it never expires.
        for i in 1...5 { #expect(set.pick(client: client, now: Nanos(i) * 9 * s, random: &random) === first, "\(scheduler)") }
        // 10 s after the last one it has expired: the scheduler picks again (round robin moves on).
        var moved = false
        for i in 0..<8 where set.pick(client: client, now: 45 * s + 10 * s + Nanos(i) * 11 * s, random: &random) !== first { moved = true }
        if scheduler != .maglev { #expect(moved, "\(scheduler): the client is free after the timeout") }
        #expect(set.affinity?.count == 1)
    }

    @Test func affinityYieldsToATriedOrEjectedEndpoint() {
        let set = BC.set(3, .roundrobin, affinity: .seconds(60), health: HealthPolicy(consecutiveFailures: 1))
        var random = FastRandom(seed: 2)
        let client = BC.client(3)
        guard let sticky = set.pick(client: client, now: 0, random: &random) else { Issue.record("no pick"); return }
        let retry = set.pick(client: client, now: 0, excluding: [sticky], random: &random)
        #expect(retry != nil && retry !== sticky, "a retry goes elsewhere despite affinity")
        sticky.connectStarted()
        #expect(sticky.connectFailed(now: 0, policy: set.health), "one failure ejects with this policy")
        let next = set.pick(client: client, now: BC.second, random: &random)
        #expect(next !== sticky, "an ejected endpoint loses its clients")
    }

    @Test func ejectionAfterConsecutiveFailuresGrowsAndEnds() {
        let policy = HealthPolicy(consecutiveFailures: 3, baseEjection: .seconds(5), maxEjection: .seconds(12), slowStart: .seconds(10))
        let b = BackendStats(endpoint: BC.endpoints(1)[0])
        let s = BC.second
        func fail(_ now: Nanos) -> Bool { b.connectStarted(); return b.connectFailed(now: now, policy: policy) }
        #expect(!fail(0) && !fail(0))
        b.connectStarted(); b.connectSucceeded(); b.closed()  // a success resets the run
        #expect(!fail(0) && !fail(0))
        #expect(fail(0), "the third failure in a row ejects")
        #expect(b.isEjected(now: 4 * s) && !b.isEjected(now: 5 * s), "first ejection: 5 s")
        #expect(!fail(6 * s) && !fail(6 * s) && fail(6 * s))
        #expect(b.isEjected(now: 15 * s) && !b.isEjected(now: 16 * s), "second: 2 × 5 s")
        #expect(!fail(20 * s) && !fail(20 * s) && fail(20 * s))
        #expect(b.isEjected(now: 31 * s) && !b.isEjected(now: 32 * s), "third: capped at 12 s")
        #expect(b.ejections.load(ordering: .relaxed) == 3)
        #expect(b.pending.load(ordering: .relaxed) == 0 && b.failed.load(ordering: .relaxed) == 11)
    }

    @Test func slowStartRampsTheWeightAfterReadmission() {
        let policy = HealthPolicy(consecutiveFailures: 1, baseEjection: .seconds(5), slowStart: .seconds(10), slowStartMinimumWeight: 0.1)
        let b = BackendStats(endpoint: BC.endpoints(1)[0])
        let s = BC.second
        #expect(b.weight(now: 0, policy: policy) == 1)
        b.connectStarted(); _ = b.connectFailed(now: 0, policy: policy)
        #expect(b.weight(now: 5 * s, policy: policy) == 0.1)
        #expect(abs(b.weight(now: 10 * s, policy: policy) - 0.5) < 1e-9)
        #expect(b.weight(now: 15 * s, policy: policy) == 1)
    }

    @Test(arguments: [SchedulerKind.roundrobin, .random, .leastconn, .p2c])
    func slowStartingEndpointGetsFewerPicks(scheduler: SchedulerKind) {
        let policy = HealthPolicy(consecutiveFailures: 1, baseEjection: .seconds(5), slowStart: .seconds(100), slowStartMinimumWeight: 0.1)
        let set = BC.set(2, scheduler, health: policy)
        set.backends[0].connectStarted(); _ = set.backends[0].connectFailed(now: 0, policy: policy)
        var random = FastRandom(seed: 9)
        var counts = [0, 0]
        let now = 5 * BC.second + BC.second  // re-admitted a second ago: weight ≈ 0.1
        for i in 0..<2000 {
            guard let b = set.pick(client: BC.client(i), now: now, random: &random) else { continue }
            counts[b === set.backends[0] ? 0 : 1] += 1
            b.connectStarted(); b.connectSucceeded(); b.closed()
        }
        #expect(counts[0] < counts[1] / 3, "\(scheduler): \(counts)")
    }

    @Test func everyEndpointEjectedStillPicksOne() {
        let policy = HealthPolicy(consecutiveFailures: 1)
        let set = BC.set(2, .roundrobin, health: policy)
        for b in set.backends { b.connectStarted(); _ = b.connectFailed(now: 0, policy: policy) }
        var random = FastRandom(seed: 1)
        #expect(set.pick(client: BC.client(1), now: 1, random: &random) != nil, "trying beats refusing")
    }

    @Test func registryKeepsCountersForEndpointsThatStay() {
        let registry = BackendRegistry(scheduler: .leastconn)
        let eps = BC.endpoints(3)
        let spec = ListenerSpec(key: BC.key, endpoints: eps, affinityTimeoutSeconds: 30)
        let first = registry.update([BC.key: spec])
        guard let a = first[BC.key]?.backends[1] else { Issue.record("no set"); return }
        a.connectStarted(); a.connectSucceeded()
        var terminating = eps[1]; terminating.ready = false; terminating.terminating = true
        let second = registry.update([BC.key: ListenerSpec(key: BC.key, endpoints: [terminating, eps[2]], affinityTimeoutSeconds: 30)])
        #expect(second[BC.key]?.backends.first === a, "same ip:port, same counters")
        #expect(second[BC.key]?.affinity === first[BC.key]?.affinity, "the affinity table carries over")
        #expect(registry.update([:]).isEmpty)
    }
}
