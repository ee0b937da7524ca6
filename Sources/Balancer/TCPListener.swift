import BalancerCore
import CLinuxExtras
import Glibc
import KubeAPI
import ProxyCore
import LinuxSystem

/// One loop's socket of a TCP listener, and the backend set new connections use.
final class TCPListener {
    let key: ListenerKey
    let port: UInt16
    let fd: Int32
    var token: UInt64 = 0
    var backends: BackendSet

    init(key: ListenerKey, port: UInt16, fd: Int32, backends: BackendSet) {
        self.key = key; self.port = port; self.fd = fd; self.backends = backends
    }
}

extension EventLoop {
    func openTCPListener(_ binding: ListenerBinding) throws(SystemError) -> TCPListener {
        let fd = try boundSocket(binding.key, port: binding.port, type: Int32(SOCK_STREAM.rawValue))
        do {
            // Accepted connections inherit TCP_NODELAY from the listening socket: one setsockopt per listener.
            try Sys.setOption(fd, Int32(IPPROTO_TCP), TCP_NODELAY, 1, "TCP_NODELAY")
            try Sys.check("listen", "\(binding.key) port \(binding.port)") { listen(fd, 4096) }
            let l = TCPListener(key: binding.key, port: binding.port, fd: fd, backends: binding.backends)
            l.token = try register(fd, .tcpListener(l), events: EPOLLIN.rawValue)
            return l
        } catch {
            Sys.close(fd)
            throw error
        }
    }

    func closeListener(_ l: TCPListener) {
        release(l.token)
        Sys.close(l.fd)
    }

    /// Accepts what is queued (a bounded batch, so one busy listener cannot starve the loop) and starts
    /// each connection's first connect.
    func acceptAll(_ l: TCPListener) {
        for _ in 0..<64 {
            var peer = SocketAddress()
            let (fd, e) = Sys.retrying {
                withUnsafeMutablePointer(to: &peer.storage) { p in
                    p.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                        accept4(l.fd, $0, &peer.length, Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue))
                    }
                }
            }
            guard e == 0 else {
                if e != EAGAIN && e != EWOULDBLOCK && e != ECONNABORTED { logger.warning("accept on \(l.key): errno \(e)") }
                return
            }
            counters.accepted.add(1, ordering: .relaxed)
            guard !l.backends.isEmpty, let client = peer.endpoint?.address else {
                counters.refused.add(1, ordering: .relaxed)
                Sys.resetAndClose(fd)
                continue
            }
            let relay = Relay(client: fd, clientAddress: client, scope: l.key.scope, backends: l.backends)
            relays += 1
            counters.openConnections.add(1, ordering: .relaxed)
            relay.start(loop: self)
        }
    }
}
