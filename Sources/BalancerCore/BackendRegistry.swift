import ProxyCore

/// Builds each listener's `BackendSet` from the proxy state, keeping one `BackendStats` per listener and
/// endpoint across syncs (counters and health carry over; a removed endpoint's object goes with it, while
/// connections that hold it drain). Owned by the sync loop; not shared.
public final class BackendRegistry {
    public let scheduler: SchedulerKind
    public let health: HealthPolicy
    private var stats: [ListenerKey: [String: BackendStats]] = [:]
    private var affinities: [ListenerKey: AffinityTable] = [:]
    /// Last sync's spec and set per listener: an unchanged spec keeps its set (no rebuilt Maglev table, the
    /// round-robin cursor goes on).
    private var built: [ListenerKey: (spec: ListenerSpec, set: BackendSet)] = [:]

    public init(scheduler: SchedulerKind, health: HealthPolicy = HealthPolicy()) {
        self.scheduler = scheduler; self.health = health
    }

    /// The backend sets for `specs`; listeners not in `specs` are forgotten.
    public func update(_ specs: [ListenerKey: ListenerSpec]) -> [ListenerKey: BackendSet] {
        var sets: [ListenerKey: BackendSet] = [:]
        var newStats: [ListenerKey: [String: BackendStats]] = [:]
        var newAffinities: [ListenerKey: AffinityTable] = [:]
        var newBuilt: [ListenerKey: (spec: ListenerSpec, set: BackendSet)] = [:]
        for (key, spec) in specs {
            if let previous = built[key], previous.spec == spec {
                sets[key] = previous.set
                newBuilt[key] = previous
                newStats[key] = stats[key]
                newAffinities[key] = affinities[key]
                continue
            }
            let old = stats[key] ?? [:]
            var kept: [String: BackendStats] = [:]
            let backends = spec.endpoints.map { ep -> BackendStats in
                let id = ep.description
                let b = old[id] ?? BackendStats(endpoint: ep)  // same ip:port: same counters, whatever its conditions now
                kept[id] = b
                return b
            }
            newStats[key] = kept
            var affinity: AffinityTable?
            if let seconds = spec.affinityTimeoutSeconds {
                let table = affinities[key].flatMap { $0.timeout == .seconds(seconds) ? $0 : nil } ?? AffinityTable(timeout: .seconds(seconds))
                table.retain(endpoints: Set(kept.keys))
                newAffinities[key] = table
                affinity = table
            }
            let set = BackendSet(key: key, backends: backends, scheduler: scheduler, health: health, affinity: affinity)
            sets[key] = set
            newBuilt[key] = (spec, set)
        }
        built = newBuilt
        stats = newStats
        affinities = newAffinities
        return sets
    }
}
