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

    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry(), server: String = "dns://:53", zone: String = ".") {
        self.registry = registry
        var requests: [String: Counter] = [:]
        let typeNames = Self.types.map(\.description) + ["other"]
        for proto in ["udp", "tcp"] {
            for family in ["1", "2"] {
                for type in typeNames {
                    requests["\(proto)/\(family)/\(type)"] = registry.makeCounter(
                        name: "coredns_dns_requests_total",
                        labels: [("server", server), ("zone", zone), ("view", ""), ("proto", proto), ("family", family), ("type", type)],
                        help: "Counter of DNS requests made per zone, protocol and family.")
                }
            }
        }
        self.requests = requests
        var responses: [UInt16: Counter] = [:]
        func responseCounter(_ rcode: String) -> Counter {
            registry.makeCounter(name: "coredns_dns_responses_total",
                                 labels: [("server", server), ("zone", zone), ("view", ""), ("rcode", rcode), ("plugin", "")],
                                 help: "Counter of response status codes.")
        }
        for rcode in Self.rcodes { responses[rcode.rawValue] = responseCounter(rcode.description) }
        self.responses = responses
        otherResponses = responseCounter("other")
        let buckets: [Duration] = [0.00025, 0.0005, 0.001, 0.002, 0.004, 0.008, 0.016, 0.032, 0.064, 0.128, 0.256, 0.512, 1.024, 2.048, 4.096, 8.192]
            .map { Duration.nanoseconds(Int64($0 * 1e9)) }
        var durations: [String: DurationHistogram] = [:]
        for type in typeNames {
            durations[type] = registry.makeDurationHistogram(
                name: "coredns_dns_request_duration_seconds",
                labels: [("server", server), ("zone", zone), ("view", ""), ("type", type)], buckets: buckets,
                help: "Histogram of the time (in seconds) each request took per zone.")
        }
        self.durations = durations
        cacheHits = [
            .success: registry.makeCounter(name: "coredns_cache_hits_total", labels: [("server", server), ("type", "success"), ("zones", "."), ("view", "")],
                                           help: "The count of cache hits."),
            .denial: registry.makeCounter(name: "coredns_cache_hits_total", labels: [("server", server), ("type", "denial"), ("zones", "."), ("view", "")],
                                          help: "The count of cache hits."),
        ]
        cacheMisses = registry.makeCounter(name: "coredns_cache_misses_total", labels: [("server", server), ("zones", "."), ("view", "")],
                                           help: "The count of cache misses.")
        dropped = registry.makeCounter(name: "kproxy_dns_dropped_packets_total", help: "Packets dropped because no DNS header could be read.")
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

    /// The text exposition format.
    public func render() -> String { registry.emitToString() }
}
