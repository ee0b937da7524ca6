import Foundation

/// The results of `kproxy bench controlplane`, as a table and as JSON.
struct BenchReport: Codable, Sendable {
    struct Writes: Codable, Sendable {
        var created = 0
        var failed = 0
        var seconds = 0.0
        var writesPerSecond = 0.0
        var servicesPerSecond = 0.0
        var podsPerSecond = 0.0
        var requestLatency = BenchMeasure.Percentiles(nanoseconds: [])
        var errors: [String: Int] = [:]
    }

    struct Watch: Codable, Sendable {
        var latencyDefinition = "receive time at the watcher minus the send time of the create request (upper bound: includes the create's own round trip)"
        var watchers = 0
        var expectedEvents = 0
        var receivedEvents = 0
        var missingEvents = 0
        var duplicateEvents = 0
        var rewatches = 0
        var incompleteWatchers = 0
        /// Last event received, in seconds after the last create returned.
        var drainSeconds = 0.0
        var deliveryLatency = BenchMeasure.Percentiles(nanoseconds: [])
        var serviceDeliveryLatency = BenchMeasure.Percentiles(nanoseconds: [])
        var podDeliveryLatency = BenchMeasure.Percentiles(nanoseconds: [])
        var errors: [String] = []
    }

    struct Server: Codable, Sendable {
        var pid: Int32?
        var before: BenchMeasure.ProcessSample?
        var afterWrites: BenchMeasure.ProcessSample?
        var afterDrain: BenchMeasure.ProcessSample?
        var afterRelist: BenchMeasure.ProcessSample?
    }

    struct Relist: Codable, Sendable {
        var servicesSeconds: [Double] = []
        var podsSeconds: [Double] = []
        var serviceItems = 0
        var podItems = 0
        var servicesBytes = 0
        var podsBytes = 0
        var typedDecodeServicesSeconds = 0.0
        var typedDecodePodsSeconds = 0.0
    }

    var services: Int
    var pods: Int
    var namespace: String
    var selectors: Bool
    var concurrency: Int
    var connections: Int
    var writes = Writes()
    var watch = Watch()
    var server: Server
    var clientCPUSeconds = 0.0
    var relist = Relist()

    init(workload: BenchWorkload, concurrency: Int, connections: Int, serverPid: Int32?) {
        services = workload.services; pods = workload.pods; namespace = workload.namespace
        selectors = workload.selectors; self.concurrency = concurrency; self.connections = connections
        server = Server(pid: serverPid)
    }

    mutating func record(writes w: BenchWriteResult) {
        writes.created = w.created
        writes.failed = w.failed
        writes.seconds = Double(w.endNs - w.startNs) / 1e9
        writes.writesPerSecond = Double(w.created) / max(writes.seconds, 1e-9)
        writes.servicesPerSecond = Double(w.serviceLatencies.count) / max(Double(w.servicesDoneNs - w.startNs) / 1e9, 1e-9)
        writes.podsPerSecond = Double(w.podLatencies.count) / max(Double(w.podsDoneNs - w.firstPodSentNs) / 1e9, 1e-9)
        writes.requestLatency = BenchMeasure.Percentiles(nanoseconds: w.serviceLatencies + w.podLatencies)
        writes.errors = w.errors
    }

    mutating func record(watchers results: [BenchWatcherResult], writesEndNs: Int64, drainEndNs: Int64) {
        watch.watchers = results.count
        watch.expectedEvents = results.reduce(0) { $0 + $1.expected }
        watch.receivedEvents = results.reduce(0) { $0 + $1.received }
        watch.missingEvents = watch.expectedEvents - watch.receivedEvents
        watch.duplicateEvents = results.reduce(0) { $0 + $1.duplicates }
        watch.rewatches = results.reduce(0) { $0 + $1.rewatches }
        watch.incompleteWatchers = results.filter { $0.received < $0.expected }.count
        let last = results.map(\.lastEventNs).max() ?? writesEndNs
        watch.drainSeconds = Double(last - writesEndNs) / 1e9
        let services = results.filter(\.isService).flatMap(\.latencies)
        let pods = results.filter { !$0.isService }.flatMap(\.latencies)
        watch.serviceDeliveryLatency = BenchMeasure.Percentiles(nanoseconds: services)
        watch.podDeliveryLatency = BenchMeasure.Percentiles(nanoseconds: pods)
        watch.deliveryLatency = BenchMeasure.Percentiles(nanoseconds: services + pods)
        var errors: [String] = []
        for r in results { errors.append(contentsOf: r.errors.map { String($0.prefix(200)) }) }
        watch.errors = Array(Set(errors)).sorted().prefix(10).map { $0 }
    }

