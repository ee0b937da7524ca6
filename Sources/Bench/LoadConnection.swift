import Foundation

/// Samples gathered by the load threads.
package final class LoadResults: @unchecked Sendable {
    // Guarded by `lock`.
    private let lock = NSLock()
    private var latencies: [Int64] = []
    private var ok = 0, failed = 0

    package init() {}

    package func add(_ l: [Int64], ok: Int, failed: Int) {
        lock.lock(); defer { lock.unlock() }
        latencies += l; self.ok += ok; self.failed += failed
    }

    package func take() -> ([Int64], Int, Int) {
        lock.lock(); defer { lock.unlock() }
        return (latencies, ok, failed)
    }
}

/// One blocking HTTP/1.1 client connection: sends a request, reads one response (Content-Length or chunked).
package struct LoadConnection {
    package let address: String
    package let port: UInt16
    private var fd: Int32 = -1
    private var buffer = [UInt8](repeating: 0, count: 16 * 1024)

    package init(address: String, port: UInt16) { self.address = address; self.port = port }

    package mutating func close() {
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
    package mutating func exchange(_ request: [UInt8]) -> Bool {
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
    package static func complete(_ bytes: [UInt8]) -> Bool? {
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

/// What `kproxy bench http-load` prints (JSON): requests sent, answered, failed, and the latency percentiles.
package struct HTTPLoadResult: Codable {
    package var sent: Int
    package var ok: Int
    package var failed: Int
    package var latency: BenchMeasure.Percentiles
    package init(sent: Int, ok: Int, failed: Int, latency: BenchMeasure.Percentiles) {
        self.sent = sent; self.ok = ok; self.failed = failed; self.latency = latency
    }
}
