import Foundation
import KubeAPI
import Logging
import NFTables
import ProxyCore
import ProxyDaemon
import LinuxSystem
import Values

/// One size's figures.
package struct SyncBenchResult {
    package var services: Int
    package var fullSync: Double
    package var compile: Double
    package var assemble: Double
    package var batch: Double
    package var upstream: Double?
    package var partial: [Double]
    package var partialAfterFailure: [Double]
    package var newService: [Double]
    package var peakRSS: Double
    package var steadyRSS: Double
    package var heapInUse: Double
    package var chains: Int
    package var rules: Int
    package var elements: Int
    package var elementOnly: Bool

    package static func percentile(_ values: [Double], _ p: Double) -> Double {
        guard !values.isEmpty else { return .nan }
        let sorted = values.sorted()
        return sorted[min(sorted.count - 1, Int((Double(sorted.count) * p).rounded(.up)) - 1)]
    }

    package var line: String {
        String(format: "  %6d services: full sync %.3f s (compile %.3f s, assemble %.3f s, one batch %.3f s), nft -f upstream %@, endpoint change p50 %.2f ms p99 %.2f ms, new Service p50 %.2f ms, peak RSS %.0f MiB (%.0f MiB after the syncs, heap in use %.0f MiB)",
               services, fullSync, compile, assemble, batch, upstream.map { String(format: "%.2f s", $0) } ?? "skipped",
               Self.percentile(partial, 0.5) * 1000, Self.percentile(partial, 0.99) * 1000,
               Self.percentile(newService, 0.5) * 1000, peakRSS, steadyRSS, heapInUse)
    }

    package static func table(_ results: [SyncBenchResult]) -> String {
        var out = "services  full sync  compile  nft -f upstream  ratio  endpoint p50/p99 ms  after a failed batch p50/p99  new Service p50/max ms  chains  rules  elements  peak RSS\n"
        for r in results {
            out += String(format: "%8d  %8.3fs  %6.3fs  %@  %@  %8.2f / %-8.2f  %12.2f / %-12.2f  %9.2f / %-9.2f  %6d  %5d  %8d  %4.0f MiB\n",
                          r.services, r.fullSync, r.compile, (r.upstream.map { String(format: "%.2fs", $0) } ?? "—").padded(15),
                          (r.upstream.map { String(format: "%.0f×", $0 / r.fullSync) } ?? "—").padded(5),
                          percentile(r.partial, 0.5) * 1000, percentile(r.partial, 0.99) * 1000,
                          percentile(r.partialAfterFailure, 0.5) * 1000, percentile(r.partialAfterFailure, 0.99) * 1000,
                          percentile(r.newService, 0.5) * 1000, (r.newService.max() ?? .nan) * 1000,
                          r.chains, r.rules, r.elements, r.peakRSS)
        }
        return out + (results.allSatisfy(\.elementOnly) ? "endpoint changes and new Services: element-only batches (no chain, rule or verdict element)\n"
                                                        : "WARNING: some measured batch touched chains or rules\n")
    }

    package var json: [String: Any] {
        var out: [String: Any] = [
            "services": services, "full_sync_seconds": fullSync, "compile_seconds": compile,
            "assemble_seconds": assemble, "batch_seconds": batch,
            "partial_endpoint_p50_ms": Self.percentile(partial, 0.5) * 1000, "partial_endpoint_p99_ms": Self.percentile(partial, 0.99) * 1000,
            "partial_after_failed_batch_p50_ms": Self.percentile(partialAfterFailure, 0.5) * 1000,
            "partial_after_failed_batch_p99_ms": Self.percentile(partialAfterFailure, 0.99) * 1000,
            "new_service_ms": Self.percentile(newService, 0.5) * 1000, "new_service_max_ms": (newService.max() ?? 0) * 1000,
            "peak_rss_mib": peakRSS, "rss_after_syncs_mib": steadyRSS, "heap_in_use_mib": heapInUse, "chains": chains, "rules": rules, "elements": elements, "element_only_batches": elementOnly,
        ]
        if let upstream {
            out["nft_f_upstream_seconds"] = upstream
            out["speedup_vs_upstream"] = upstream / fullSync
        }
        return out
    }
}

