import ArgumentParser
import Foundation

/// `kproxy bench lb`: the load-balancing modes side by side — direct to one backend (the ceiling), kproxy's
/// nftables mode, its userspace mode with each scheduler, HAProxy (roundrobin, leastconn) and nginx stream —
/// in one run, interleaved per round, over a mini cluster in network namespaces (`LBCluster`).
struct BenchLBCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lb",
        abstract: "Benchmark the load-balancing modes against each other and HAProxy/nginx, in network namespaces.",
        discussion: """
            Scenarios: equal (all backends alike), slow (backend 0 answers 50 ms late), dead (backend 0 refuses \
            connections but stays listed ready), removed (backend 0 leaves the EndpointSlice under load, then \
            stops), restart (the userspace proxy is replaced under load). Figures are medians over the rounds; \
            the balancer's CPU is its process tree's utime+stime (n/a for the kernel paths, whose work is \
            softirq time: see machine CPU, which counts every core and process, load generator included).
            """
    )

    @Option(help: "Backend pods (nginx).") var backends = 4
    @Option(help: "Rounds; modes are interleaved within each.") var rounds = 3
    @Option(help: "Seconds per measurement.") var duration = 5.0
    @Option(help: "wrk connections.") var connections = 64
    @Option(help: "Open-loop rate (requests/s) for latency figures.") var rate = 2000.0
    @Option(help: "Comma-separated modes (default: all).") var modes: String?
    @Option(help: "Comma-separated scenarios: equal, slow, dead, removed, restart.") var scenarios = "equal,slow,dead,removed,restart"
    @Option(help: "Write the results as JSON here; a PNG chart per scenario goes next to it.") var json: String?
    @Option(help: "kproxy binary to run (default: this one).") var kproxy: String?

    func validate() throws {
        guard backends >= 2, rounds >= 1, duration > 0, connections > 0, rate > 0 else { throw ValidationError("counts must be positive (backends ≥ 2)") }
        for s in scenarios.split(separator: ",") where LBScenario(rawValue: String(s)) == nil { throw ValidationError("unknown scenario \(s)") }
        if let modes { for m in modes.split(separator: ",") where LBMode.all.first(where: { $0.name == m }) == nil { throw ValidationError("unknown mode \(m)") } }
        guard getuid() == 0 else { throw ValidationError("kproxy bench lb needs root (network namespaces)") }
    }

    func run() throws {
        let binary = kproxy ?? URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().path
        let selected = modes.map { names in LBMode.all.filter { names.split(separator: ",").map(String.init).contains($0.name) } } ?? LBMode.all
        let modeList = selected.filter { $0.name != "nginx-stream" || LBCluster.nginxStreamAvailable }
        let scenarioList = scenarios.split(separator: ",").compactMap { LBScenario(rawValue: String($0)) }
        let cluster = try LBCluster(binary: binary, backends: backends)
        let stop = installSignalCleanup(cluster)
        defer { cluster.destroy(); stop.forEach { $0.cancel() } }
        BenchFormat.say("kproxy bench lb: \(backends) nginx backends, \(rounds) rounds × \(duration) s, wrk -c \(connections), open loop \(Int(rate))/s")
        BenchFormat.say("  modes: \(modeList.map(\.name).joined(separator: ", "))")
        try cluster.create()
        for i in 0..<backends { try cluster.startBackend(i) }
        try cluster.startControlPlane()
        let runner = LBRunner(cluster: cluster, duration: duration, connections: connections, rate: rate)
        var report = LBReport(backends: backends, rounds: rounds, duration: duration, connections: connections, rate: rate)
        for scenario in scenarioList {
            try runner.prepare(scenario)
            let applicable = modeList.filter { scenario.applies(to: $0) }
            for round in 1...rounds {
                for mode in applicable {
                    BenchFormat.say("[\(scenario.rawValue) \(round)/\(rounds)] \(mode.name) …")
                    do {
                        let sample = try runner.measure(mode, scenario)
                        report.add(scenario, mode.name, sample)
                        BenchFormat.say("    " + sample.sorted { $0.key < $1.key }.map { "\($0.key)=\(LBReport.format($0.value))" }.joined(separator: " "))
                    } catch {
                        BenchFormat.say("    failed: \(error)")
                        report.fail(scenario, mode.name, "\(error)")
                    }
                    runner.tearDown(mode)
                }
            }
            try runner.finish(scenario)
        }
        BenchFormat.say("")
        BenchFormat.say(report.table())
        if let json {
            try report.write(json: json)
            BenchFormat.say("JSON written to \(json); charts: \(try report.plot(json: json).joined(separator: ", "))")
        }
    }

    /// Ctrl-C and SIGTERM remove everything before exiting (128 + the signal).
    private func installSignalCleanup(_ cluster: LBCluster) -> [DispatchSourceSignal] {
        nonisolated(unsafe) let c = cluster
        return [SIGINT, SIGTERM].map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler {
                BenchFormat.say("interrupted: cleaning up")
                c.destroy()
                Glibc.exit(128 + number)
            }
            source.resume()
            return source
        }
    }
}

