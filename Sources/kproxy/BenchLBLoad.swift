import Bench
import ArgumentParser
import Foundation

/// `kproxy bench http-load`: an open-loop HTTP/1.1 load generator (used by `kproxy bench lb`, run inside the
/// client namespace). Request i is due at start + i/rate whatever happened before it, and its latency is
/// measured from that due time — so a stall shows up in the percentiles instead of silently slowing the
/// sender (no coordinated omission). Prints one JSON object.
struct BenchHTTPLoadCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "http-load",
        abstract: "Open-loop HTTP load at a fixed rate; latency from each request's due time (JSON on stdout).",
        shouldDisplay: false
    )

    @Option(help: "Server address (IPv4).") var address: String
    @Option(help: "Server port.") var port: Int = 80
    @Option(help: "Requests per second.") var rate: Double = 2000
    @Option(help: "Seconds to send for.") var duration: Double = 5
    @Option(help: "Connections (threads); request i goes on connection i mod N.") var connections = 32
    @Flag(help: "One request per connection (Connection: close).") var newConnections = false

    typealias Result = HTTPLoadResult

    func validate() throws {
        guard rate > 0, duration > 0, connections > 0 else { throw ValidationError("rate, duration and connections must be positive") }
        guard inet_addr(address) != INADDR_NONE else { throw ValidationError("--address must be an IPv4 address") }
    }

    func run() throws {
        let total = Int(rate * duration)
        let interval = 1e9 / rate
        let start = BenchMeasure.nowNs() + 50_000_000
        let results = LoadResults()
        let group = DispatchGroup()
        let request = Array("GET / HTTP/1.1\r\nHost: bench\r\n\(newConnections ? "Connection: close\r\n" : "")\r\n".utf8)
        let target = (address: address, port: UInt16(port), fresh: newConnections)
        for worker in 0..<connections {
            group.enter()
            Thread.detachNewThread {
                var client = LoadConnection(address: target.address, port: target.port)
                var latencies: [Int64] = []
                var ok = 0, failed = 0
                var i = worker
                while i < total {
                    let due = start + Int64(Double(i) * interval)
                    BenchHTTPLoadCommand.sleep(until: due)
                    if client.exchange(request) { ok += 1; latencies.append(BenchMeasure.nowNs() - due) } else { failed += 1 }
                    if target.fresh { client.close() }
                    i += connections
                }
                client.close()
                results.add(latencies, ok: ok, failed: failed)
                group.leave()
            }
        }
        group.wait()
        let (latencies, ok, failed) = results.take()
        let result = Result(sent: ok + failed, ok: ok, failed: failed, latency: BenchMeasure.Percentiles(nanoseconds: latencies))
        let data = try JSONEncoder().encode(result)
        FileHandle.standardOutput.write(data + Data("\n".utf8))
    }

    static func sleep(until due: Int64) {
        let wait = due - BenchMeasure.nowNs()
        guard wait > 0 else { return }
        var request = timespec(tv_sec: Int(wait / 1_000_000_000), tv_nsec: Int(wait % 1_000_000_000))
        var remaining = timespec()
        while nanosleep(&request, &remaining) != 0 && errno == EINTR { request = remaining }
    }
}
