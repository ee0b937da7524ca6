import CLinuxExtras
import DNSCore
import Foundation
import LinuxSystem
import Logging
import NIOCore
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// One UDP socket (SO_REUSEPORT, one per thread) served by a dedicated thread: `recvmmsg` a batch, answer
/// in place what the response cache knows, `sendmmsg` those answers together; every other query goes to
/// `QueryProcessor.handle`, whose reply is sent with `sendto` from whichever thread completes it (UDP
/// sends on one socket from several threads are safe). No event loop or allocation per cached answer.
final class UDPWorker: @unchecked Sendable {
    static let batch = 64
    /// Receive buffer per datagram: a query larger than this is truncated by the kernel and answered FORMERR.
    static let datagramSize = 4096
    /// Cached answers are at most the EDNS limit we advertise; room to spare.
    static let responseSize = 4096

    /// The socket. Its number never changes: a restart puts a fresh socket under it (`Sys.replace`), so
    /// replies sent from other threads never reach a reused descriptor.
    let fd: Int32
    let localAddress: SocketAddress
    private let processor: QueryProcessor
    private let logger: Logger
    private let receive: Receive
    private let stopping = Atomic<Bool>(false)
    private let finished = DispatchSemaphore(value: 0)

    /// `recvmmsg` (a seam for tests that inject failures).
    typealias Receive = @Sendable (Int32, UnsafeMutablePointer<kp_mmsghdr>, UInt32) -> Int32
    /// Errors that say the socket is fine and the moment is not: wait a little and receive again.
    static let transientErrors: Set<Int32> = [ENOMEM, ENOBUFS]
    /// The pause before receiving again after an error, so a persistent fault cannot spin a core.
    static let errorPause: useconds_t = 100_000

    /// Binds a socket on `address` (port 0: the kernel picks; later workers pass the port chosen).
    init(address: SocketAddress, processor: QueryProcessor, logger: Logger,
         receive: @escaping Receive = { kp_recvmmsg($0, $1, $2) }) throws {
        let fd = try Self.openSocket(address)
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        do {
            try Sys.check("getsockname", "\(address)") {
                withUnsafeMutablePointer(to: &storage) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
            }
        } catch {
            Sys.close(fd)
            throw error
        }
        self.fd = fd
        self.processor = processor
        self.logger = logger
        self.receive = receive
        var bound = address
        let isIPv6 = storage.ss_family == sa_family_t(AF_INET6)
        let port: UInt16 = withUnsafePointer(to: &storage) { pointer in
            if isIPv6 {
                return pointer.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { UInt16(bigEndian: $0.pointee.sin6_port) }
            }
            return pointer.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { UInt16(bigEndian: $0.pointee.sin_port) }
        }
        if let ip = address.ipAddress, let withPort = try? SocketAddress(ipAddress: ip, port: Int(port)) { bound = withPort }
        self.localAddress = bound
    }

    /// A UDP socket bound to `address` in the SO_REUSEPORT group, every option checked.
    static func openSocket(_ address: SocketAddress) throws(SystemError) -> Int32 {
        let fd = try Sys.check("socket", "UDP \(address)") { socket(address.protocol.rawValue, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0) }
        do {
            try Sys.setOption(fd, SOL_SOCKET, SO_REUSEADDR, 1, "SO_REUSEADDR")
            try Sys.setOption(fd, SOL_SOCKET, SO_REUSEPORT, 1, "SO_REUSEPORT")
            try Sys.setOption(fd, SOL_SOCKET, SO_RCVBUF, 4 << 20, "SO_RCVBUF")
            // The thread wakes at least this often to notice `stop()`.
            try Sys.setOption(fd, SOL_SOCKET, SO_RCVTIMEO, value: timeval(tv_sec: 0, tv_usec: 200_000), "SO_RCVTIMEO")
            try Sys.check("bind", "UDP \(address)") { address.withSockAddr { bind(fd, $0, socklen_t($1)) } }
        } catch {
            Sys.close(fd)
            throw error
        }
        return fd
    }

    /// Puts a fresh socket bound to the same address under `fd`; the broken one leaves the SO_REUSEPORT
    /// group as it closes, so the kernel stops handing it datagrams.
    private func reopen() throws(SystemError) {
        let fresh = try Self.openSocket(localAddress)
        defer { Sys.close(fresh) }
        try Sys.replace(fd, with: fresh, "UDP \(localAddress)")
    }

    func start() {
        let thread = Thread { [self] in
            serve()
            finished.signal()
        }
        thread.name = "kproxy-dns-udp"
        thread.start()
    }

    /// Stops the thread (within the receive timeout) and closes the socket.
    func stop() {
        stopping.store(true, ordering: .relaxed)
        finished.wait()
        Sys.close(fd)
    }