    func jsonData() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try encoder.encode(self)
    }

    /// The human-readable results.
    func table() -> String {
        var lines: [String] = []
        func row(_ label: String, _ value: String) { lines.append("  " + label.padding(toLength: 20, withPad: " ", startingAt: 0) + value) }
        lines.append("== kproxy control-plane benchmark ==")
        row("workload", "\(BenchFormat.count(services)) Services + \(BenchFormat.count(pods)) Pods, namespace \(namespace), selectors \(selectors ? "on" : "off")")
        row("clients", "\(concurrency) concurrent creates over up to \(connections) keep-alive connections, \(watch.watchers) watchers")
        lines.append("writes")
        row("created", "\(BenchFormat.count(writes.created)) ok, \(writes.failed) failed, in \(BenchFormat.s(writes.seconds))")
        row("throughput", "\(BenchFormat.rate(writes.writesPerSecond)) overall (Services \(BenchFormat.rate(writes.servicesPerSecond)), Pods \(BenchFormat.rate(writes.podsPerSecond)))")
        row("request latency", writes.requestLatency.summary)
        for (error, count) in writes.errors.sorted(by: { $0.value > $1.value }).prefix(5) { row("  error ×\(count)", error) }
        if watch.watchers > 0 {
        lines.append("watch delivery (receive − create request send time: an upper bound)")
        row("events", "\(BenchFormat.count(watch.receivedEvents)) of \(BenchFormat.count(watch.expectedEvents)) expected; "
            + "missing \(watch.missingEvents), duplicates \(watch.duplicateEvents), re-watches \(watch.rewatches), incomplete watchers \(watch.incompleteWatchers)")
        row("latency (all)", watch.deliveryLatency.summary)
        row("  Services", watch.serviceDeliveryLatency.summary)
        row("  Pods", watch.podDeliveryLatency.summary)
        row("drain", "last event \(BenchFormat.s(watch.drainSeconds)) after the last create returned")
        for error in watch.errors.prefix(5) { row("  error", error) }
        }
        lines.append("server" + (server.pid.map { " (pid \($0))" } ?? " (pass --server-pid for RSS and CPU)"))
        if let b = server.before, let w = server.afterWrites, let d = server.afterDrain {
            row("RSS", "before \(BenchFormat.mib(b.rssKiB)), after writes \(BenchFormat.mib(w.rssKiB)), after drain \(BenchFormat.mib(d.rssKiB))"
                + (server.afterRelist.map { ", after relists \(BenchFormat.mib($0.rssKiB))" } ?? ""))
            row("peak RSS (VmHWM)", BenchFormat.mib((server.afterRelist ?? d).peakRSSKiB))
            let cpu = w.cpuSeconds - b.cpuSeconds
            row("CPU during writes", String(format: "%.2f s over %.2f s wall (%.0f%% of one core)", cpu, writes.seconds, 100 * cpu / max(writes.seconds, 1e-9)))
            row("CPU during drain", String(format: "%.2f s", d.cpuSeconds - w.cpuSeconds))
        }
        lines.append("client (this process)")
        row("CPU (getrusage)", String(format: "%.2f s user+sys during writes and drain (%.0f%% of one core over the writes)",
                                      clientCPUSeconds, 100 * clientCPUSeconds / max(writes.seconds + max(watch.drainSeconds, 0), 1e-9)))
        lines.append("relist (unpaginated LIST of every Service, then every Pod; \(relist.podsSeconds.count) runs)")
        if !relist.podsSeconds.isEmpty {
            let s = BenchMeasure.minMedian(relist.servicesSeconds), p = BenchMeasure.minMedian(relist.podsSeconds)
            let t = BenchMeasure.minMedian(zip(relist.servicesSeconds, relist.podsSeconds).map { $0 + $1 })
            row("Services", "min \(BenchFormat.s(s.min)), median \(BenchFormat.s(s.median))  (\(BenchFormat.count(relist.serviceItems)) items, \(BenchFormat.mib(relist.servicesBytes / 1024)))")
            row("Pods", "min \(BenchFormat.s(p.min)), median \(BenchFormat.s(p.median))  (\(BenchFormat.count(relist.podItems)) items, \(BenchFormat.mib(relist.podsBytes / 1024)))")
            row("total", "min \(BenchFormat.s(t.min)), median \(BenchFormat.s(t.median))")
            row("typed decode", "Services \(BenchFormat.s(relist.typedDecodeServicesSeconds)), Pods \(BenchFormat.s(relist.typedDecodePodsSeconds)) (client side, once, not in the times above)")
        }
        return lines.joined(separator: "\n")
    }
}
