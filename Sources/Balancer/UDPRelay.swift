import BalancerCore
import CLinuxExtras
import Glibc
import KubeAPI
import ProxyCore
import LinuxSystem
import Values

/// An address and port: a client flow of a UDP listener, or a Service address it was sent to.
struct UDPFlowKey: Hashable {
    var address: IPAddress
    var port: UInt16
}

/// One loop's socket of a UDP listener: its sessions and the backend set new ones use.
final class UDPListener {
    let key: ListenerKey
    let port: UInt16
    let fd: Int32
    var token: UInt64 = 0
    var backends: BackendSet
    var sessions: [UDPFlowKey: UDPSession] = [:]
    /// Transparent sockets bound to the Service addresses clients sent to, which replies leave from (the
    /// listener's own socket is bound to loopback and a listener port). One per address, closed with the
    /// listener; receiving nothing (tproxy hands the Service's datagrams to the listener, and their addresses
    /// are not local otherwise).
    var replySockets: [UDPFlowKey: Int32] = [:]

    init(key: ListenerKey, port: UInt16, fd: Int32, backends: BackendSet) {
        self.key = key; self.port = port; self.fd = fd; self.backends = backends
    }
}

/// A client flow pinned to one endpoint through a connected socket, until idle.
final class UDPSession {
    let fd: Int32
    var token: UInt64 = 0
    unowned let listener: UDPListener
    let flow: UDPFlowKey
    let client: SocketAddress
    /// The socket replies go to the client from: bound to the address and port the client sent to (a
    /// listener's reply socket, not owned by the session).
    let replyFD: Int32
    let backend: BackendStats
    var lastActive: Int64

    init(fd: Int32, listener: UDPListener, flow: UDPFlowKey, client: SocketAddress, replyFD: Int32, backend: BackendStats, now: Int64) {
        self.fd = fd; self.listener = listener; self.flow = flow; self.client = client; self.replyFD = replyFD
        self.backend = backend; lastActive = now
    }
}

/// recvmmsg/sendmmsg arrays and their buffers, one set per loop.
final class UDPBatch {
    static let count = 32
    static let size = 64 * 1024
    let buffers: UnsafeMutableRawPointer
    let headers: UnsafeMutablePointer<kp_mmsghdr>
    let iovecs: UnsafeMutablePointer<iovec>
    let names: UnsafeMutablePointer<sockaddr_storage>
    let controls: UnsafeMutableRawPointer

    init() {
        buffers = .allocate(byteCount: Self.count * Self.size, alignment: 16)
        headers = .allocate(capacity: Self.count)
        iovecs = .allocate(capacity: Self.count)
        names = .allocate(capacity: Self.count)
        controls = .allocate(byteCount: Self.count * Int(KP_UDP_CONTROL_SPACE), alignment: 16)
    }

    deinit {
        buffers.deallocate(); headers.deallocate(); iovecs.deallocate(); names.deallocate(); controls.deallocate()
    }

    func buffer(_ i: Int) -> UnsafeMutableRawPointer { buffers + i * Self.size }
    func control(_ i: Int) -> UnsafeMutableRawPointer { controls + i * Int(KP_UDP_CONTROL_SPACE) }

    /// Prepares message `i` to receive into buffer `i`, with room for a peer address and its original destination.
    func prepareReceive(_ i: Int) {
        iovecs[i] = iovec(iov_base: buffer(i), iov_len: Self.size)
        var h = msghdr()
        h.msg_name = UnsafeMutableRawPointer(names + i)
        h.msg_namelen = socklen_t(MemoryLayout<sockaddr_storage>.size)
        h.msg_iov = iovecs + i
        h.msg_iovlen = 1
        h.msg_control = control(i)
        h.msg_controllen = Int(KP_UDP_CONTROL_SPACE)
        headers[i] = kp_mmsghdr(msg_hdr: h, msg_len: 0)
    }
}

extension EventLoop {
    func openUDPListener(_ binding: ListenerBinding) throws(SystemError) -> UDPListener {
        let fd = try boundSocket(binding.key, port: binding.port, type: Int32(SOCK_DGRAM.rawValue))
        do {
            if binding.key.family == .ipv4 {
                try Sys.setOption(fd, Int32(IPPROTO_IP), KP_IP_RECVORIGDSTADDR, 1, "IP_RECVORIGDSTADDR")
            } else {
                try Sys.setOption(fd, Int32(IPPROTO_IPV6), KP_IPV6_RECVORIGDSTADDR, 1, "IPV6_RECVORIGDSTADDR")
            }
            let l = UDPListener(key: binding.key, port: binding.port, fd: fd, backends: binding.backends)
            l.token = try register(fd, .udpListener(l), events: EPOLLIN.rawValue)
            return l
        } catch {
            Sys.close(fd)
            throw error
        }
    }

