import ArgumentParser
import Dispatch
import DNSCore
import Foundation
import Glibc
import LinuxSystem
import Synchronization

/// `kproxy traffic`: a steady client for end-to-end tests, run in a pod or a namespace. Each request is a new
/// connection (HTTP GET, `Connection: close`) or a new DNS query over UDP, sent on a fixed schedule, so every
/// one exercises the data plane's choice of endpoint. One JSON line per second on stdout:
/// `{"t":UNIX,"ok":N,"fail":N,"max_ms":N,"error":"…"}` (max_ms: the slowest request that ended in it), and on SIGTERM/SIGINT (or after `--duration`) a summary line
/// `{"summary":true,"ok":N,"fail":N,"first_fail":UNIX,"last_fail":UNIX}`.
struct TrafficCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "traffic",
        abstract: "Send a steady stream of requests (HTTP over new TCP connections, or DNS over UDP) and report successes and failures per second."
    )

    @Option(help: "HTTP target, http://HOST[:PORT][/PATH]; HOST a name (resolved once, through the resolver) or an address.") var url: String?
    @Option(help: "DNS mode: the name to query (type A) from the first nameserver of /etc/resolv.conf, or --server.") var dns: String?
    @Option(help: "DNS server address (DNS mode).") var server: String?
    @Option(help: "Requests per second.") var rate = 50.0
    @Option(help: "Per-request timeout in seconds.") var timeout = 1.0
    @Option(help: "Requests in flight at most (workers sharing the schedule).") var concurrency = 4
    @Option(help: "Stop after this many seconds (0: until SIGTERM).") var duration = 0.0
    @Option(help: "First-success mode: comma-separated http:// URLs, taken in order; each is tried every --interval until it answers, then its first success is printed as {\"target\":…,\"first_ok\":UNIX}.") var firstOk: String?
    @Option(help: "First-success mode: seconds between attempts.") var interval = 0.002

    func validate() throws {
        guard [url, dns, firstOk].compactMap({ $0 }).count == 1 else { throw ValidationError("give exactly one of --url, --dns and --first-ok") }
        guard rate > 0, rate <= 10_000, timeout > 0 else { throw ValidationError("--rate must be in (0, 10000] and --timeout positive") }
        guard (1...64).contains(concurrency) else { throw ValidationError("--concurrency must be in 1...64") }
    }

    func run() throws {
        signal(SIGPIPE, SIG_IGN)
        var stop = sigset_t()
        sigemptyset(&stop); sigaddset(&stop, SIGTERM); sigaddset(&stop, SIGINT)
        pthread_sigmask(SIG_BLOCK, &stop, nil)  // polled with sigtimedwait between requests
        if let firstOk {
            // Network programming latency: how soon after a Service appears its address answers.
            for target in firstOk.split(separator: ",").map(String.init) {
                let http = try HTTPTarget(target)
                while http.get(timeout: timeout) != nil {
                    var ts = timespec(tv_sec: Int(interval), tv_nsec: Int((interval - floor(interval)) * 1e9))
                    if sigtimedwait(&stop, nil, &ts) > 0 { return }
                }
                Self.emit(#"{"target":"\#(target)","first_ok":\#(String(format: "%.6f", Self.now()))}"#)
            }
            return
        }
        let request: @Sendable () -> String?   // nil: success; else the error
        if let url {
            let target = try HTTPTarget(url)
            request = { target.get(timeout: timeout) }
        } else {
            let nameserver = server ?? ResolverConfig(parsing: (try? String(contentsOfFile: "/etc/resolv.conf", encoding: .utf8)) ?? "").nameservers.first
            guard let nameserver, let name = dns.flatMap(DNSName.init) else { throw ValidationError("no DNS server (resolv.conf empty) or invalid name") }
            request = { DNSProbe.query(name, server: nameserver, timeout: timeout) }
        }
        let tally = Tally()
        let start = Self.now()
        // Workers share the schedule (request n at start + n/rate, taken in turn), so the rate holds while
        // single requests are slow; slots missed while every worker waited on a timeout are skipped, not sent
        // in a burst afterwards, so an outage shows as failures at the rate it lasted.
        for _ in 0..<concurrency {
            try OSThread {
                while !tally.stopped.load(ordering: .relaxed) {
                    let due = start + Double(tally.nextSlot(now: Self.now(), start: start, rate: rate)) / rate
                    let wait = due - Self.now()
                    if wait > 0 { usleep(UInt32(min(wait, 1) * 1e6)) }
                    if tally.stopped.load(ordering: .relaxed) { break }
                    let began = Self.now()
                    let error = request()
                    let ended = Self.now()
                    tally.record(at: ended, took: ended - began, error: error)  // counted in the second it ended
                }
                tally.workerDone()
            }.start()
        }
        var second = floor(start)
        while duration == 0 || Self.now() - start < duration {
            // A second's line is written just after it ends (50 ms: records of requests that ended in it land).
            let untilNext = second + 1.05 - Self.now()
            var ts = timespec(tv_sec: 0, tv_nsec: Int(max(0.001, min(untilNext, 0.999)) * 1e9))
            if sigtimedwait(&stop, nil, &ts) > 0 { break }
            if Self.now() >= second + 1.05 {
                Self.emit(tally.line(second: Int(second)))
                second += 1
            }
        }
        tally.stopped.store(true, ordering: .relaxed)
        tally.waitForWorkers(concurrency)
        while second <= floor(Self.now()) { Self.emit(tally.line(second: Int(second))); second += 1 }
        Self.emit(tally.summary())
    }

    /// A whole line in one write (unbuffered: a log reader sees each second as it ends).
    static func emit(_ line: String) { _ = Sys.writeAll(1, Array((line + "\n").utf8)) }

    static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }
}

