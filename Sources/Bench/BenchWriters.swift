import Foundation
import KubeAPI
import KubeClient
import Synchronization

/// What the benchmark creates: `services` Services then `pods` Pods in one namespace. Every object
/// carries the probe annotation `kproxy-bench-probe: "<seq>:<send time ns>"` that watchers read.
package struct BenchWorkload: Sendable {
    package init(namespace: String, runID: String, services: Int, pods: Int, selectors: Bool) {
        self.namespace = namespace
        self.runID = runID
        self.services = services
        self.pods = pods
        self.selectors = selectors
    }

    package static let probeKey = "kproxy-bench-probe"

    package var namespace: String
    package var runID: String
    package var services: Int
    package var pods: Int
    /// Services select `app: <runID>-<i>`; pod j carries the label of service j % services.
    package var selectors: Bool

    package var total: Int { services + pods }

    /// Object `index` of the global sequence (services first): its kind, per-kind sequence number and path.
    package func target(_ index: Int) -> (isService: Bool, seq: Int, path: KubeClient.RequestPath) {
        index < services
            ? (true, index, KubeClient.RequestPath(info: Service.resourceInfo, namespace: namespace))
            : (false, index - services, KubeClient.RequestPath(info: Pod.resourceInfo, namespace: namespace))
    }

    /// The JSON body, built as text: the encoder must not be what limits the client.
    package func body(isService: Bool, seq: Int, sentNs: Int64) -> Data {
        let probe = "\"annotations\":{\"\(Self.probeKey)\":\"\(seq):\(sentNs)\"}"
        if isService {
            let selector = selectors ? "\"selector\":{\"app\":\"\(runID)-\(seq)\"}," : ""
            return Data(("{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"metadata\":{\"name\":\"svc-\(runID)-\(seq)\",\(probe)},"
                + "\"spec\":{\(selector)\"ports\":[{\"name\":\"http\",\"port\":80,\"targetPort\":8080,\"protocol\":\"TCP\"}]}}").utf8)
        }
        let app = services > 0 ? "\(runID)-\(seq % services)" : runID
        return Data(("{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"pod-\(runID)-\(seq)\","
            + "\"labels\":{\"app\":\"\(app)\"},\(probe)},"
            + "\"spec\":{\"containers\":[{\"name\":\"app\",\"image\":\"registry.k8s.io/pause:3.10\","
            + "\"ports\":[{\"containerPort\":8080,\"protocol\":\"TCP\"}]}]}}").utf8)
    }
}

/// Shared progress counters, read by the progress printer while writers and watchers run.
package final class BenchCounters: Sendable {
    package let nextIndex = Atomic<Int>(0)
    package let created = Atomic<Int>(0)
    package let failed = Atomic<Int>(0)
    package let watchEvents = Atomic<Int>(0)
    package let watchesOpened = Atomic<Int>(0)
    package let watchersComplete = Atomic<Int>(0)
}

/// The outcome of the write phase.
package struct BenchWriteResult: Sendable {
    package var startNs: Int64
    package var endNs: Int64
    package var created: Int
    package var failed: Int
    /// Request round-trip times in ns, services and pods apart.
    package var serviceLatencies: [Int64]
    package var podLatencies: [Int64]
    /// When the last Service and the last Pod create returned.
    package var servicesDoneNs: Int64
    package var podsDoneNs: Int64
    package var firstPodSentNs: Int64
    package var errors: [String: Int]
}

package enum BenchWriters {
    /// Creates every object of `workload` with `concurrency` workers; worker w uses `clients[w % count]`.
    package static func run(_ workload: BenchWorkload, clients: [KubeClient], concurrency: Int,
                    counters: BenchCounters) async -> BenchWriteResult {
        struct WorkerResult: Sendable {
            var services: [Int64] = [], pods: [Int64] = []
            var servicesDone: Int64 = 0, podsDone: Int64 = 0, firstPodSent = Int64.max
            var errors: [String: Int] = [:]
        }
        let start = BenchMeasure.nowNs()
        let results = await withTaskGroup(of: WorkerResult.self) { group in
            for w in 0..<concurrency {
                let client = clients[w % clients.count]
                group.addTask {
                    var r = WorkerResult()
                    while true {
                        let index = counters.nextIndex.add(1, ordering: .relaxed).oldValue
                        guard index < workload.total, !Task.isCancelled else { break }
                        let (isService, seq, path) = workload.target(index)
                        let sent = BenchMeasure.nowNs()
                        if !isService { r.firstPodSent = min(r.firstPodSent, sent) }
                        let body = workload.body(isService: isService, seq: seq, sentNs: sent)
                        do {
                            _ = try await client.rawRequest("POST", path, body: body)
                            let done = BenchMeasure.nowNs()
                            if isService {
                                r.services.append(done - sent); r.servicesDone = max(r.servicesDone, done)
                            } else {
                                r.pods.append(done - sent); r.podsDone = max(r.podsDone, done)
                            }
                            counters.created.add(1, ordering: .relaxed)
                        } catch {
                            counters.failed.add(1, ordering: .relaxed)
                            r.errors[Self.describe(error), default: 0] += 1
                        }
                    }
                    return r
                }
            }
            var all: [WorkerResult] = []
            for await r in group { all.append(r) }
            return all
        }
        let end = BenchMeasure.nowNs()
        var errors: [String: Int] = [:]
        for r in results { errors.merge(r.errors, uniquingKeysWith: +) }
        return BenchWriteResult(
            startNs: start, endNs: end, created: counters.created.load(ordering: .relaxed),
            failed: counters.failed.load(ordering: .relaxed),
            serviceLatencies: results.flatMap(\.services), podLatencies: results.flatMap(\.pods),
            servicesDoneNs: results.map(\.servicesDone).max() ?? end, podsDoneNs: results.map(\.podsDone).max() ?? end,
            firstPodSentNs: results.map(\.firstPodSent).min() ?? end, errors: errors)
    }

    /// A short, groupable description of a failed request.
    package static func describe(_ error: any Error) -> String {
        if let error = error as? KubeClientError, case .status(let status) = error {
            return "HTTP \(status.code) \(status.reason ?? ""): \(status.message?.prefix(120) ?? "")"
        }
        return String(String(describing: error).prefix(160))
    }
}