/// One size: kproxy's sync loop in one namespace, upstream's ruleset through `nft -f` in another.
package struct SyncBench {
    package init(services: Int, endpoints: Int, changes: Int, newServices: Int, upstream: Bool) {
        self.services = services
        self.endpoints = endpoints
        self.changes = changes
        self.newServices = newServices
        self.upstream = upstream
    }

    package let services: Int
    package let endpoints: Int
    package let changes: Int
    package let newServices: Int
    package let upstream: Bool

    package static let config = ProxyConfig(families: [.ip], clusterCIDRs: [CIDR("10.244.0.0/16")].compactMap { $0 },
                                    serviceCIDRs: [CIDR("10.96.0.0/12")].compactMap { $0 })
    package static let node = NodeInfo(name: "bench", nodeIPs: [IPAddress("192.168.0.10")].compactMap { $0 })

    package func run() async throws -> SyncBenchResult {
        let clock = ContinuousClock()
        let objects = Self.objects(services: services, endpoints: endpoints)
        RSS.resetPeak()
        let ns = try Netns("k")
        defer { ns.delete() }
        let target = try NFTablesTarget(namespace: .named(ns.name))
        let recorder = RecordingTarget(target)
        var logger = Logger(label: "bench")
        logger.logLevel = .critical
        let syncer = ProxySyncer(config: Self.config, node: Self.node, target: recorder, conntrack: nil, logger: logger)
        await syncer.replaceServices(objects.services)
        await syncer.replaceSlices(objects.slices)
        // The result is dropped at once: holding its compile across the next sync would make that sync copy it.
        let fullSeconds = try await { () async throws -> Double in
            let full = await syncer.sync(full: true)
            if let error = full.error { throw Shell.Failed(description: "full sync: \(error)") }
            return full.duration.seconds
        }()
        recorder.reset()

        // One endpoint of one Service changes, Services spread over the table.
        var slices = objects.slices
        func changeEndpoints(_ count: Int, salt: UInt32) async throws -> [Double] {
            var times: [Double] = []
            for k in 0..<count {
                let i = (k * 7919) % slices.count
                slices[i].endpoints[0].addresses = [IPAddress(ipv4: 0x0AFA_0000 + salt + UInt32(k)).description]
                let slice = slices[i]
                let start = clock.now
                await syncer.setSlice(slice, key: slice.key)
                let result = await syncer.sync(full: false)
                times.append((clock.now - start).seconds)
                if let error = result.error { throw Shell.Failed(description: "endpoint change: \(error)") }
            }
            return times
        }
        let partial = try await changeEndpoints(changes, salt: 0)
        var news: [Double] = []
        for k in 0..<newServices {
            let extra = Self.objects(services: 1, endpoints: endpoints, first: services + k)
            let start = clock.now
            for s in extra.services { await syncer.setService(s, key: s.key) }
            for s in extra.slices { await syncer.setSlice(s, key: s.key) }
            let result = await syncer.sync(full: false)
            news.append((clock.now - start).seconds)
            if let error = result.error { throw Shell.Failed(description: "new Service: \(error)") }
        }
        let elementOnly = recorder.onlyElements
        // The proxy's own peak: objects as an informer holds them, its state, its compile, the full sync.
        let memory = BenchMeasure.sample(pid: getpid())
        let peak = Double(memory?.peakRSSKiB ?? 0) / 1024
        let steady = Double(memory?.rssKiB ?? 0) / 1024
        let heap = Double(Sys.heapInUse()) / 1_048_576

        let state = ProxyState(services: objects.services, endpointSlices: objects.slices)
        var compiled: CompiledRuleset?
        let compile = clock.measure { compiled = RulesetCompiler(config: Self.config, node: Self.node).compile(state, previous: nil) }
        guard let size = compiled?.size else { throw Shell.Failed(description: "nothing compiled") }
        // The same ruleset assembled and sent as one batch to a namespace of its own: where a full sync's
        // time goes besides compiling.
        var whole: NFTRuleset?
        let assemble = clock.measure { whole = compiled?.ruleset }
        compiled = nil
        let scratch = try Netns("b")
        defer { scratch.delete() }
        let batch = try clock.measure { try NetlinkRulesetApplier(namespace: .named(scratch.name)).applyFull(whole ?? NFTRuleset()) }
        whole = nil


        // A batch the kernel refuses at validation (a jump loop reachable from the base chains), then the same
        // kind of changes again.
        try Shell.run(["ip", "netns", "exec", ns.name, "nft", "add chain ip kproxy bench-loop-a; add chain ip kproxy bench-loop-b"])
        let loop = try? Shell.run(["ip", "netns", "exec", ns.name, "nft",
                                   "add rule ip kproxy services jump bench-loop-a; add rule ip kproxy bench-loop-a jump bench-loop-b; "
                                   + "add rule ip kproxy bench-loop-b jump bench-loop-a"])
        if loop != nil { throw Shell.Failed(description: "the kernel accepted a jump loop: the failure could not be provoked") }
        try Shell.run(["ip", "netns", "exec", ns.name, "nft", "delete chain ip kproxy bench-loop-a; delete chain ip kproxy bench-loop-b"])
        let afterFailure = try await changeEndpoints(min(changes, 100), salt: 0x8000)

        var upstreamSeconds: Double?
        if upstream {
            let text = UpstreamRuleset.text(state, clusterCIDR: "10.244.0.0/16")
            let file = NSTemporaryDirectory() + "kproxy-bench-upstream-\(services).nft"
            try text.write(toFile: file, atomically: true, encoding: .utf8)
            defer { try? FileManager.default.removeItem(atPath: file) }
            let theirs = try Netns("u")
            defer { theirs.delete() }
            upstreamSeconds = try clock.measure { try Shell.run(["ip", "netns", "exec", theirs.name, "nft", "-f", file]) }.seconds
        }
        return SyncBenchResult(services: services, fullSync: fullSeconds, compile: compile.seconds,
                               assemble: assemble.seconds, batch: batch.seconds, upstream: upstreamSeconds,
                               partial: partial, partialAfterFailure: afterFailure, newService: news, peakRSS: peak, steadyRSS: steady, heapInUse: heap,
                               chains: size.chains, rules: size.rules, elements: size.elements, elementOnly: elementOnly)
    }

    /// `services` Services `bench/svc-i` (ClusterIP 10.96.0.0/12 from .10 on, port 80) with `endpoints` ready
    /// endpoints each on other nodes, as the API would hand them to the proxy.
    package static func objects(services: Int, endpoints: Int, first: Int = 0) -> (services: [Service], slices: [EndpointSlice]) {
        var svcs: [Service] = []
        var slices: [EndpointSlice] = []
        for i in first..<first + services {
            let ip = IPAddress(ipv4: 0x0A60_0000 + UInt32(i + 10)).description
            svcs.append(Service(metadata: ObjectMeta(name: "svc-\(i)", namespace: "bench"),
                                spec: ServiceSpec(ports: [ServicePort(name: "http", protocol: .tcp, port: 80, targetPort: .int(8080))],
                                                  clusterIP: ip, clusterIPs: [ip])))
            let eps = (0..<endpoints).map { e in
                Endpoint(addresses: [IPAddress(ipv4: 0x0AF4_0000 + UInt32(i * endpoints + e + 2)).description],
                         conditions: EndpointConditions(ready: true), nodeName: "node-\(e % 3)")
            }
            slices.append(EndpointSlice(metadata: ObjectMeta(name: "svc-\(i)-1", namespace: "bench",
                                                             labels: [EndpointSlice.serviceNameLabel: "svc-\(i)"]),
                                        addressType: .ipv4, endpoints: eps, ports: [EndpointPort(name: "http", protocol: .tcp, port: 8080)]))
        }
        return (svcs, slices)
    }
}

