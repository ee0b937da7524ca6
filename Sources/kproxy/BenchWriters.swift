import Foundation
import KubeAPI
import KubeClient
import Synchronization

/// What the benchmark creates: `services` Services then `pods` Pods in one namespace. Every object
/// carries the probe annotation `kproxy-bench-probe: "<seq>:<send time ns>"` that watchers read.
struct BenchWorkload: Sendable {
    static let probeKey = "kproxy-bench-probe"

    var namespace: String
    var runID: String
    var services: Int
    var pods: Int
    /// Services select `app: <runID>-<i>`; pod j carries the label of service j % services.
    var selectors: Bool

    var total: Int { services + pods }

    /// Object `index` of the global sequence (services first): its kind, per-kind sequence number and path.
    func target(_ index: Int) -> (isService: Bool, seq: Int, path: KubeClient.RequestPath) {
        index < services
            ? (true, index, KubeClient.RequestPath(info: Service.resourceInfo, namespace: namespace))
            : (false, index - services, KubeClient.RequestPath(info: Pod.resourceInfo, namespace: namespace))
    }

    /// The JSON body, built as text: the encoder must not be what limits the client.
    func body(isService: Bool, seq: Int, sentNs: Int64) -> Data {
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
final class BenchCounters: Sendable {
    let nextIndex = Atomic<Int>(0)
    let created = Atomic<Int>(0)
    let failed = Atomic<Int>(0)
    let watchEvents = Atomic<Int>(0)
    let watchesOpened = Atomic<Int>(0)
    let watchersComplete = Atomic<Int>(0)
}

/// The outcome of the write phase.
struct BenchWriteResult: Sendable {
    var startNs: Int64
    var endNs: Int64
    var created: Int
    var failed: Int
    /// Request round-trip times in ns, services and pods apart.
    var serviceLatencies: [Int64]
    var podLatencies: [Int64]
    /// When the last Service and the last Pod create returned.
    var servicesDoneNs: Int64
    var podsDoneNs: Int64
    var firstPodSentNs: Int64
    var errors: [String: Int]
}

enum BenchWriters {
    /// Creates every object of `workload` with `concurrency` workers; worker w uses `clients[w % count]`.
    static func run(_ workload: BenchWorkload, clients: [KubeClient], concurrency: Int,
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
    static func describe(_ error: any Error) -> String {
        if let error = error as? KubeClientError, case .status(let status) = error {
            return "HTTP \(status.code) \(status.reason ?? ""): \(status.message?.prefix(120) ?? "")"
        }
        return String(String(describing: error).prefix(160))
    }
}