/// What the workers did, per second of the wall clock, and the shared schedule.
final class Tally: Sendable {
    private struct Second { var ok = 0, fail = 0, error = "", slowest = 0.0 }
    private struct State {
        var seconds: [Int: Second] = [:]
        var slot = 0
        var ok = 0, fail = 0, firstFail = 0.0, lastFail = 0.0
        var done = 0
    }
    private let state = Mutex(State())
    let stopped = Atomic<Bool>(false)
    private let finished = DispatchSemaphore(value: 0)

    /// The next slot to send in (skipping those already more than one slot in the past).
    func nextSlot(now: Double, start: Double, rate: Double) -> Int {
        state.withLock { s in
            let current = Int((now - start) * rate)
            if current - s.slot > 1 { s.slot = current - 1 }
            defer { s.slot += 1 }
            return s.slot
        }
    }

    func record(at t: Double, took: Double, error: String?) {
        state.withLock { s in
            let key = Int(t)
            s.seconds[key, default: Second()].slowest = max(s.seconds[key, default: Second()].slowest, took)
            if let error {
                s.seconds[key, default: Second()].fail += 1
                s.seconds[key, default: Second()].error = error
                s.fail += 1
                if s.firstFail == 0 { s.firstFail = t }
                s.lastFail = t
            } else {
                s.seconds[key, default: Second()].ok += 1
                s.ok += 1
            }
        }
    }

    /// The line for `second` (requests that ended in it), removed from the tally.
    func line(second: Int) -> String {
        let c = state.withLock { $0.seconds.removeValue(forKey: second) } ?? Second()
        return #"{"t":\#(second),"ok":\#(c.ok),"fail":\#(c.fail),"max_ms":\#(Int(c.slowest * 1000)),"error":"\#(c.error.jsonEscaped)"}"#
    }

    func summary() -> String {
        state.withLock { s in
            #"{"summary":true,"ok":\#(s.ok),"fail":\#(s.fail),"first_fail":\#(Int(s.firstFail)),"last_fail":\#(Int(s.lastFail))}"#
        }
    }

    func workerDone() { finished.signal() }
    func waitForWorkers(_ count: Int) { for _ in 0..<count { finished.wait() } }
}

/// One HTTP GET over a fresh connection; success is a 2xx status line.
struct HTTPTarget {
    var address: sockaddr_storage
    var length: socklen_t
    var request: [UInt8]

    init(_ url: String) throws {
        guard url.hasPrefix("http://") else { throw ValidationError("--url must start with http://") }
        let rest = url.dropFirst(7)
        let hostPort = rest.prefix { $0 != "/" }
        let path = rest.dropFirst(hostPort.count)
        var host = String(hostPort), port = "80"
        if let colon = hostPort.lastIndex(of: ":"), !hostPort.hasSuffix("]") { host = String(hostPort[..<colon]); port = String(hostPort[hostPort.index(after: colon)...]) }
        host = host.trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        var hints = addrinfo(); hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var result: UnsafeMutablePointer<addrinfo>?
        // The name is resolved once (retried for a while: the DNS may not be up yet); requests then use the address.
        var rc: Int32 = -1
        for _ in 0..<50 {
            rc = getaddrinfo(host, port, &hints, &result)
            if rc == 0 { break }
            usleep(200_000)
        }
        guard rc == 0, let info = result, let addr = info.pointee.ai_addr else { throw ValidationError("cannot resolve \(host): \(String(cString: gai_strerror(rc)))") }
        defer { freeaddrinfo(result) }
        address = sockaddr_storage()
        length = info.pointee.ai_addrlen
        withUnsafeMutableBytes(of: &address) { dst in dst.copyMemory(from: UnsafeRawBufferPointer(start: addr, count: Int(info.pointee.ai_addrlen))) }
        request = Array("GET \(path.isEmpty ? "/" : path) HTTP/1.1\r\nHost: \(hostPort)\r\nUser-Agent: kproxy-traffic\r\nConnection: close\r\n\r\n".utf8)
    }

