import Foundation

/// Clocks, percentiles and process resource readings for the benchmarks.
package enum BenchMeasure {
    /// CLOCK_MONOTONIC in nanoseconds. Writers and watchers run in this one process, so a monotonic
    /// clock carried in an annotation is comparable on both sides.
    package static func nowNs() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
    }

    /// User plus system CPU time of this process, in seconds.
    package static func selfCPUSeconds() -> Double {
        var usage = rusage()
        getrusage(Int32(RUSAGE_SELF.rawValue), &usage)
        let user = Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6
        let system = Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6
        return user + system
    }

    /// Memory and CPU of another process, from /proc.
    package struct ProcessSample: Codable, Sendable {
        /// VmRSS and VmHWM (peak RSS), in KiB.
        package var rssKiB: Int
        package var peakRSSKiB: Int
        /// utime + stime, in seconds.
        package var cpuSeconds: Double
    }

    package static func sample(pid: Int32) -> ProcessSample? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
              let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8) else { return nil }
        func kib(_ field: String) -> Int {
            guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix(field + ":") }) else { return 0 }
            return Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") ?? 0
        }
        // Fields after the parenthesised command name start at field 3 (state); utime and stime are 14 and 15.
        guard let close = stat.lastIndex(of: ")") else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 12, let utime = Double(fields[11]), let stime = Double(fields[12]) else { return nil }
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        return ProcessSample(rssKiB: kib("VmRSS"), peakRSSKiB: kib("VmHWM"), cpuSeconds: (utime + stime) / max(ticks, 1))
    }

    /// p50/p99/p99.9/max of samples in nanoseconds, reported in milliseconds.
    package struct Percentiles: Codable, Sendable {
        package var count: Int
        package var p50Ms: Double
        package var p90Ms: Double
        package var p99Ms: Double
        package var p999Ms: Double
        package var maxMs: Double

        package init(nanoseconds samples: [Int64]) {
            let sorted = samples.sorted()
            count = sorted.count
            func at(_ q: Double) -> Double {
                guard !sorted.isEmpty else { return 0 }
                return Double(sorted[min(sorted.count - 1, Int(Double(sorted.count) * q))]) / 1e6
            }
            p50Ms = at(0.5); p90Ms = at(0.9); p99Ms = at(0.99); p999Ms = at(0.999)
            maxMs = Double(sorted.last ?? 0) / 1e6
        }

        package var summary: String {
            "p50 \(BenchFormat.ms(p50Ms))  p90 \(BenchFormat.ms(p90Ms))  p99 \(BenchFormat.ms(p99Ms))  p99.9 \(BenchFormat.ms(p999Ms))  max \(BenchFormat.ms(maxMs))"
        }
    }

    /// Minimum and median of a few timings, in seconds.
    package static func minMedian(_ values: [Double]) -> (min: Double, median: Double) {
        let sorted = values.sorted()
        guard !sorted.isEmpty else { return (0, 0) }
        return (sorted[0], sorted[sorted.count / 2])
    }
}

/// Number formatting for the report table.
package enum BenchFormat {
    /// Writes one line to stdout unbuffered, so progress shows while piped.
    package static func say(_ line: String) {
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }

    package static func ms(_ v: Double) -> String { v < 10 ? String(format: "%.2f ms", v) : String(format: "%.1f ms", v) }
    package static func s(_ v: Double) -> String { String(format: "%.3f s", v) }
    package static func mib(_ kib: Int) -> String { String(format: "%.1f MiB", Double(kib) / 1024) }
    package static func rate(_ v: Double) -> String { String(format: "%.0f/s", v) }
    package static func count(_ v: Int) -> String {
        let digits = Array(String(v))
        var out = ""
        for (i, d) in digits.enumerated() {
            if i > 0, (digits.count - i) % 3 == 0 { out.append(",") }
            out.append(d)
        }
        return out
    }
}
