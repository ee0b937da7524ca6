import Prometheus

/// kube-proxy's metrics, with upstream's names, on one Prometheus registry.
public final class ProxyMetrics: Sendable {
    public let registry = PrometheusCollectorRegistry()
    let syncDuration: DurationHistogram
    let fullSyncDuration: DurationHistogram
    let partialSyncDuration: DurationHistogram
    let networkProgramming: DurationHistogram
    let lastSync: Gauge
    let lastQueued: Gauge
    let syncFailures: Counter
    let serviceChanges: Counter
    let endpointChanges: Counter
    let chains: Gauge
    let rules: Gauge
    let elements: Gauge
    /// More text for the exposition (metrics kept outside this registry).
    private let extra: (@Sendable () -> String)?

    public init(extra: (@Sendable () -> String)? = nil) {
        self.extra = extra
        // Upstream: exponential buckets from 1 ms, factor 2, 15 buckets.
        let syncBuckets: [Duration] = (0..<15).map { .microseconds(1000 << $0) }
        let programmingBuckets: [Duration] = [0.25, 0.5, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 15, 20, 25, 30, 45, 60, 120, 300].map { .milliseconds(Int($0 * 1000)) }
        syncDuration = registry.makeDurationHistogram(descriptor: describe("kubeproxy_sync_proxy_rules_duration_seconds", "SyncProxyRules latency in seconds"), buckets: syncBuckets)
        fullSyncDuration = registry.makeDurationHistogram(descriptor: describe("kubeproxy_sync_full_proxy_rules_duration_seconds", "SyncProxyRules latency in seconds for full resyncs"), buckets: syncBuckets)
        partialSyncDuration = registry.makeDurationHistogram(descriptor: describe("kubeproxy_sync_partial_proxy_rules_duration_seconds", "SyncProxyRules latency in seconds for partial resyncs"), buckets: syncBuckets)
        networkProgramming = registry.makeDurationHistogram(descriptor: describe("kubeproxy_network_programming_duration_seconds", "In Cluster Network Programming Latency in seconds"), buckets: programmingBuckets)
        lastSync = registry.makeGauge(descriptor: describe("kubeproxy_sync_proxy_rules_last_timestamp_seconds", "The last time proxy rules were successfully synced"))
        lastQueued = registry.makeGauge(descriptor: describe("kubeproxy_sync_proxy_rules_last_queued_timestamp_seconds", "The last time a sync of proxy rules was queued"))
        syncFailures = registry.makeCounter(descriptor: describe("kubeproxy_sync_proxy_rules_nftables_sync_failures_total", "Number of times a sync of the nftables ruleset failed"))
        serviceChanges = registry.makeCounter(descriptor: describe("kubeproxy_sync_proxy_rules_service_changes_total", "Cumulative proxy rules Service changes"))
        endpointChanges = registry.makeCounter(descriptor: describe("kubeproxy_sync_proxy_rules_endpoint_changes_total", "Cumulative proxy rules Endpoint changes"))
        chains = registry.makeGauge(descriptor: describe("kubeproxy_sync_proxy_rules_nftables_chains", "Number of chains in the programmed nftables table"))
        rules = registry.makeGauge(descriptor: describe("kubeproxy_sync_proxy_rules_nftables_rules", "Number of rules in the programmed nftables table"))
        elements = registry.makeGauge(descriptor: describe("kubeproxy_sync_proxy_rules_nftables_elements", "Number of set and map elements in the programmed nftables table"))
    }

    /// The registry in Prometheus text format.
    public func exposition() -> String {
        var buffer: [UInt8] = []
        registry.emit(into: &buffer)
        return String(decoding: buffer, as: UTF8.self) + (extra?() ?? "")
    }
}

/// A descriptor whose full name is `name` exactly (upstream's names already carry their units).
func describe(_ name: String, _ help: String) -> MetricNameDescriptor {
    MetricNameDescriptor(metricName: name, unitName: "", helpText: help)
}