    func closeListener(_ l: UDPListener) {
        for s in l.sessions.values { closeSession(s) }
        for fd in l.replySockets.values { Sys.close(fd) }
        l.replySockets = [:]
        release(l.token)
        Sys.close(l.fd)
    }

    /// A new backend set: sessions of endpoints that left it end now (no datagram goes to a removed endpoint).
    func updateUDP(_ l: UDPListener, _ backends: BackendSet) {
        let keep = Set(backends.backends.map(ObjectIdentifier.init))
        for s in l.sessions.values where !keep.contains(ObjectIdentifier(s.backend)) { closeSession(s) }
        l.backends = backends
    }

    func closeSession(_ s: UDPSession) {
        s.listener.sessions[s.flow] = nil
        release(s.token)
        Sys.close(s.fd)
        s.backend.closed()
        udpSessionCount -= 1
        counters.udpSessions.subtract(1, ordering: .relaxed)
    }

    /// Datagrams from clients, a batch at a time: each goes to its flow's session (made on first sight).
    func receiveFromClients(_ l: UDPListener) {
        for i in 0..<UDPBatch.count { udp.prepareReceive(i) }
        let (n, e) = Sys.retrying { Int(recvmmsg(l.fd, udp.headers, UInt32(UDPBatch.count), Int32(MSG_DONTWAIT), nil)) }
        guard e == 0, n > 0 else { return }
        counters.udpIn.add(n, ordering: .relaxed)
        for i in 0..<n {
            var peer = SocketAddress()
            withUnsafeMutableBytes(of: &peer.storage) { $0.copyMemory(from: UnsafeRawBufferPointer(start: udp.names + i, count: MemoryLayout<sockaddr_storage>.size)) }
            peer.length = udp.headers[i].msg_hdr.msg_namelen
            guard let (address, port) = peer.endpoint else { continue }
            let flow = UDPFlowKey(address: address, port: port)
            let length = Int(udp.headers[i].msg_len)
            let session = l.sessions[flow] ?? newSession(l, flow: flow, client: peer, message: i)
            guard let session else { counters.udpDropped.add(1, ordering: .relaxed); continue }
            session.lastActive = now
            let (_, se) = Sys.retrying { Glibc.send(session.fd, udp.buffer(i), length, Int32(MSG_NOSIGNAL | MSG_DONTWAIT)) }
            if se != 0 { sessionFailed(session, errno: se) }
        }
    }