/// The netlink target, noting whether every batch after `reset` held element operations only.
package final class RecordingTarget: RulesetTarget, @unchecked Sendable {
    // Safe: the syncer (one actor) calls apply serially; `elementOnly` is read after it finished.
    private let inner: NFTablesTarget
    private var elementOnly = true
    package init(_ inner: NFTablesTarget) { self.inner = inner }
    package func reset() { elementOnly = true }
    package var onlyElements: Bool { elementOnly }

    package func apply(_ transaction: NFTTransaction) async throws {
        for op in transaction.operations {
            switch op {
            case .addElements(_, _, let elements), .deleteElements(_, _, let elements):
                if elements.contains(where: { if case .verdict(let v)? = $0.data { v.chain != nil } else { false } }) { elementOnly = false }
            default: elementOnly = false
            }
        }
        try await inner.apply(transaction)
    }

    package func existing(_ tables: [NFTTableID]) async throws -> NFTRuleset { try await inner.existing(tables) }
}

/// Peak resident memory of this process (read with `BenchMeasure.sample`).
package enum RSS {
    /// Resets the peak (`VmHWM`) to the current RSS.
    package static func resetPeak() { try? "5".write(toFile: "/proc/self/clear_refs", atomically: false, encoding: .utf8) }
}

/// A network namespace for one measurement, deleted afterwards.
package struct Netns {
    package let name: String
    package init(_ tag: String) throws {
        name = "kp-bench-\(tag)-\(UInt32.random(in: 0..<UInt32.max) % 100_000)"
        try Shell.run(["ip", "netns", "add", name])
    }
    package func delete() { _ = try? Shell.run(["ip", "netns", "del", name]) }
}

package enum Shell {
    package struct Failed: Error, CustomStringConvertible { package var description: String }
    @discardableResult package static func run(_ args: [String]) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = args
        let out = Pipe()
        p.standardOutput = out
        p.standardError = out
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        guard p.terminationStatus == 0 else { throw Failed(description: "\(args.joined(separator: " ")): \(text)") }
        return text
    }
}

extension String {
    /// Right-aligned in `width` columns (`String(format:)` does not pad `%@` on Linux).
    package func padded(_ width: Int) -> String { count >= width ? self : String(repeating: " ", count: width - count) + self }
    /// Left-aligned in `width` columns.
    package func paddedRight(_ width: Int) -> String { count >= width ? self : self + String(repeating: " ", count: width - count) }
}

extension Duration {
    package var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
    package static func / (a: Duration, b: Duration) -> Double { a.seconds / max(b.seconds, 1e-9) }
}

extension ContinuousClock {
    package func measure(_ body: () throws -> Void) rethrows -> Duration {
        let start = now
        try body()
        return now - start
    }
}