    func get(timeout: Double) -> String? {
        let deadline = TrafficCommand.now() + timeout
        let fd = socket(Int32(address.ss_family), Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return "socket: \(String(cString: strerror(errno)))" }
        defer { Sys.close(fd) }
        var addr = address
        let rc = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, length) } }
        if rc != 0 && errno != EINPROGRESS { return "connect: \(String(cString: strerror(errno)))" }
        guard Self.wait(fd, Int16(POLLOUT), deadline) else { return "connect: timed out" }
        let e = Sys.socketError(fd)
        if e != 0 { return "connect: \(String(cString: strerror(e)))" }
        var sent = 0
        while sent < request.count {
            let r = request.withUnsafeBytes { Sys.write(fd, $0.baseAddress! + sent, request.count - sent) }
            switch r {
            case .moved(let n): sent += n
            case .wouldBlock: guard Self.wait(fd, Int16(POLLOUT), deadline) else { return "send: timed out" }
            case .failed(let e): return "send: \(String(cString: strerror(e)))"
            }
        }
        var response: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let r = buffer.withUnsafeMutableBytes { Sys.read(fd, $0.baseAddress!, $0.count) }
            switch r {
            case .moved(0):
                let head = String(decoding: response.prefix(16), as: UTF8.self)
                return head.hasPrefix("HTTP/1.") && head.dropFirst(9).hasPrefix("2") ? nil : "bad response: \(head.isEmpty ? "empty" : head)"
            case .moved(let n): response += buffer[0..<n]
            case .wouldBlock: guard Self.wait(fd, Int16(POLLIN), deadline) else { return "read: timed out" }
            case .failed(let e): return "read: \(String(cString: strerror(e)))"
            }
        }
    }

    static func wait(_ fd: Int32, _ events: Int16, _ deadline: Double) -> Bool {
        while true {
            let left = deadline - TrafficCommand.now()
            guard left > 0 else { return false }
            var p = pollfd(fd: fd, events: events, revents: 0)
            let n = poll(&p, 1, Int32(left * 1000) + 1)
            if n > 0 { return true }
            if n < 0 && errno != EINTR { return false }
        }
    }
}

/// One DNS query (A, recursion desired) over UDP from a fresh socket; success is NOERROR with an answer.
enum DNSProbe {
    static func query(_ name: DNSName, server: String, timeout: Double) -> String? {
        var message = DNSMessage(questions: [DNSQuestion(name: name, type: .a)])
        message.header.id = UInt16.random(in: 1...UInt16.max)
        message.header.recursionDesired = true
        let packet = message.encode(maxSize: 512)
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET); addr.sin_port = in_port_t(UInt16(53).bigEndian)
        guard inet_pton(AF_INET, server, &addr.sin_addr) == 1 else { return "bad server address \(server)" }
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return "socket: \(String(cString: strerror(errno)))" }
        defer { Sys.close(fd) }
        let rc = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard rc == 0 else { return "connect: \(String(cString: strerror(errno)))" }
        guard packet.withUnsafeBytes({ send(fd, $0.baseAddress, $0.count, 0) }) == packet.count else { return "send: \(String(cString: strerror(errno)))" }
        let deadline = TrafficCommand.now() + timeout
        var buffer = [UInt8](repeating: 0, count: 4096)
        while HTTPTarget.wait(fd, Int16(POLLIN), deadline) {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n < 0 { if errno == EAGAIN || errno == EINTR { continue }; return "recv: \(String(cString: strerror(errno)))" }
            guard let reply = try? DNSMessage.decode(Array(buffer[0..<n])), reply.header.id == message.header.id else { continue }
            if reply.rcode != .noError { return "rcode \(reply.rcode)" }
            return reply.answers.isEmpty ? "no answer" : nil
        }
        return "timed out"
    }
}

extension String {
    var jsonEscaped: String {
        var out = ""
        for c in unicodeScalars {
            switch c {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case _ where c.value < 0x20: out += String(format: "\\u%04x", c.value)
            default: out.unicodeScalars.append(c)
            }
        }
        return out
    }
}
