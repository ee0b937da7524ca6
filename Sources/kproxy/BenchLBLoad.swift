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

    struct Result: Codable {
        var sent: Int
        var ok: Int
        var failed: Int
        var latency: BenchMeasure.Percentiles
    }

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

/// Samples gathered by the load threads.
final class LoadResults: @unchecked Sendable {
    // Guarded by `lock`.
    private let lock = NSLock()
    private var latencies: [Int64] = []
    private var ok = 0, failed = 0

    func add(_ l: [Int64], ok: Int, failed: Int) {
        lock.lock(); defer { lock.unlock() }
        latencies += l; self.ok += ok; self.failed += failed
    }

    func take() -> ([Int64], Int, Int) {
        lock.lock(); defer { lock.unlock() }
        return (latencies, ok, failed)
    }
}

/// One blocking HTTP/1.1 client connection: sends a request, reads one response (Content-Length or chunked).
struct LoadConnection {
    let address: String
    let port: UInt16
    private var fd: Int32 = -1
    private var buffer = [UInt8](repeating: 0, count: 16 * 1024)

    init(address: String, port: UInt16) { self.address = address; self.port = port }

    mutating func close() {
        if fd >= 0 { Glibc.close(fd) }
        fd = -1
    }

    private mutating func connect() -> Bool {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        var timeout = timeval(tv_sec: 3, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        var sin = sockaddr_in()
        sin.sin_family = sa_family_t(AF_INET)
        sin.sin_port = port.bigEndian
        sin.sin_addr.s_addr = inet_addr(address)
        let r = withUnsafePointer(to: &sin) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        if r != 0 { close(); return false }
        return true
    }

    /// One request and its whole response; false on any failure (the connection is closed then).
    mutating func exchange(_ request: [UInt8]) -> Bool {
        if fd < 0 && !connect() { return false }
        let sent = request.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        guard sent == request.count else { close(); return false }
        var received: [UInt8] = []
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            guard n > 0 else { close(); return false }
            received += buffer[0..<n]
            switch Self.complete(received) {
            case .some(true): return true
            case .some(false): close(); return false
            case .none: continue
            }
        }
    }

    /// true: a whole 2xx response; false: a whole non-2xx one; nil: more bytes needed.
    static func complete(_ bytes: [UInt8]) -> Bool? {
        guard let end = bytes.firstRange(of: Array("\r\n\r\n".utf8)) else { return nil }
        let head = String(decoding: bytes[..<end.lowerBound], as: UTF8.self).lowercased()
        let ok = head.hasPrefix("http/1.1 2") || head.hasPrefix("http/1.0 2")
        let body = bytes.count - end.upperBound
        if let line = head.split(separator: "\r\n").first(where: { $0.hasPrefix("content-length:") }),
           let length = Int(line.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) {
            return body >= length ? ok : nil
        }
        if head.contains("transfer-encoding: chunked") {
            return bytes.suffix(5).elementsEqual(Array("0\r\n\r\n".utf8)) ? ok : nil
        }
        return ok
    }
}
