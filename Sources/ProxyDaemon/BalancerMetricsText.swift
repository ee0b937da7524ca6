import Balancer
import BalancerCore
import ProxyCore

/// The userspace mode's metrics in Prometheus text format: per endpoint (active, pending, total, failed,
/// ejections, ejected now, response latency) and per Service port (active, total), labelled like kube-proxy
/// labels Services (`service="ns/name:port"`), plus the data path's own counters.
enum BalancerMetricsText {
    static func render(sets: [ListenerKey: BackendSet], counters: BalancerCounters, now: Nanos) -> String {
        var out = ""
        let keys = sets.keys.sorted()
        func family(_ name: String, _ type: String, _ help: String, _ rows: (inout String) -> Void) {
            out += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
            rows(&out)
        }
        func labels(_ key: ListenerKey, endpoint: String? = nil) -> String {
            var l = #"service="\#(escape(key.name.description))",protocol="\#(key.name.protocol.name)",scope="\#(key.scope.rawValue)",family="\#(key.family.rawValue)""#
            if let endpoint { l += #",endpoint="\#(escape(endpoint))""# }
            return "{\(l)}"
        }
        func perEndpoint<V: CustomStringConvertible>(_ name: String, _ type: String, _ help: String, _ value: (BackendStats) -> V) {
            family(name, type, help) { out in
                for key in keys {
                    guard let set = sets[key] else { continue }
                    for b in set.backends { out += "\(name)\(labels(key, endpoint: b.endpoint.description)) \(value(b))\n" }
                }
            }
        }
        func perService(_ name: String, _ type: String, _ help: String, _ value: (BackendStats) -> Int) {
            family(name, type, help) { out in
                for key in keys {
                    guard let set = sets[key] else { continue }
                    out += "\(name)\(labels(key)) \(set.backends.reduce(0) { $0 + value($1) })\n"
                }
            }
        }
        perEndpoint("kproxy_userspace_endpoint_active_connections", "gauge",
                    "Established connections (TCP) or open sessions (UDP) to the endpoint") { $0.active.load(ordering: .relaxed) }
        perEndpoint("kproxy_userspace_endpoint_pending_connections", "gauge",
                    "Connects to the endpoint in progress") { $0.pending.load(ordering: .relaxed) }
        perEndpoint("kproxy_userspace_endpoint_connections_total", "counter",
                    "Connections (sessions) established to the endpoint") { $0.total.load(ordering: .relaxed) }
        perEndpoint("kproxy_userspace_endpoint_connect_failures_total", "counter",
                    "Connects to the endpoint that failed or timed out") { $0.failed.load(ordering: .relaxed) }
        perEndpoint("kproxy_userspace_endpoint_ejections_total", "counter",
                    "Times passive health checking ejected the endpoint") { $0.ejections.load(ordering: .relaxed) }
        perEndpoint("kproxy_userspace_endpoint_ejected", "gauge",
                    "1 while the endpoint is ejected (gets no new connections)") { $0.isEjected(now: now) ? 1 : 0 }
        perEndpoint("kproxy_userspace_endpoint_response_latency_seconds", "gauge",
                    "Peak-EWMA of the time the endpoint takes to answer (first bytes back after bytes sent)") { $0.latency(now: now) / 1e9 }
        perService("kproxy_userspace_service_active_connections", "gauge",
                   "Established connections (sessions) of the Service port") { $0.active.load(ordering: .relaxed) }
        perService("kproxy_userspace_service_connections_total", "counter",
                   "Connections (sessions) established for the Service port, to endpoints it has now") { $0.total.load(ordering: .relaxed) }
        for (name, type, help, value) in counters.rows {
            family(name, type, help) { out in out += "\(name) \(value)\n" }
        }
        return out
    }

    /// A label value with `\`, `"` and newlines escaped.
    static func escape(_ value: String) -> String {
        var s = ""
        for c in value {
            switch c {
            case "\\": s += "\\\\"
            case "\"": s += "\\\""
            case "\n": s += "\\n"
            default: s.append(c)
            }
        }
        return s
    }
}
