import Foundation

/// A balancer under test.
package struct LBMode: Sendable {
    package enum Kind: Sendable {
        case direct
        case kproxy(mode: String, scheduler: String?)
        case haproxy(balance: String)
        case nginxStream
    }
    package var name: String
    package var kind: Kind

    package static let schedulers: [String] = ["roundrobin", "leastconn", "p2c", "random", "maglev"]
    package static let all: [LBMode] = [LBMode(name: "direct", kind: .direct), LBMode(name: "nftables", kind: .kproxy(mode: "nftables", scheduler: nil))]
        + schedulers.map { (s: String) in LBMode(name: "userspace-\(s)", kind: .kproxy(mode: "userspace", scheduler: s)) }
        + [LBMode(name: "haproxy-roundrobin", kind: .haproxy(balance: "roundrobin")), LBMode(name: "haproxy-leastconn", kind: .haproxy(balance: "leastconn")),
           LBMode(name: "nginx-stream", kind: .nginxStream)]

    package var isUserspace: Bool { if case .kproxy("userspace", _) = kind { true } else { false } }
}

package enum LBScenario: String, CaseIterable {
    case equal, slow, dead, removed, restart

    package func applies(to mode: LBMode) -> Bool {
        switch self {
        case .equal: true
        case .slow, .dead: mode.name != "direct"
        case .removed: mode.name != "direct" && mode.name != "nginx-stream"  // nginx stream has no runtime API
        case .restart: mode.isUserspace
        }
    }
}

