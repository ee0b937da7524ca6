import Foundation

/// `kproxy bench lb` results: every sample per scenario and mode, medians, the ratio table, JSON, charts.
package struct LBReport: Codable {
    package var backends: Int
    package var rounds: Int
    package var duration: Double
    package var connections: Int
    package var rate: Double
    /// scenario → mode → metric → one value per round.
    package var samples: [String: [String: [String: [Double]]]] = [:]
    package var failures: [String: [String: [String]]] = [:]
    /// Modes in the order they ran, per scenario.
    package var order: [String: [String]] = [:]

    package init(backends: Int, rounds: Int, duration: Double, connections: Int, rate: Double) {
        self.backends = backends; self.rounds = rounds; self.duration = duration; self.connections = connections; self.rate = rate
    }

    package mutating func add(_ scenario: LBScenario, _ mode: String, _ sample: [String: Double]) {
        note(scenario, mode)
        for (metric, value) in sample { samples[scenario.rawValue, default: [:]][mode, default: [:]][metric, default: []].append(value) }
    }

    package mutating func fail(_ scenario: LBScenario, _ mode: String, _ why: String) {
        note(scenario, mode)
        failures[scenario.rawValue, default: [:]][mode, default: []].append(why)
    }

    private mutating func note(_ scenario: LBScenario, _ mode: String) {
        if !(order[scenario.rawValue] ?? []).contains(mode) { order[scenario.rawValue, default: []].append(mode) }
    }

    package func median(_ scenario: String, _ mode: String, _ metric: String) -> Double? {
        guard let values = samples[scenario]?[mode]?[metric], !values.isEmpty else { return nil }
        let sorted = values.sorted()
        return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
    }

    package static func columns(_ scenario: String) -> [(metric: String, title: String)] {
        switch scenario {
        case "equal":
            [("keepalive_rps", "keep-alive req/s"), ("newconn_rps", "new conn/s"), ("p50_ms", "p50 ms"), ("p99_ms", "p99 ms"), ("p999_ms", "p99.9 ms"),
             ("keepalive_cpu_s_per_100k", "LB CPU s/100k (ka)"), ("newconn_cpu_s_per_100k", "LB CPU s/100k (nc)"),
             ("keepalive_machine_cpu_s_per_100k", "machine CPU s/100k (ka)"), ("share_max_mean", "share max/mean"), ("failures", "failures")]
        case "slow":
            [("p50_ms", "p50 ms"), ("p99_ms", "p99 ms"), ("p999_ms", "p99.9 ms"), ("slow_share_pct", "slow backend % of conns"), ("failures", "failures")]
        default:
            [("failures", "client-visible failures"), ("requests", "requests"), ("p99_ms", "p99 ms")]
        }
    }

    package static func format(_ v: Double) -> String {
        if v == 0 { return "0" }
        if abs(v) >= 100 { return BenchFormat.count(Int(v.rounded())) }
        if abs(v) >= 10 { return String(format: "%.1f", v) }
        return String(format: "%.3g", v)
    }

    /// A Markdown table per scenario (medians), then the ratios the issue asks for.
    package func table() -> String {
        var out = ""
        for scenario in LBScenario.allCases.map(\.rawValue) where order[scenario] != nil {
            let columns = Self.columns(scenario).filter { c in order[scenario, default: []].contains { median(scenario, $0, c.metric) != nil } }
            out += "### \(scenario) (medians of \(rounds) rounds)\n\n| mode | " + columns.map(\.title).joined(separator: " | ") + " |\n"
            out += "|---|" + columns.map { _ in "---:" }.joined(separator: "|") + "|\n"
            for mode in order[scenario] ?? [] {
                let cells = columns.map { c in median(scenario, mode, c.metric).map(Self.format) ?? (failures[scenario]?[mode] != nil ? "failed" : "n/a") }
                out += "| \(mode) | " + cells.joined(separator: " | ") + " |\n"
            }
            out += "\n"
        }
        var ratios: [String] = []
        func ratio(_ title: String, _ s: String, _ a: String, _ b: String, _ metric: String) {
            guard let x = median(s, a, metric), let y = median(s, b, metric), y > 0 else { return }
            ratios.append("- \(title): \(String(format: "%.2f", x / y))× (\(Self.format(x)) / \(Self.format(y)))")
        }
        ratio("userspace-roundrobin / haproxy-roundrobin, keep-alive req/s", "equal", "userspace-roundrobin", "haproxy-roundrobin", "keepalive_rps")
        ratio("userspace-roundrobin / haproxy-roundrobin, new conn/s", "equal", "userspace-roundrobin", "haproxy-roundrobin", "newconn_rps")
        ratio("userspace-roundrobin / haproxy-roundrobin, CPU per request (keep-alive)", "equal", "userspace-roundrobin", "haproxy-roundrobin", "keepalive_cpu_s_per_100k")
        ratio("userspace-roundrobin / haproxy-roundrobin, CPU per request (new conn)", "equal", "userspace-roundrobin", "haproxy-roundrobin", "newconn_cpu_s_per_100k")
        ratio("nftables / direct, keep-alive req/s", "equal", "nftables", "direct", "keepalive_rps")
        ratio("nftables / direct, new conn/s", "equal", "nftables", "direct", "newconn_rps")
        ratio("slow backend: userspace-leastconn p99 / userspace-roundrobin p99", "slow", "userspace-leastconn", "userspace-roundrobin", "p99_ms")
        ratio("slow backend: userspace-p2c p99 / userspace-roundrobin p99", "slow", "userspace-p2c", "userspace-roundrobin", "p99_ms")
        if !ratios.isEmpty { out += "### ratios (same run)\n\n" + ratios.joined(separator: "\n") + "\n" }
        for (scenario, modes) in failures.sorted(by: { $0.key < $1.key }) {
            for (mode, why) in modes.sorted(by: { $0.key < $1.key }) { out += "\n(\(scenario)/\(mode) failed \(why.count)×: \(why.first ?? ""))" }
        }
        return out
    }

    package func write(json path: String) throws {
        struct Output: Codable {
            var report: LBReport
            var medians: [String: [String: [String: Double]]]
        }
        var medians: [String: [String: [String: Double]]] = [:]
        for (s, modes) in samples { for (m, metrics) in modes { for metric in metrics.keys { medians[s, default: [:]][m, default: [:]][metric] = median(s, m, metric) } } }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(Output(report: self, medians: medians)).write(to: URL(fileURLWithPath: path))
    }

    /// A PNG per scenario next to the JSON (gnuplot): grouped bars of the scenario's headline figures.
    package func plot(json path: String) throws -> [String] {
        let base = path.hasSuffix(".json") ? String(path.dropLast(5)) : path
        var written: [String] = []
        for scenario in LBScenario.allCases.map(\.rawValue) where order[scenario] != nil {
            let (metrics, ylabel): ([(String, String)], String) = switch scenario {
            case "equal": ([("keepalive_rps", "keep-alive requests/s"), ("newconn_rps", "new connections/s")], "per second")
            case "slow": ([("p99_ms", "p99 latency (ms)"), ("slow_share_pct", "slow backend share of connections (%)")], "")
            default: ([("failures", "client-visible failures")], "failures")
            }
            let modes = (order[scenario] ?? []).filter { m in metrics.contains { median(scenario, m, $0.0) != nil } }
            guard !modes.isEmpty else { continue }
            var data = "mode " + metrics.map { "\"\($0.1)\"" }.joined(separator: " ") + "\n"
            for m in modes { data += m + " " + metrics.map { String(median(scenario, m, $0.0) ?? 0) }.joined(separator: " ") + "\n" }
            let dat = "\(base)-\(scenario).dat", png = "\(base)-\(scenario).png"
            try data.write(toFile: dat, atomically: true, encoding: .utf8)
            let script = """
            set terminal pngcairo size 1100,520 font 'sans,10'
            set output '\(png)'
            set title 'kproxy bench lb — \(scenario) (\(backends) nginx backends, medians of \(rounds) rounds, same run)'
            set style data histograms
            set style histogram clustered gap 1
            set style fill solid 0.85 border -1
            set boxwidth 0.9
            set key top right
            set grid ytics
            set ylabel '\(ylabel)'
            set yrange [0:*]
            set xtics rotate by -30
            plot \(metrics.indices.map { "'\(dat)' using \($0 + 2):xtic(1) title columnheader" }.joined(separator: ", "))
            """
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            p.arguments = ["gnuplot"]
            let input = Pipe()
            p.standardInput = input
            try p.run()
            input.fileHandleForWriting.write(Data(script.utf8))
            try input.fileHandleForWriting.close()
            p.waitUntilExit()
            guard p.terminationStatus == 0 else { throw Shell.Failed(description: "gnuplot failed for \(scenario)") }
            written.append(png)
        }
        return written
    }
}
