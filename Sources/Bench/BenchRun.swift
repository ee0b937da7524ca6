import Foundation
import KubeAPI
import KubeClient

/// One run of the control-plane benchmark: namespace, watchers, concurrent creates, drain, relists.
package struct BenchRun: Sendable {
    package init(workload: BenchWorkload, admin: KubeClient, writerClients: [KubeClient], watcherClients: [KubeClient], concurrency: Int, watchers: Int, watchNamespace: String?, serverPid: Int32?, drainTimeout: Duration, relists: Int) {
        self.workload = workload
        self.admin = admin
        self.writerClients = writerClients
        self.watcherClients = watcherClients
        self.concurrency = concurrency
        self.watchers = watchers
        self.watchNamespace = watchNamespace
        self.serverPid = serverPid
        self.drainTimeout = drainTimeout
        self.relists = relists
    }

    /// HTTP connections each writer client keeps (the report counts them).
    package static let connectionsPerClient = 8
    package let workload: BenchWorkload
    package let admin: KubeClient
    package let writerClients: [KubeClient]
    package let watcherClients: [KubeClient]
    package let concurrency: Int
    package let watchers: Int
    package let watchNamespace: String?
    package let serverPid: Int32?
    package let drainTimeout: Duration
    package let relists: Int

    package func run() async throws -> BenchReport {
        try await ensureNamespace()
        let startRV = try await currentResourceVersion()
        let counters = BenchCounters()
        let plan = watcherPlan()
        var report = BenchReport(workload: workload, concurrency: concurrency, connections: writerClients.count * BenchRun.connectionsPerClient,
                                 serverPid: serverPid)
        report.server.before = serverPid.flatMap(BenchMeasure.sample)
        let clientCPUBefore = BenchMeasure.selfCPUSeconds()

        let (writes, watcherResults, drainEndNs, serverAfterWrites) = await withTaskGroup(of: BenchWatcherResult.self) { group in
            for (i, spec) in plan.enumerated() {
                let watcher = BenchWatcher(client: watcherClients[i % watcherClients.count], info: spec.info,
                                           namespace: watchNamespace, expected: spec.expected, counters: counters)
                group.addTask { await watcher.run(fromResourceVersion: startRV) }
            }
            await waitUntil(deadline: .seconds(30)) { counters.watchesOpened.load(ordering: .relaxed) >= plan.count }
            let opened = counters.watchesOpened.load(ordering: .relaxed)
            if opened < plan.count { BenchFormat.say("warning: only \(opened) of \(plan.count) watches opened within 30 s") }
            BenchFormat.say("  \(opened) watches open from resourceVersion \(startRV); creating…")

            let progress = Task { await printProgress(counters) }
            let writes = await BenchWriters.run(workload, clients: writerClients, concurrency: concurrency, counters: counters)
            let serverAfterWrites = serverPid.flatMap(BenchMeasure.sample)
            await waitUntil(deadline: drainTimeout) { counters.watchersComplete.load(ordering: .relaxed) >= plan.count }
            let drainEnd = BenchMeasure.nowNs()
            progress.cancel()
            group.cancelAll()
            var results: [BenchWatcherResult] = []
            for await r in group { results.append(r) }
            return (writes, results, drainEnd, serverAfterWrites)
        }
        report.clientCPUSeconds = BenchMeasure.selfCPUSeconds() - clientCPUBefore
        report.server.afterWrites = serverAfterWrites
        report.server.afterDrain = serverPid.flatMap(BenchMeasure.sample)
        report.record(writes: writes)
        report.record(watchers: watcherResults, writesEndNs: writes.endNs, drainEndNs: drainEndNs)

        BenchFormat.say("  relisting \(relists)×…")
        report.relist = try await relist()
        report.server.afterRelist = serverPid.flatMap(BenchMeasure.sample)
        return report
    }

    /// Half the watchers (rounded up) on Services and the rest on Pods; none on a kind with no objects.
    package func watcherPlan() -> [(info: ResourceInfo, expected: Int)] {
        var plan: [(info: ResourceInfo, expected: Int)] = []
        for i in 0..<watchers {
            let onServices = workload.pods == 0 || (workload.services > 0 && i % 2 == 0)
            plan.append(onServices ? (Service.resourceInfo, workload.services) : (Pod.resourceInfo, workload.pods))
        }
        return plan
    }

    package func ensureNamespace() async throws {
        let body = Data("{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"\(workload.namespace)\"}}".utf8)
        do {
            _ = try await admin.rawRequest("POST", KubeClient.RequestPath(info: Namespace.resourceInfo), body: body)
        } catch let error as KubeClientError {
            guard case .status(let status) = error, status.code == 409 else { throw error }
        }
    }

    /// The store's current revision, from a one-item LIST.
    package func currentResourceVersion() async throws -> String {
        struct ListHead: Decodable { struct Meta: Decodable { var resourceVersion: String? }; var metadata: Meta }
        let data = try await admin.rawRequest("GET", KubeClient.RequestPath(info: Pod.resourceInfo, namespace: workload.namespace,
                                                                             query: [.init("limit", "1")]))
        guard let rv = try JSONDecoder().decode(ListHead.self, from: data).metadata.resourceVersion, !rv.isEmpty else {
            throw ValidationErrorText("the server's LIST carries no resourceVersion")
        }
        return rv
    }

    /// Full LISTs of the Services and the Pods, as an informer's initial list; the typed decode is timed once apart.
    package func relist() async throws -> BenchReport.Relist {
        var result = BenchReport.Relist()
        var lastPods = Data(), lastServices = Data()
        for _ in 0..<relists {
            let t0 = BenchMeasure.nowNs()
            lastServices = try await admin.rawRequest("GET", KubeClient.RequestPath(info: Service.resourceInfo, namespace: watchNamespace))
            let t1 = BenchMeasure.nowNs()
            lastPods = try await admin.rawRequest("GET", KubeClient.RequestPath(info: Pod.resourceInfo, namespace: watchNamespace))
            let t2 = BenchMeasure.nowNs()
            result.servicesSeconds.append(Double(t1 - t0) / 1e9)
            result.podsSeconds.append(Double(t2 - t1) / 1e9)
        }
        guard relists > 0 else { return result }
        result.servicesBytes = lastServices.count
        result.podsBytes = lastPods.count
        let t0 = BenchMeasure.nowNs()
        result.serviceItems = try KubeJSON.decode(ObjectList<Service>.self, from: lastServices).items.count
        let t1 = BenchMeasure.nowNs()
        result.podItems = try KubeJSON.decode(ObjectList<Pod>.self, from: lastPods).items.count
        let t2 = BenchMeasure.nowNs()
        result.typedDecodeServicesSeconds = Double(t1 - t0) / 1e9
        result.typedDecodePodsSeconds = Double(t2 - t1) / 1e9
        return result
    }

    /// Polls `condition` every 10 ms until it holds or `deadline` passes.
    package func waitUntil(deadline: Duration, _ condition: () -> Bool) async {
        let end = ContinuousClock.now + deadline
        while !condition(), ContinuousClock.now < end {
            try? await Task.sleep(for: .milliseconds(10))
        }
    }

    /// One line a second: objects created, the last second's rate, watch events so far.
    package func printProgress(_ counters: BenchCounters) async {
        let start = BenchMeasure.nowNs()
        var lastCreated = 0
        var lastNs = start
        while !Task.isCancelled {
            try? await Task.sleep(for: .seconds(1))
            if Task.isCancelled { break }
            let now = BenchMeasure.nowNs()
            let created = counters.created.load(ordering: .relaxed)
            let rate = Double(created - lastCreated) / (Double(now - lastNs) / 1e9)
            let elapsed = Int((now - start) / 1_000_000_000)
            let events = counters.watchEvents.load(ordering: .relaxed)
            let failed = counters.failed.load(ordering: .relaxed)
            let complete = counters.watchersComplete.load(ordering: .relaxed)
            let phase = created + failed < workload.total
                ? "created \(created)/\(workload.total) (\(BenchFormat.rate(rate)))"
                : "draining watches"
            BenchFormat.say(String(format: "  [%3ds] ", elapsed) + "\(phase)  failed \(failed)  watch events \(BenchFormat.count(events))  "
                  + "watchers complete \(complete)/\(watchers)")
            lastCreated = created
            lastNs = now
        }
    }
}

/// A plain message as an error.
package struct ValidationErrorText: Error, CustomStringConvertible {
    package var description: String
    package init(_ description: String) { self.description = description }
}
