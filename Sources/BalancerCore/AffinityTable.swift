import KubeAPI
import Synchronization
import Values

/// `sessionAffinity: ClientIP`: which endpoint each client address last used, forgotten `timeout` after its
/// last new connection (kube-proxy's nftables mode refreshes the same way: on each new connection).
///
/// Shared by every event loop of one listener, since SO_REUSEPORT spreads one client's connections over
/// the loops; it takes a lock, but only Services with affinity have a table.
public final class AffinityTable: Sendable {
    public let timeout: Duration
    private struct Entry { var endpoint: String; var expires: Nanos }
    private let entries = Mutex<[IPAddress: Entry]>([:])
    /// Expired entries are swept at most this often (on a pick).
    private let lastSweep = Atomic<Int64>(0)

    public init(timeout: Duration) { self.timeout = timeout }

    /// The endpoint (`ip:port`) `client` sticks to, if its entry has not expired.
    public func endpoint(for client: IPAddress, now: Nanos) -> String? {
        entries.withLock { table in
            guard let entry = table[client] else { return nil }
            if entry.expires <= now { table[client] = nil; return nil }
            return entry.endpoint
        }
    }

    /// Records that `client` uses `endpoint` now (and sweeps expired entries now and then).
    public func record(_ client: IPAddress, endpoint: String, now: Nanos) {
        let span = timeout.nanos
        let sweep = now - lastSweep.load(ordering: .relaxed) > span
        if sweep { lastSweep.store(now, ordering: .relaxed) }
        entries.withLock { table in
            if sweep { table = table.filter { $0.value.expires > now } }
            table[client] = Entry(endpoint: endpoint, expires: now + span)
        }
    }

    /// Forgets clients of endpoints not in `keep` (an endpoint left the Service).
    public func retain(endpoints keep: Set<String>) {
        entries.withLock { table in table = table.filter { keep.contains($0.value.endpoint) } }
    }

    public var count: Int { entries.withLock { $0.count } }
}
