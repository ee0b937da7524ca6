import ClusterUp
import Foundation
import Logging
import NIOPosix
import Testing

/// `kproxy up`'s forwarder from this namespace's loopback into another namespace: bytes both ways, and a
/// client's half-close passed on without losing what the server sends after it.
@Suite(.serialized, .enabled(if: NetnsSupport.isAvailable, "needs root and ip"))
struct ForwarderTests {
    /// A server inside `ns` on 127.0.0.1:`port` that reads the request to its end (the client's FIN), then
    /// answers with `size` bytes and the request's length, and closes.
    private func startServer(_ ns: TestNetns, port: Int, size: Int) throws -> Process {
        let script = """
        import socket
        s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("127.0.0.1", \(port))); s.listen(4)
        while True:
            c, _ = s.accept(); got = b""
            while True:
                d = c.recv(65536)
                if not d: break
                got += d
            c.sendall(b"x" * \(size) + b" %d\\n" % len(got)); c.close()
        """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: NetnsSupport.ipTool)
        process.arguments = ["netns", "exec", ns.name, "python3", "-c", script]
        try process.run()
        return process
    }

    @Test func halfClosedRequestGetsTheWholeAnswer() async throws {
        let ns = try TestNetns("fwd")
        defer { ns.destroy() }
        let port = 18_000 + Int.random(in: 0..<1000)
        let server = try startServer(ns, port: port, size: 12_000_000)
        defer { NetnsSupport.stop(server) }
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let forwarder = try await Forwarder.start(group: group, host: "127.0.0.1", port: 0, netnsPath: "/var/run/netns/\(ns.name)",
                                                  target: "127.0.0.1", targetPort: port, logger: Logger(label: "test"))
        // The client writes 200 kB, shuts its side down (FIN) and reads to the end slowly, through a small
        // receive buffer: when the server's close arrives, answer bytes still wait in the forwarder.
        let client = """
        import socket, sys, time
        for attempt in range(50):
            try:
                c = socket.socket(); c.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 32768)
                c.connect(("127.0.0.1", \(forwarder.port))); c.sendall(b"y" * 200000); c.shutdown(socket.SHUT_WR)
                got = b""
                while True:
                    d = c.recv(16384)
                    if not d: break
                    got += d; time.sleep(0.0005)
                if got: print(len(got), got[-8:].decode().strip()); sys.exit(0)
            except OSError:
                pass
            time.sleep(0.1)
        sys.exit(1)
        """
        let output = try NetnsSupport.runChecked(["python3", "-c", client])
        await forwarder.close()
        try await group.shutdownGracefully()
        // 12,000,000 bytes, a space, the request length (200000) and a newline.
        #expect(output.trimmingCharacters(in: .whitespacesAndNewlines) == "12000008 200000")
    }
}
