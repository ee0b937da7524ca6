import CLinuxExtras
import DNSCore
import Foundation
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

    let fd: Int32
    let localAddress: SocketAddress
    private let processor: QueryProcessor
    private let stopping = Atomic<Bool>(false)
    private let finished = DispatchSemaphore(value: 0)

    /// Binds a socket on `address` (port 0: the kernel picks; later workers pass the port chosen).
    init(address: SocketAddress, processor: QueryProcessor) throws {
        let family = address.protocol.rawValue
        let fd = socket(family, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw IOError(errnoCode: errno, reason: "socket") }
        func option(_ level: Int32, _ name: Int32, _ value: Int32) {
            var v = value
            setsockopt(fd, level, name, &v, socklen_t(MemoryLayout<Int32>.size))
        }
        option(SOL_SOCKET, SO_REUSEADDR, 1)
        option(SOL_SOCKET, SO_REUSEPORT, 1)
        option(SOL_SOCKET, SO_RCVBUF, 4 << 20)
        // The thread wakes at least this often to notice `stop()`.
        var timeout = timeval(tv_sec: 0, tv_usec: 200_000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let status = address.withSockAddr { bind(fd, $0, socklen_t($1)) }
        guard status == 0 else {
            let code = errno
            close(fd)
            throw IOError(errnoCode: code, reason: "bind \(address)")
        }
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        _ = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        self.fd = fd
        self.processor = processor
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
        close(fd)
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
            let received = kp_recvmmsg(fd, receive, UInt32(batch))
            if received <= 0 {
                if received < 0, errno != EAGAIN, errno != EWOULDBLOCK, errno != EINTR { return }
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
                let n = kp_sendmmsg(fd, send + sent, UInt32(answered - sent))
                if n < 0 {
                    if errno == EINTR { continue }
                    break  // the client's problem (e.g. ICMP unreachable): drop the rest of this batch
                }
                sent += Int(n)
            }
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
            withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { sendto(fd, raw.baseAddress, raw.count, 0, $0, length) }
            }
        }
    }
}
