import CLinuxExtras
@testable import DNSCore
@testable import DNSServer
import Glibc
import Logging
import NIOPosix
import Synchronization
import Testing
import TestSupport

/// A UDP worker whose receive call fails (injected through the worker's `recvmmsg` seam) logs and counts
/// the error and keeps answering: a transient error is waited out, any other replaces the socket in the
/// SO_REUSEPORT group. Before, the worker's thread ended and its socket kept receiving its share of
/// queries, unanswered.
@Suite struct UDPWorkerFaultTests {
    final class FailingReceive: Sendable {
        let remaining: Atomic<Int>
        let error: Int32
        init(failures: Int, error: Int32) { remaining = Atomic(failures); self.error = error }

        func call(_ fd: Int32, _ messages: UnsafeMutablePointer<kp_mmsghdr>, _ count: UInt32) -> Int32 {
            if remaining.subtract(1, ordering: .relaxed).newValue >= 0 {
                Glibc.errno = error
                return -1
            }
            return kp_recvmmsg(fd, messages, count)
        }
    }

    @Test(arguments: [(EIO, 1), (ENOBUFS, 0)] as [(Int32, Int)])
    func receiveErrorsAreCountedAndServingGoesOn(error: Int32, restarts: Int) async throws {
        let dig = try #require(which("dig"), "dig missing: run hack/install-deps.sh")
        let failing = FailingReceive(failures: 1, error: error)
        // One event loop: one worker, so every query reaches the socket that failed.
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let processor = QueryProcessor(store: IndexStore(DNSServerLoopbackTests.index()), forwarder: nil, metrics: DNSMetrics(),
                                       logger: Logger(label: "dns-fault-test"))
        let address = "127.0.0.\(Int.random(in: 2...250))"
        let server = try await DNSServer.bind(host: address, port: 0, processor: processor, group: group, tcpIdleTimeout: .seconds(2),
                                              receive: { failing.call($0, $1, $2) })
        do {
            let port = server.localAddress.port ?? 0
            let answer = try await DNSServerLoopbackTests.runOffPool(dig, ["@\(address)", "-p", "\(port)", "+tries=3", "+time=2", "+short",
                                                                           "web.default.svc.cluster.local", "A"])
            // A query that was queued on the broken socket when it was replaced is lost; dig's retry is answered.
            #expect(answer.split(separator: "\n").filter { !$0.hasPrefix(";;") } == ["10.96.0.20"])
            let metrics = processor.metrics.render()
            #expect(metrics.contains("kproxy_dns_udp_receive_errors_total 1"), "\(metrics)")
            #expect(metrics.contains("kproxy_dns_udp_socket_restarts_total \(restarts)"), "\(metrics)")
        } catch {
            Issue.record(error)
        }
        await server.close()
        try await group.shutdownGracefully()
    }
}