/// Runs one mode through one scenario's measurements.
package struct LBRunner {
    package init(cluster: LBCluster, duration: Double, connections: Int, rate: Double) {
        self.cluster = cluster
        self.duration = duration
        self.connections = connections
        self.rate = rate
    }

    package let cluster: LBCluster
    package let duration: Double
    package let connections: Int
    package let rate: Double

    package func prepare(_ scenario: LBScenario) throws {
        switch scenario {
        case .slow: try cluster.startBackend(0, slow: true)
        case .dead: cluster.stop("be0", graceful: false)
        default: break
        }
    }

    package func finish(_ scenario: LBScenario) throws {
        if scenario == .slow || scenario == .dead { try cluster.startBackend(0) }
    }

    /// The address clients use, after starting the mode's balancer over backends `up`.
    package func setUp(_ mode: LBMode, up: [Int]) throws -> (address: String, port: Int, pids: [Int32]) {
        switch mode.kind {
        case .direct:
            return (cluster.backendIP(1), 8080, [])
        case .kproxy(let m, let scheduler):
            try cluster.startProxy(mode: m, scheduler: scheduler)
            // nftables: the work is the kernel's (softirq), not the proxy process's.
            return (LBCluster.clusterIP, 80, m == "userspace" ? [cluster.pid("proxy")].compactMap { $0 } : [])
        case .haproxy(let balance):
            try cluster.startHAProxy(balance: balance, up: up)
            return (LBCluster.nodeIP, LBCluster.haproxyPort, [cluster.pid("haproxy")].compactMap { $0 })
        case .nginxStream:
            try cluster.startNginxStream(up: up)
            return (LBCluster.nodeIP, LBCluster.nginxStreamPort, [cluster.pid("nginx-stream")].compactMap { $0 })
        }
    }

    package func tearDown(_ mode: LBMode) {
        cluster.stopProxy()
        cluster.stopProxy("proxy2")
        cluster.stop("haproxy")
        cluster.stop("nginx-stream")
    }

    package func measure(_ mode: LBMode, _ scenario: LBScenario) throws -> [String: Double] {
        let all = Array(0..<cluster.backends)
        let target = try setUp(mode, up: all)
        var sample: [String: Double] = [:]
        switch scenario {
        case .equal:
            let before = cluster.backendRequests()
            let ka = try measured(target, sample: &sample, prefix: "keepalive") { try wrk(target, close: false) }
            let counts = zip(cluster.backendRequests(), before).map { Double($0 - $1) }
            sample["keepalive_rps"] = ka.rps
            if mode.name != "direct", let max = counts.max(), !counts.isEmpty {
                let mean = counts.reduce(0, +) / Double(counts.count)
                sample["share_max_mean"] = mean > 0 ? max / mean : 0
            }
            let nc = try measured(target, sample: &sample, prefix: "newconn") { try wrk(target, close: true) }
            sample["newconn_rps"] = nc.rps
            let lat = try load(target, newConnections: false)
            sample["p50_ms"] = lat.latency.p50Ms; sample["p99_ms"] = lat.latency.p99Ms; sample["p999_ms"] = lat.latency.p999Ms
            sample["failures"] = Double(ka.errors + nc.errors + lat.failed)
        case .slow:
            let before = cluster.backendRequests()
            let lat = try load(target, newConnections: true)
            let counts = zip(cluster.backendRequests(), before).map { Double($0 - $1) }
            let total = counts.reduce(0, +)
            sample["p50_ms"] = lat.latency.p50Ms; sample["p99_ms"] = lat.latency.p99Ms; sample["p999_ms"] = lat.latency.p999Ms
            sample["slow_share_pct"] = total > 0 ? 100 * counts[0] / total : 0
            sample["failures"] = Double(lat.failed)
        case .dead:
            let lat = try load(target, newConnections: true)
            sample["failures"] = Double(lat.failed)
            sample["requests"] = Double(lat.sent)
            sample["p99_ms"] = lat.latency.p99Ms
        case .removed:
            let lat = try loadDuring(target) {
                switch mode.kind {
                case .haproxy: try cluster.haproxyDisable(0)
                default: try cluster.setEndpoints(Array(1..<cluster.backends))
                }
                usleep(500_000)  // the pod's process ends a little after its endpoint goes, as in a rollout
                cluster.stop("be0", graceful: true)
            }
            sample["failures"] = Double(lat.failed)
            sample["requests"] = Double(lat.sent)
            try cluster.startBackend(0)
            try cluster.setEndpoints(all)
        case .restart:
            let lat = try loadDuring(target) {
                guard case .kproxy(let m, let scheduler) = mode.kind else { return }
                try cluster.start("proxy2", in: cluster.node, [cluster.binary, "proxy", "--kubeconfig", cluster.kubeconfig, "--node", "node-a",
                                                             "--mode", m, "--scheduler", scheduler ?? "roundrobin",
                                                             "--cluster-cidr", "10.244.0.0/16", "--service-cidr", "10.96.0.0/12",
                                                             "--metrics-bind-address", "127.0.0.1:10259", "--healthz-bind-address", "127.0.0.1:10266"])
                guard LBCluster.waitFor(20, { cluster.synced(healthzPort: 10266) }) else { throw Shell.Failed(description: "replacement proxy did not sync") }
                cluster.stop("proxy", graceful: true)
            }
            sample["failures"] = Double(lat.failed)
            sample["requests"] = Double(lat.sent)
        }
        return sample
    }

    /// Runs `body` and records the balancer's and the machine's CPU per 100k requests during it.
    private func measured(_ target: (address: String, port: Int, pids: [Int32]), sample: inout [String: Double], prefix: String,
                          _ body: () throws -> WrkResult) throws -> WrkResult {
        let cpu0 = target.pids.map(LBCluster.treeCPU).reduce(0, +), machine0 = LBCluster.machineCPU()
        let result = try body()
        let cpu1 = target.pids.map(LBCluster.treeCPU).reduce(0, +), machine1 = LBCluster.machineCPU()
        let per100k = 100_000 / max(1, Double(result.requests))
        if !target.pids.isEmpty { sample["\(prefix)_cpu_s_per_100k"] = (cpu1 - cpu0) * per100k }
        sample["\(prefix)_machine_cpu_s_per_100k"] = (machine1 - machine0) * per100k
        return result
    }

    package struct WrkResult { var requests: Int; var rps: Double; var errors: Int }

    /// wrk from the client namespace: keep-alive, or one request per connection.
    private func wrk(_ target: (address: String, port: Int, pids: [Int32]), close: Bool) throws -> WrkResult {
        var args = ["wrk", "-t", "2", "-c", "\(connections)", "-d", "\(Int(duration.rounded(.up)))s", "--timeout", "3s"]
        if close { args += ["-H", "Connection: close"] }
        let text = try cluster.exec(cluster.client, args + ["http://\(target.address):\(target.port)/"])
        func number(after label: String) -> Double? {
            guard let line = text.split(separator: "\n").first(where: { $0.contains(label) }) else { return nil }
            return line.split(separator: " ").compactMap { Double($0.trimmingCharacters(in: CharacterSet(charactersIn: ","))) }.first
        }
        guard let rps = number(after: "Requests/sec:") else { throw Shell.Failed(description: "wrk printed no rate: \(text)") }
        let requests = text.split(separator: "\n").first { $0.contains("requests in") }
            .flatMap { Int($0.split(separator: " ").first ?? "") } ?? 0
        var errors = Int(number(after: "Non-2xx or 3xx responses:") ?? 0)
        if let line = text.split(separator: "\n").first(where: { $0.contains("Socket errors:") }) {
            errors += line.split(separator: " ").compactMap { Int($0.trimmingCharacters(in: CharacterSet(charactersIn: ","))) }.reduce(0, +)
        }
        return WrkResult(requests: requests, rps: rps, errors: errors)
    }

    /// The open-loop generator (`kproxy bench http-load`) from the client namespace.
    private func load(_ target: (address: String, port: Int, pids: [Int32]), newConnections: Bool) throws -> HTTPLoadResult {
        let args = loadArguments(target, newConnections: newConnections)
        let text = try cluster.exec(cluster.client, args)
        return try JSONDecoder().decode(HTTPLoadResult.self, from: Data(text.utf8))
    }

    /// Enough connections that a 50 ms backend does not queue the open loop behind it (rate × 50 ms, ×4).
    private func loadArguments(_ target: (address: String, port: Int, pids: [Int32]), newConnections: Bool) -> [String] {
        let connections = max(32, Int(rate * 0.05 * 4))
        return [cluster.binary, "bench", "http-load", "--address", target.address, "--port", "\(target.port)", "--rate", "\(Int(rate))",
                "--duration", "\(duration)", "--connections", "\(connections)"] + (newConnections ? ["--new-connections"] : [])
    }

    /// New-connection load in the background; `action` runs a third of the way in.
    private func loadDuring(_ target: (address: String, port: Int, pids: [Int32]), _ action: () throws -> Void) throws -> HTTPLoadResult {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["ip", "netns", "exec", cluster.client] + loadArguments(target, newConnections: true)
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        try p.run()
        usleep(UInt32(duration / 3 * 1_000_000))
        do { try action() } catch { p.terminate(); throw error }
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return try JSONDecoder().decode(HTTPLoadResult.self, from: data)
    }
}
