import KubeAPI
import ProxyCore
import Synchronization
import Values

/// What one listener balances over now: immutable (a sync builds a new set and the event loops swap it in),
/// except the counters inside each `BackendStats` and the round-robin cursor.
public final class BackendSet: Sendable {
    public let key: ListenerKey
    public let backends: [BackendStats]
    public let scheduler: SchedulerKind
    public let health: HealthPolicy
    public let affinity: AffinityTable?
    let maglev: MaglevTable?
    private let cursor = Atomic<UInt64>(0)

    public init(key: ListenerKey, backends: [BackendStats], scheduler: SchedulerKind, health: HealthPolicy = HealthPolicy(),
                affinity: AffinityTable? = nil) {
        self.key = key; self.backends = backends; self.scheduler = scheduler; self.health = health; self.affinity = affinity
        maglev = scheduler == .maglev && !backends.isEmpty ? MaglevTable(names: backends.map(\.endpoint.description)) : nil
    }

    public var isEmpty: Bool { backends.isEmpty }

    /// Picks the endpoint for a new connection (or UDP session) from `client`; nil when every endpoint was
    /// tried already. Endpoints in `tried` (earlier attempts of this connection) are skipped; ejected ones
    /// too, unless nothing else is left (then trying beats refusing). With affinity, a client sticks to its
    /// endpoint while that one is eligible.
    public func pick(client: IPAddress, now: Nanos, excluding tried: [BackendStats] = [], random: inout FastRandom) -> BackendStats? {
        guard !backends.isEmpty else { return nil }
        let untried: (BackendStats) -> Bool = { b in !tried.contains { $0 === b } }
        var admitted = untried
        if !backends.contains(where: { untried($0) && !$0.isEjected(now: now) }) {
            guard backends.contains(where: untried) else { return nil }
        } else {
            admitted = { b in untried(b) && !b.isEjected(now: now) }
        }
        if let affinity, let sticky = affinity.endpoint(for: client, now: now),
           let backend = backends.first(where: { $0.endpoint.description == sticky }), admitted(backend) {
            affinity.record(client, endpoint: sticky, now: now)
            return backend
        }
        guard let chosen = choose(client: client, now: now, admitted: admitted, random: &random) else { return nil }
        affinity?.record(client, endpoint: chosen.endpoint.description, now: now)
        return chosen
    }

    private func choose(client: IPAddress, now: Nanos, admitted: (BackendStats) -> Bool, random: inout FastRandom) -> BackendStats? {
        let n = backends.count
        switch scheduler {
        case .roundrobin:
            let start = Int(cursor.add(1, ordering: .relaxed).oldValue % UInt64(n))
            return scan(from: start, now: now, admitted: admitted, random: &random)
        case .random:
            return scan(from: Int(random.next() % UInt64(n)), now: now, admitted: admitted, random: &random)
        case .leastconn:
            // Of the least loaded, those not clearly slower than the fastest of them (`clearlyFaster`) take
            // turns, so equal endpoints share new connections exactly evenly.
            let turn = cursor.add(1, ordering: .relaxed).oldValue
            return withUnsafeTemporaryAllocation(of: Double.self, capacity: n) { scores in
                var bestScore = Double.infinity
                for (i, b) in backends.enumerated() {
                    scores[i] = admitted(b) ? Double(b.load + 1) / b.weight(now: now, policy: health) : .infinity
                    bestScore = min(bestScore, scores[i])
                }
                guard bestScore < .infinity else { return nil }
                return withUnsafeTemporaryAllocation(of: Double.self, capacity: n) { latencies in
                    // Each tied endpoint's latency, read once; the others are out of the running.
                    var fastest = Double.infinity
                    for (i, b) in backends.enumerated() {
                        latencies[i] = scores[i] == bestScore ? b.latency(now: now) : .infinity
                        fastest = min(fastest, latencies[i])
                    }
                    // In the running unless clearly slower than the fastest (never empty: the fastest is in).
                    let inRunning = { (i: Int) in latencies[i] < .infinity && !(fastest * 2 < latencies[i]) }
                    var target = Int(turn % UInt64((0..<n).count(where: inRunning)))
                    for i in 0..<n where inRunning(i) {
                        if target == 0 { return backends[i] }
                        target -= 1
                    }
                    return nil
                }
            }
        case .p2c:
            let candidates = backends.indices.filter { admitted(backends[$0]) }
            guard !candidates.isEmpty else { return nil }
            guard candidates.count > 1 else { return backends[candidates[0]] }
            let i = Int(random.next() % UInt64(candidates.count))
            var j = Int(random.next() % UInt64(candidates.count - 1))
            if j >= i { j += 1 }
            let a = backends[candidates[i]], b = backends[candidates[j]]
            let sa = Double(a.load + 1) / a.weight(now: now, policy: health)
            let sb = Double(b.load + 1) / b.weight(now: now, policy: health)
            // Of two endpoints whose latencies differ by more than a factor of two, the one a new
            // connection would wait less on (latency × (load + 1), peak-EWMA P2C as Finagle and Linkerd
            // weigh it): with only two candidates, an idle slow endpoint against a fast one with a
            // connection in flight is common, and fewer-connections-wins would hand it every such draw.
            let la = a.latency(now: now), lb = b.latency(now: now)
            if la * 2 < lb || lb * 2 < la { return lb * sb < la * sa ? b : a }
            if sa != sb { return sb < sa ? b : a }
            return a
        case .maglev:
            guard let maglev else { return nil }
            let (high, low) = client.halves
            var hash = MaglevTable.mix(high ^ MaglevTable.mix(low))
            // The client's slot; if its endpoint is not admitted, the next slots in a fixed sequence.
            for _ in 0..<min(maglev.size, 64 * n) {
                let b = backends[maglev.backend(for: hash)]
                if admitted(b) { return b }
                hash = MaglevTable.mix(hash)
            }
            return backends.first(where: admitted)
        }
    }

    /// Breaks a tie in load between two endpoints: `a` wins when its response latency is under half of
    /// `b`'s. With a load-only tie-break, a slow endpoint that is idle between its slow answers competes
    /// equally for every new connection while the fast ones are idle too, and gets about one per answer
    /// time — the 1% of requests that sets p99. Endpoints within a factor of two stay tied (round robin).
    static func clearlyFaster(_ a: BackendStats, than b: BackendStats, now: Nanos) -> Bool {
        a.latency(now: now) * 2 < b.latency(now: now)
    }

    /// The first admitted endpoint from `start` on; one in slow start is passed over with probability
    /// 1 − weight (but taken if it is the only one).
    private func scan(from start: Int, now: Nanos, admitted: (BackendStats) -> Bool, random: inout FastRandom) -> BackendStats? {
        let n = backends.count
        var fallback: BackendStats?
        for i in 0..<n {
            let b = backends[(start + i) % n]
            guard admitted(b) else { continue }
            let w = b.weight(now: now, policy: health)
            if w >= 1 || Double(random.next() >> 11) * 0x1p-53 < w { return b }
            if fallback == nil { fallback = b }
        }
        return fallback
    }
}
