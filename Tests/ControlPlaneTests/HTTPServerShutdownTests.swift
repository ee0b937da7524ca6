import Dispatch
import Foundation
import Glibc
import HTTPServing
import Logging
import NIOCore
import NIOHTTP1
import Synchronization
import Testing

/// Stopping an HTTP server while clients keep connecting: connections accepted as the listener closes
/// must be taken and closed (SwiftNIO traps on an async channel dropped unconsumed — a crash of the
/// whole process, e.g. of the proxy when a health-check port closes under a load balancer's probes).
@Suite struct HTTPServerShutdownTests {
    struct OK: HTTPRequestHandler {
        func handle(_ request: HTTPRequest) async -> HTTPResponse { .full(status: .ok, headers: [:], body: ByteBuffer(string: "ok")) }
    }

    /// Connects (and hangs up) to 127.0.0.1:`port` as fast as it can until `stop` is set.
    static func hammer(port: Int, connects: ManagedCounter, until stop: @escaping @Sendable () -> Bool) -> DispatchSemaphore {
        let done = DispatchSemaphore(value: 0)
        DispatchQueue.global().async {
            while !stop() {
                let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
                var address = sockaddr_in()
                address.sin_family = sa_family_t(AF_INET)
                address.sin_port = in_port_t(UInt16(port).bigEndian)
                address.sin_addr.s_addr = inet_addr("127.0.0.1")
                _ = withUnsafePointer(to: &address) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
                }
                close(fd)
                connects.increment()
            }
            done.signal()
        }
        return done
    }

    @Test func stoppingUnderConnectionsNeverDropsAnAcceptedOne() async throws {
        var logger = Logger(label: "http-shutdown-test")
        logger.logLevel = .critical
        for _ in 0..<30 {
            let server = try await HTTPServer.bind(host: "127.0.0.1", port: 0, tls: nil, handler: OK(), logger: logger)
            let port = server.localAddress.port ?? 0
            let running = Task { await server.run() }
            let stop = ManagedFlag()
            let connects = ManagedCounter()
            let done = Self.hammer(port: port, connects: connects, until: { stop.isSet })
            // Stop while connections pour in.
            while connects.value < 20 { await Task.yield() }
            running.cancel()
            await running.value
            stop.set()
            await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in DispatchQueue.global().async { done.wait(); c.resume() } }
        }
    }
}

final class ManagedFlag: Sendable {
    private let value = Mutex(false)
    var isSet: Bool { value.withLock { $0 } }
    func set() { value.withLock { $0 = true } }
}

final class ManagedCounter: Sendable {
    private let count = Mutex(0)
    var value: Int { count.withLock { $0 } }
    func increment() { count.withLock { $0 += 1 } }
}
