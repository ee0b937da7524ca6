import Foundation

/// The results of `kproxy bench controlplane`, as a table and as JSON.
package struct BenchReport: Codable, Sendable {
    package struct Writes: Codable, Sendable {
        package var created = 0
        package var failed = 0
        package var seconds = 0.0
        package var writesPerSecond = 0.0
        package var servicesPerSecond = 0.0
        package var podsPerSecond = 0.0
        package var requestLatency = BenchMeasure.Percentiles(nanoseconds: [])
        package var errors: [String: Int] = [:]
    }

    package struct Watch: Codable, Sendable {
        package var latencyDefinition = "receive time at the watcher minus the send time of the create request (upper bound: includes the create's own round trip)"
        package var watchers = 0
        package var expectedEvents = 0
        package var receivedEvents = 0
        package var missingEvents = 0
        package var duplicateEvents = 0
        package var rewatches = 0
        package var incompleteWatchers = 0
        /// Last event received, in seconds after the last create returned.
        package var drainSeconds = 0.0
        package var deliveryLatency = BenchMeasure.Percentiles(nanoseconds: [])
        package var serviceDeliveryLatency = BenchMeasure.Percentiles(nanoseconds: [])
        package var podDeliveryLatency = BenchMeasure.Percentiles(nanoseconds: [])
        package var errors: [String] = []
    }

    package struct Server: Codable, Sendable {
        package var pid: Int32?
        package var before: BenchMeasure.ProcessSample?
        package var afterWrites: BenchMeasure.ProcessSample?
        package var afterDrain: BenchMeasure.ProcessSample?
        package var afterRelist: BenchMeasure.ProcessSample?
    }

    package struct Relist: Codable, Sendable {
        package var servicesSeconds: [Double] = []
        package var podsSeconds: [Double] = []
        package var serviceItems = 0
        package var podItems = 0
        package var servicesBytes = 0
        package var podsBytes = 0
        package var typedDecodeServicesSeconds = 0.0
        package var typedDecodePodsSeconds = 0.0
    }

    package var services: Int
    package var pods: Int
    package var namespace: String
    package var selectors: Bool
    package var concurrency: Int
    package var connections: Int
    package var writes = Writes()
    package var watch = Watch()
    package var server: Server
    package var clientCPUSeconds = 0.0
    package var relist = Relist()

    package init(workload: BenchWorkload, concurrency: Int, connections: Int, serverPid: Int32?) {
        services = workload.services; pods = workload.pods; namespace = workload.namespace
        selectors = workload.selectors; self.concurrency = concurrency; self.connections = connections
        server = Server(pid: serverPid)
    }

    package mutating func record(writes w: BenchWriteResult) {
        writes.created = w.created
        writes.failed = w.failed
        writes.seconds = Double(w.endNs - w.startNs) / 1e9
        writes.writesPerSecond = Double(w.created) / max(writes.seconds, 1e-9)
        writes.servicesPerSecond = Double(w.serviceLatencies.count) / max(Double(w.servicesDoneNs - w.startNs) / 1e9, 1e-9)
        writes.podsPerSecond = Double(w.podLatencies.count) / max(Double(w.podsDoneNs - w.firstPodSentNs) / 1e9, 1e-9)
        writes.requestLatency = BenchMeasure.Percentiles(nanoseconds: w.serviceLatencies + w.podLatencies)
        writes.errors = w.errors
    }

    package mutating func record(watchers results: [BenchWatcherResult], writesEndNs: Int64, drainEndNs: Int64) {
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

    package func jsonData() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try encoder.encode(self)
    }

    /// The human-readable results.
    package func table() -> String {
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
