import DNSCore
import Prometheus

/// Prometheus metrics under CoreDNS's names, served on `/metrics`. Counters for the label values
/// that occur are made up front so recording is a dictionary read and an atomic add.
public final class DNSMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry
    static let types: [DNSType] = [.a, .aaaa, .srv, .ptr, .txt, .soa, .ns, .cname, .any]
    static let rcodes: [DNSRCode] = [.noError, .formErr, .servFail, .nxDomain, .notImp, .refused, .badVers]

    private let requests: [String: Counter]   // "proto/family/type"
    private let responses: [UInt16: Counter]  // rcode
    private let otherResponses: Counter
    private let durations: [String: DurationHistogram]  // type
    private let cacheHits: [DNSCache.Kind: Counter]
    private let cacheMisses: Counter
    /// Packets dropped because not even a header could be read.
    private let dropped: Counter
    private let udpReceiveErrors: Counter
    private let udpSocketRestarts: Counter

    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry(), server: String = "dns://:53", zone: String = ".") {
        self.registry = registry
        var requests: [String: Counter] = [:]
        let typeNames = Self.types.map(\.description) + ["other"]
        for proto in ["udp", "tcp"] {
            for family in ["1", "2"] {
                for type in typeNames {
                    requests["\(proto)/\(family)/\(type)"] = registry.makeCounter(descriptor: metricName("coredns_dns_requests_total", "Counter of DNS requests made per zone, protocol and family."), labels: [("server", server), ("zone", zone), ("view", ""), ("proto", proto), ("family", family), ("type", type)])
                }
            }
        }
        self.requests = requests
        var responses: [UInt16: Counter] = [:]
        func responseCounter(_ rcode: String) -> Counter {
            registry.makeCounter(descriptor: metricName("coredns_dns_responses_total", "Counter of response status codes."), labels: [("server", server), ("zone", zone), ("view", ""), ("rcode", rcode), ("plugin", "")])
        }
        for rcode in Self.rcodes { responses[rcode.rawValue] = responseCounter(rcode.description) }
        self.responses = responses
        otherResponses = responseCounter("other")
        let buckets: [Duration] = [0.00025, 0.0005, 0.001, 0.002, 0.004, 0.008, 0.016, 0.032, 0.064, 0.128, 0.256, 0.512, 1.024, 2.048, 4.096, 8.192]
            .map { Duration.nanoseconds(Int64($0 * 1e9)) }
        var durations: [String: DurationHistogram] = [:]
        for type in typeNames {
            durations[type] = registry.makeDurationHistogram(descriptor: metricName("coredns_dns_request_duration_seconds", "Histogram of the time (in seconds) each request took per zone."), labels: [("server", server), ("zone", zone), ("view", ""), ("type", type)], buckets: buckets)
        }
        self.durations = durations
        cacheHits = [
            .success: registry.makeCounter(descriptor: metricName("coredns_cache_hits_total", "The count of cache hits."), labels: [("server", server), ("type", "success"), ("zones", "."), ("view", "")]),
            .denial: registry.makeCounter(descriptor: metricName("coredns_cache_hits_total", "The count of cache hits."), labels: [("server", server), ("type", "denial"), ("zones", "."), ("view", "")]),
        ]
        cacheMisses = registry.makeCounter(descriptor: metricName("coredns_cache_misses_total", "The count of cache misses."), labels: [("server", server), ("zones", "."), ("view", "")])
        dropped = registry.makeCounter(descriptor: metricName("kproxy_dns_dropped_packets_total", "Packets dropped because no DNS header could be read."))
        udpReceiveErrors = registry.makeCounter(descriptor: metricName("kproxy_dns_udp_receive_errors_total", "Unexpected errors receiving on a UDP socket."))
        udpSocketRestarts = registry.makeCounter(descriptor: metricName("kproxy_dns_udp_socket_restarts_total", "UDP sockets replaced after a receive error."))
    }

    static func typeLabel(_ type: DNSType?) -> String {
        guard let type, types.contains(type) else { return "other" }
        return type.description
    }

    func request(tcp: Bool, ipv6: Bool, type: DNSType?) {
        requests["\(tcp ? "tcp" : "udp")/\(ipv6 ? "2" : "1")/\(Self.typeLabel(type))"]?.increment()
    }

    func response(_ rcode: DNSRCode, type: DNSType?, duration: Duration) {
        (responses[rcode.rawValue] ?? otherResponses).increment()
        durations[Self.typeLabel(type)]?.record(duration)
    }

    func cacheHit(_ kind: DNSCache.Kind) { cacheHits[kind]?.increment() }
    func cacheMiss() { cacheMisses.increment() }
    func drop() { dropped.increment() }
    func udpReceiveError() { udpReceiveErrors.increment() }
    func udpSocketRestart() { udpSocketRestarts.increment() }

    /// The text exposition format.
    public func render() -> String { registry.emitToString() }
}

/// A descriptor whose full name is `name` exactly (CoreDNS's names already carry their units).
func metricName(_ name: String, _ help: String) -> MetricNameDescriptor {
    MetricNameDescriptor(metricName: name, unitName: "", helpText: help)
}
