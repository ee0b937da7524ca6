import Balancer
import BalancerCore
import KubeAPI
import Logging
import ProxyCore
import Synchronization

/// Where the userspace mode's listeners live: opened on the ports the ruleset hands traffic to, each balancing
/// over its backend set.
public protocol ListenerTarget: Sendable {
    /// Opens, updates and closes listeners to match `specs` at `ports` (keys without a port are left out);
    /// returns the keys whose listener could not be opened, with why. The ruleset then treats those as having
    /// no endpoints.
    func apply(_ specs: [ListenerKey: ListenerSpec], ports: ListenerPorts) async -> [ListenerKey: String]
}

/// The userspace balancer as a `ListenerTarget`: keeps the endpoints' live counters across syncs
/// (`BackendRegistry`) and hands the event loops new backend sets; also the per-endpoint metrics.
public final class BalancerTarget: ListenerTarget, Sendable {
    private let balancer: Balancer
    private struct State {
        var registry: BackendRegistry
        var sets: [ListenerKey: BackendSet] = [:]
    }
    // Mutex<State> is Sendable though BackendRegistry is not: the registry is only touched under the lock.
    private let state: Mutex<State>

    public init(balancer: Balancer, scheduler: SchedulerKind, health: HealthPolicy = HealthPolicy()) {
        self.balancer = balancer
        state = Mutex(State(registry: BackendRegistry(scheduler: scheduler, health: health)))
    }

    public func apply(_ specs: [ListenerKey: ListenerSpec], ports: ListenerPorts) async -> [ListenerKey: String] {
        let wanted = specs.filter { ports.port($0.key) != nil }
        let sets = state.withLock { s in
            s.sets = s.registry.update(wanted)
            return s.sets
        }
        let bindings = sets.compactMap { key, set in ports.port(key).map { ListenerBinding(key: key, port: $0, backends: set) } }
        return await balancer.apply(bindings).mapValues { "\($0)" }
    }

    /// Stops accepting (listeners close; another process on the same ports takes queued connections) and
    /// waits for open connections, at most `timeout`.
    public func drain(timeout: Duration) async { await balancer.drain(timeout: timeout) }

    /// Per-endpoint and per-Service connection metrics plus the data path's counters, in Prometheus text format.
    public func exposition() -> String {
        let sets = state.withLock { $0.sets }
        return BalancerMetricsText.render(sets: sets, counters: balancer.counters(), now: BalancerClock.now())
    }
}