    /// The socket that sends from the address a datagram was sent to (its original destination): the
    /// listener's own for one sent to the listener itself, else a transparent socket bound to that address.
    private func replySocket(_ l: UDPListener, message i: Int) -> Int32? {
        var original = SocketAddress()
        let length = withUnsafePointer(to: &udp.headers[i].msg_hdr) { h in
            withUnsafeMutablePointer(to: &original.storage) { kp_original_destination(h, $0) }
        }
        guard length > 0, let (address, port) = original.endpoint else { return nil }
        original.length = socklen_t(length)
        if address == UserspaceSteering.listenAddress(l.key.family) && port == l.port { return l.fd }
        let key = UDPFlowKey(address: address, port: port)
        if let fd = l.replySockets[key] { return fd }
        let what = "reply socket \(address):\(port) of \(l.key)"
        do throws(SystemError) {
            let fd = try Sys.check("socket", what) {
                socket(l.key.family == .ipv4 ? AF_INET : AF_INET6, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            }
            do {
                // SO_REUSEADDR: every loop's listener has one for the same address.
                try Sys.setOption(fd, SOL_SOCKET, SO_REUSEADDR, 1, "SO_REUSEADDR")
                if l.key.family == .ipv6 { try Sys.setOption(fd, Int32(IPPROTO_IPV6), IPV6_V6ONLY, 1, "IPV6_V6ONLY") }
                try Self.makeTransparent(fd, l.key.family)
                try Sys.check("bind", what) { original.withSockaddr { bind(fd, $0, $1) } }
            } catch {
                Sys.close(fd)
                throw error
            }
            l.replySockets[key] = fd
            return fd
        } catch {
            if !replySocketFailureLogged.contains(key) {
                replySocketFailureLogged.insert(key)
                logger.warning("userspace UDP: \(error); datagrams sent there are dropped")
            }
            return nil
        }
    }

    private func newSession(_ l: UDPListener, flow: UDPFlowKey, client: SocketAddress, message i: Int) -> UDPSession? {
        guard let replyFD = replySocket(l, message: i),
              let b = l.backends.pick(client: flow.address, now: now, random: &random) else { return nil }
        b.connectStarted()
        let ep = b.endpoint
        let (fd, e) = Sys.retrying {
            socket(ep.address.isIPv4 ? AF_INET : AF_INET6, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        }
        guard e == 0 else { b.connectFailed(now: now, policy: l.backends.health); return nil }
        keepClientAddress(fd, client: flow.address, scope: l.key.scope, endpoint: ep.address)
        let address = SocketAddress(ep.address, port: ep.port)
        let (_, ce) = Sys.retrying { address.withSockaddr { connect(fd, $0, $1) } }
        guard ce == 0 else { Sys.close(fd); b.connectFailed(now: now, policy: l.backends.health); return nil }
        let s = UDPSession(fd: fd, listener: l, flow: flow, client: client, replyFD: replyFD, backend: b, now: now)
        do {
            s.token = try register(fd, .udpSession(s), events: EPOLLIN.rawValue)
        } catch {
            Sys.close(fd)
            b.connectFailed(now: now, policy: l.backends.health)
            return nil
        }
        b.connectSucceeded()
        l.sessions[flow] = s
        udpSessionCount += 1
        counters.udpSessions.add(1, ordering: .relaxed)
        if !udpSweepScheduled {
            udpSweepScheduled = true
            timers.add(now + 1_000_000_000, .udpSweep)
        }
        return s
    }

    /// Replies from a session's endpoint, a batch at a time, sent back to the client from the address and
    /// port it sent to.
    func receiveFromBackend(_ s: UDPSession) {
        for i in 0..<UDPBatch.count {
            udp.iovecs[i] = iovec(iov_base: udp.buffer(i), iov_len: UDPBatch.size)
            var h = msghdr()
            h.msg_iov = udp.iovecs + i
            h.msg_iovlen = 1
            udp.headers[i] = kp_mmsghdr(msg_hdr: h, msg_len: 0)
        }
        let (n, e) = Sys.retrying { Int(recvmmsg(s.fd, udp.headers, UInt32(UDPBatch.count), Int32(MSG_DONTWAIT), nil)) }
        if e != 0 {
            if e != EAGAIN && e != EWOULDBLOCK { sessionFailed(s, errno: e) }
            return
        }
        guard n > 0 else { return }
        s.lastActive = now
        var client = s.client
        let sent: Int = withUnsafeMutablePointer(to: &client.storage) { name in
            for i in 0..<n {
                udp.iovecs[i].iov_len = Int(udp.headers[i].msg_len)
                var h = msghdr()
                h.msg_name = UnsafeMutableRawPointer(name)
                h.msg_namelen = client.length
                h.msg_iov = udp.iovecs + i
                h.msg_iovlen = 1
                udp.headers[i] = kp_mmsghdr(msg_hdr: h, msg_len: 0)
            }
            let (m, _) = Sys.retrying { Int(sendmmsg(s.replyFD, udp.headers, UInt32(n), Int32(MSG_DONTWAIT))) }
            return max(0, m)
        }
        counters.udpOut.add(sent, ordering: .relaxed)
        if sent < n { counters.udpDropped.add(n - sent, ordering: .relaxed) }
    }

    /// The endpoint answered with an error (ICMP port unreachable: ECONNREFUSED): count it against the
    /// endpoint and end the session, so the flow's next datagram picks again.
    private func sessionFailed(_ s: UDPSession, errno: Int32) {
        counters.udpDropped.add(1, ordering: .relaxed)
        s.backend.connectStarted()
        s.backend.connectFailed(now: now, policy: s.listener.backends.health)
        closeSession(s)
    }

    func sweepUDP() {
        udpSweepScheduled = false
        let idle = config.udpIdleTimeout.nanos
        for l in udpListeners.values {
            for s in l.sessions.values where now - s.lastActive >= idle { closeSession(s) }
        }
        if udpSessionCount > 0 {
            udpSweepScheduled = true
            timers.add(now + min(1_000_000_000, max(idle / 2, 10_000_000)), .udpSweep)
        }
    }
}