/// A balancer under test.
struct LBMode: Sendable {
    enum Kind: Sendable {
        case direct
        case kproxy(mode: String, scheduler: String?)
        case haproxy(balance: String)
        case nginxStream
    }
    var name: String
    var kind: Kind

    static let schedulers: [String] = ["roundrobin", "leastconn", "p2c", "random", "maglev"]
    static let all: [LBMode] = [LBMode(name: "direct", kind: .direct), LBMode(name: "nftables", kind: .kproxy(mode: "nftables", scheduler: nil))]
        + schedulers.map { (s: String) in LBMode(name: "userspace-\(s)", kind: .kproxy(mode: "userspace", scheduler: s)) }
        + [LBMode(name: "haproxy-roundrobin", kind: .haproxy(balance: "roundrobin")), LBMode(name: "haproxy-leastconn", kind: .haproxy(balance: "leastconn")),
           LBMode(name: "nginx-stream", kind: .nginxStream)]

    var isUserspace: Bool { if case .kproxy("userspace", _) = kind { true } else { false } }
}

enum LBScenario: String, CaseIterable {
    case equal, slow, dead, removed, restart

    func applies(to mode: LBMode) -> Bool {
        switch self {
        case .equal: true
        case .slow, .dead: mode.name != "direct"
        case .removed: mode.name != "direct" && mode.name != "nginx-stream"  // nginx stream has no runtime API
        case .restart: mode.isUserspace
        }
    }
}

/// Runs one mode through one scenario's measurements.
struct LBRunner {
    let cluster: LBCluster
    let duration: Double
    let connections: Int
    let rate: Double

    func prepare(_ scenario: LBScenario) throws {
        switch scenario {
        case .slow: try cluster.startBackend(0, slow: true)
        case .dead: cluster.stop("be0", graceful: false)
        default: break
        }
    }

    func finish(_ scenario: LBScenario) throws {
        if scenario == .slow || scenario == .dead { try cluster.startBackend(0) }
    }

    /// The address clients use, after starting the mode's balancer over backends `up`.
    func setUp(_ mode: LBMode, up: [Int]) throws -> (address: String, port: Int, pids: [Int32]) {
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

    func tearDown(_ mode: LBMode) {
        cluster.stopProxy()
        cluster.stopProxy("proxy2")
        cluster.stop("haproxy")
        cluster.stop("nginx-stream")
    }

    func measure(_ mode: LBMode, _ scenario: LBScenario) throws -> [String: Double] {
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

    struct WrkResult { var requests: Int; var rps: Double; var errors: Int }

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
    private func load(_ target: (address: String, port: Int, pids: [Int32]), newConnections: Bool) throws -> BenchHTTPLoadCommand.Result {
        let args = loadArguments(target, newConnections: newConnections)
        let text = try cluster.exec(cluster.client, args)
        return try JSONDecoder().decode(BenchHTTPLoadCommand.Result.self, from: Data(text.utf8))
    }

    /// Enough connections that a 50 ms backend does not queue the open loop behind it (rate × 50 ms, ×4).
    private func loadArguments(_ target: (address: String, port: Int, pids: [Int32]), newConnections: Bool) -> [String] {
        let connections = max(32, Int(rate * 0.05 * 4))
        return [cluster.binary, "bench", "http-load", "--address", target.address, "--port", "\(target.port)", "--rate", "\(Int(rate))",
                "--duration", "\(duration)", "--connections", "\(connections)"] + (newConnections ? ["--new-connections"] : [])
    }

    /// New-connection load in the background; `action` runs a third of the way in.
    private func loadDuring(_ target: (address: String, port: Int, pids: [Int32]), _ action: () throws -> Void) throws -> BenchHTTPLoadCommand.Result {
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
        return try JSONDecoder().decode(BenchHTTPLoadCommand.Result.self, from: data)
    }
}
