/// How a listener picks an endpoint for a new connection or UDP session (`--scheduler`).
public enum SchedulerKind: String, Hashable, Sendable, CaseIterable, Codable {
    /// Each endpoint in turn.
    case roundrobin
    /// The endpoint with the fewest connections, counting those still being set up (active + pending).
    case leastconn
    /// Power of two choices: two distinct random endpoints, the one with fewer active + pending wins.
    case p2c
    /// Uniformly random.
    case random
    /// Maglev consistent hashing of the client address: a client keeps its endpoint while the set changes
    /// elsewhere, and a change moves few clients.
    case maglev
}
