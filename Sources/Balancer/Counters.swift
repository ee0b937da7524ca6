import Synchronization

/// One event loop's counters: written by that loop only (relaxed atomics, no contention), read by /metrics.
final class LoopCounters: Sendable {
    let accepted = Atomic<Int>(0)
    let refused = Atomic<Int>(0)
    let retries = Atomic<Int>(0)
    let connectFailures = Atomic<Int>(0)
    let openConnections = Atomic<Int>(0)
    let udpSessions = Atomic<Int>(0)
    let udpIn = Atomic<Int>(0)
    let udpOut = Atomic<Int>(0)
    let udpDropped = Atomic<Int>(0)
    let sourceFallbacks = Atomic<Int>(0)
}

/// The data path's counters summed over its loops.
public struct BalancerCounters: Sendable {
    /// TCP connections accepted.
    public var accepted = 0
    /// Connections reset at once because no endpoint was left to try.
    public var refused = 0
    /// Connects retried on another endpoint.
    public var retries = 0
    /// Connects that failed (refused, unreachable, timed out).
    public var connectFailures = 0
    /// Relayed TCP connections open now (connecting included).
    public var openConnections = 0
    /// UDP sessions open now.
    public var udpSessions = 0
    public var udpDatagramsIn = 0
    public var udpDatagramsOut = 0
    /// Datagrams dropped (no endpoint, or a send that failed).
    public var udpDropped = 0
    /// Connections of `local` listeners that could not keep the client's address and came from the node's.
    public var sourceFallbacks = 0

    /// Prometheus rows: name, type, help, value.
    public var rows: [(String, String, String, Int)] {
        [("kproxy_userspace_accepted_connections_total", "counter", "TCP connections accepted by the userspace balancer", accepted),
         ("kproxy_userspace_refused_connections_total", "counter", "Connections reset because no endpoint was left to try", refused),
         ("kproxy_userspace_connect_retries_total", "counter", "Connects retried on another endpoint", retries),
         ("kproxy_userspace_connect_failures_total", "counter", "Connects to endpoints that failed or timed out", connectFailures),
         ("kproxy_userspace_open_connections", "gauge", "Relayed TCP connections open now", openConnections),
         ("kproxy_userspace_udp_sessions", "gauge", "UDP sessions open now", udpSessions),
         ("kproxy_userspace_udp_datagrams_in_total", "counter", "Datagrams received from clients", udpDatagramsIn),
         ("kproxy_userspace_udp_datagrams_out_total", "counter", "Datagrams sent back to clients", udpDatagramsOut),
         ("kproxy_userspace_udp_datagrams_dropped_total", "counter", "Datagrams dropped (no endpoint or a failed send)", udpDropped),
         ("kproxy_userspace_source_fallbacks_total", "counter",
          "Connections to local endpoints that could not keep the client's address and came from the node's", sourceFallbacks)]
    }

    mutating func add(_ c: LoopCounters) {
        accepted += c.accepted.load(ordering: .relaxed)
        refused += c.refused.load(ordering: .relaxed)
        retries += c.retries.load(ordering: .relaxed)
        connectFailures += c.connectFailures.load(ordering: .relaxed)
        openConnections += c.openConnections.load(ordering: .relaxed)
        udpSessions += c.udpSessions.load(ordering: .relaxed)
        udpDatagramsIn += c.udpIn.load(ordering: .relaxed)
        udpDatagramsOut += c.udpOut.load(ordering: .relaxed)
        udpDropped += c.udpDropped.load(ordering: .relaxed)
        sourceFallbacks += c.sourceFallbacks.load(ordering: .relaxed)
    }
}