    private func serve() {
        let batch = Self.batch
        let input = UnsafeMutableRawPointer.allocate(byteCount: batch * Self.datagramSize, alignment: 16)
        let output = UnsafeMutableRawPointer.allocate(byteCount: batch * Self.responseSize, alignment: 16)
        let receive = UnsafeMutablePointer<kp_mmsghdr>.allocate(capacity: batch)
        let send = UnsafeMutablePointer<kp_mmsghdr>.allocate(capacity: batch)
        let receiveVectors = UnsafeMutablePointer<iovec>.allocate(capacity: batch)
        let sendVectors = UnsafeMutablePointer<iovec>.allocate(capacity: batch)
        let peers = UnsafeMutablePointer<sockaddr_storage>.allocate(capacity: batch)
        let sendPeers = UnsafeMutablePointer<sockaddr_storage>.allocate(capacity: batch)
        defer {
            input.deallocate(); output.deallocate(); receive.deallocate(); send.deallocate()
            receiveVectors.deallocate(); sendVectors.deallocate(); peers.deallocate(); sendPeers.deallocate()
        }
        let storageSize = socklen_t(MemoryLayout<sockaddr_storage>.size)
        for i in 0..<batch {
            receiveVectors[i] = iovec(iov_base: input + i * Self.datagramSize, iov_len: Self.datagramSize)
            sendVectors[i] = iovec(iov_base: output + i * Self.responseSize, iov_len: 0)
            receive[i] = kp_mmsghdr()
            send[i] = kp_mmsghdr()
        }
        while !stopping.load(ordering: .relaxed) {
            for i in 0..<batch {
                receive[i].msg_hdr.msg_name = UnsafeMutableRawPointer(peers + i)
                receive[i].msg_hdr.msg_namelen = storageSize
                receive[i].msg_hdr.msg_iov = receiveVectors + i
                receive[i].msg_hdr.msg_iovlen = 1
                receive[i].msg_len = 0
            }
            let (received, error) = Sys.retrying { self.receive(fd, receive, UInt32(batch)) }
            if received <= 0 {
                if error != 0, error != EAGAIN, error != EWOULDBLOCK, !recover(from: error) { return }
                continue
            }
            var answered = 0
            for i in 0..<Int(received) {
                let packet = UnsafeRawBufferPointer(start: input + i * Self.datagramSize, count: Int(receive[i].msg_len))
                let ipv6 = peers[i].ss_family == sa_family_t(AF_INET6)
                let transport = QueryProcessor.Transport(tcp: false, ipv6: ipv6)
                let slot = UnsafeMutableRawBufferPointer(start: output + answered * Self.responseSize, count: Self.responseSize)
                if let length = processor.answerFromCache(packet, transport: transport, into: slot) {
                    sendPeers[answered] = peers[i]
                    sendVectors[answered].iov_len = length
                    send[answered].msg_hdr.msg_name = UnsafeMutableRawPointer(sendPeers + answered)
                    send[answered].msg_hdr.msg_namelen = receive[i].msg_hdr.msg_namelen
                    send[answered].msg_hdr.msg_iov = sendVectors + answered
                    send[answered].msg_hdr.msg_iovlen = 1
                    answered += 1
                } else {
                    let peer = Peer(address: peers[i], length: receive[i].msg_hdr.msg_namelen)
                    let fd = self.fd
                    processor.handle(Array(packet), transport: transport) { bytes in peer.send(bytes, on: fd) }
                }
            }
            var sent = 0
            while sent < answered {
                let (n, _) = Sys.retrying { kp_sendmmsg(fd, send + sent, UInt32(answered - sent)) }
                if n < 0 { break }  // the client's problem (e.g. ICMP unreachable): drop the rest of this batch
                sent += Int(n)
            }
        }
    }

    /// After a receive error: logs and counts it, then waits out a transient one or replaces the socket.
    /// Returns false (the thread ends) only when no socket can be bound any more; the broken one is then
    /// closed all the same (/dev/null takes its descriptor number), so the group's other sockets get its share.
    private func recover(from error: Int32) -> Bool {
        processor.metrics.udpReceiveError()
        let failure = SystemError("recvmmsg", "UDP \(localAddress)", errno: error)
        // Pause after recovering, so a persistent fault cannot spin a core.
        defer { usleep(Self.errorPause) }
        if Self.transientErrors.contains(error) {
            logger.warning("DNS UDP worker: \(failure); receiving again")
            return true
        }
        do {
            try reopen()
            processor.metrics.udpSocketRestart()
            logger.error("DNS UDP worker: \(failure); replaced the socket and serving again")
            return true
        } catch {
            logger.critical("DNS UDP worker: \(failure); could not replace the socket (\(error)), this worker stops")
            let null = open("/dev/null", O_RDONLY | O_CLOEXEC)
            if null >= 0 {
                try? Sys.replace(fd, with: null, "UDP \(localAddress)")
                Sys.close(null)
            }
            return false
        }
    }
}

/// A client address, carried to a reply sent later from another thread.
struct Peer: @unchecked Sendable {
    var address: sockaddr_storage
    var length: socklen_t

    func send(_ bytes: [UInt8], on fd: Int32) {
        var address = self.address
        _ = bytes.withUnsafeBytes { raw in
            withUnsafePointer(to: &address) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { peer in
                    Sys.retrying { sendto(fd, raw.baseAddress, raw.count, 0, peer, length) }
                }
            }
        }
    }
}
