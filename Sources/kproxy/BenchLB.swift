import Bench
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
