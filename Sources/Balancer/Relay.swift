import BalancerCore
import CLinuxExtras
import Glibc
import KubeAPI
import LinuxSystem
import ProxyCore
import Values

/// One direction of a relayed connection: bytes read from one side and not yet written to the other, and
/// whether the source has ended.
struct Flow {
    /// Bytes waiting for the destination (a partial write), in a buffer of this connection's own.
    var buffer: UnsafeMutableRawPointer?
    var start = 0, end = 0
    /// Splice mode: a pipe the bytes go through, and how many sit in it.
    var pipe: (read: Int32, write: Int32)?
    var inPipe = 0
    /// Consecutive reads that filled the whole read buffer: bulk traffic, where splice pays.
    var fullReads = 0
    /// Bytes read from the source so far.
    var bytes = 0
    /// The source sent FIN.
    var ended = false
    /// FIN passed on to the destination.
    var shut = false

    var pending: Bool { end > start || inPipe > 0 }

    mutating func free() {
        buffer?.deallocate()
        buffer = nil
        if let p = pipe { Sys.close(p.read); Sys.close(p.write) }
        pipe = nil
    }
}

/// What epoll last told about one side, under edge triggering: readable until a read comes back short or
/// with EAGAIN, writable until a write is partial or EAGAIN, and whether the peer's FIN has arrived.
struct SideReadiness {
    var readable = false
    var writable = false
    var peerClosed = false

    mutating func note(_ events: UInt32) {
        if events & (EPOLLIN.rawValue | EPOLLRDHUP.rawValue | EPOLLHUP.rawValue | EPOLLERR.rawValue) != 0 { readable = true }
        if events & (EPOLLOUT.rawValue | EPOLLHUP.rawValue | EPOLLERR.rawValue) != 0 { writable = true }
        if events & (EPOLLRDHUP.rawValue | EPOLLHUP.rawValue) != 0 { peerClosed = true }
    }
}

/// A relayed TCP connection: the client side accepted by a loop, the upstream side connected by the same
/// loop to the endpoint the backend set picked (retried on others when a connect fails or times out).
///
/// Both sides are registered once, edge-triggered, for input, output and the peer's FIN, so relaying never
/// changes epoll interest: the relay remembers each side's readiness (`SideReadiness`) and moves bytes while
/// a source is readable and its destination writable. A destination that stops taking bytes (back-pressure)
/// stops reads from the source until its EPOLLOUT edge. A read shorter than the buffer drained the socket
/// (the next arrival raises a new edge), and a short read after the peer's FIN is the end of the stream, so
/// a request/response exchange costs one read and one send per direction.
final class Relay {
    enum State { case connecting, relaying, closed }

    let client: Int32
    let clientAddress: IPAddress
    /// The scope of the listener that accepted it: a `local` one may connect from the client's address.
    let scope: ListenerScope
    let backends: BackendSet
    var upstream: Int32 = -1
    var clientToken: UInt64 = 0
    var upstreamToken: UInt64 = 0
    var clientRegistered = false
    var state = State.connecting
    var backend: BackendStats?
    var tried: [BackendStats] = []
    var attempt = 0
    var clientSide = SideReadiness(), upstreamSide = SideReadiness()
    /// client → upstream and upstream → client.
    var up = Flow(), down = Flow()
    /// When bytes last went to the endpoint with no answer yet (loop clock), for its latency estimate.
    var awaitingAnswerSince: Int64 = 0
    /// On the loop's ready list: a flow stopped at its per-turn budget with its source still readable.
    var queued = false
    /// The errno that ended the relay, for the log.
    var failure: Int32 = 0

    static let bufferSize = 64 * 1024
    static let pipeSize: Int32 = 256 * 1024
    /// Reads that fill the buffer this many times in a row switch a flow to splice.
    static let spliceAfter = 4
    /// Reads (or splices) per flow per turn, so one bulk connection cannot starve the loop's others.
    static let readsPerTurn = 8
    /// Every side's interest, for the connection's whole life.
    static let events = EPOLLIN.rawValue | EPOLLOUT.rawValue | EPOLLRDHUP.rawValue | EPOLLET.rawValue

    init(client: Int32, clientAddress: IPAddress, scope: ListenerScope, backends: BackendSet) {
        self.client = client; self.clientAddress = clientAddress; self.scope = scope; self.backends = backends
    }

    /// Registers the client side and starts the first connect; resets the client if it cannot be watched.
    func start(loop: EventLoop) {
        do {
            clientToken = try loop.register(client, .relay(self, upstream: false), events: Self.events)
            clientRegistered = true
        } catch {
            return abort(loop: loop)
        }
        connectNext(loop: loop)
    }

    // MARK: connecting

    /// Picks an endpoint not tried yet and starts a non-blocking connect; resets the client when none is left.
    func connectNext(loop: EventLoop) {
        guard attempt < loop.config.retry.tries,
              let b = backends.pick(client: clientAddress, now: loop.now, excluding: tried, random: &loop.random) else {
            loop.counters.refused.add(1, ordering: .relaxed)
            abort(loop: loop)
            return
        }
        if attempt > 0 { loop.counters.retries.add(1, ordering: .relaxed) }
        backend = b
        b.connectStarted()
        let ep = b.endpoint
        let (fd, e) = Sys.retrying {
            socket(ep.address.isIPv4 ? AF_INET : AF_INET6, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        }
        guard e == 0 else { return connectFailed(errno: e, loop: loop) }
        upstream = fd
        upstreamSide = SideReadiness()
        var one: Int32 = 1
        _ = setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        loop.keepClientAddress(fd, client: clientAddress, scope: scope, endpoint: ep.address)
        let address = SocketAddress(ep.address, port: ep.port)
        let (_, ce) = Sys.retrying { address.withSockaddr { connect(fd, $0, $1) } }
        if ce != 0 && ce != EINPROGRESS { return connectFailed(errno: ce, loop: loop) }
        do {
            upstreamToken = try loop.register(fd, .relay(self, upstream: true), events: Self.events)
        } catch {
            return connectFailed(errno: error.errno, loop: loop)
        }
        loop.timers.add(loop.now + loop.config.retry.timeout(attempt: attempt).nanos, .connectTimeout(self, attempt: attempt))
    }

    func connectTimedOut(attempt: Int, loop: EventLoop) {
        guard state == .connecting, attempt == self.attempt, upstream >= 0 else { return }
        connectFailed(errno: ETIMEDOUT, loop: loop)
    }

    private func connectFailed(errno: Int32, loop: EventLoop) {
        if upstream >= 0 {
            loop.release(upstreamToken)
            Sys.close(upstream)
            upstream = -1
        }
        loop.counters.connectFailures.add(1, ordering: .relaxed)
        if let b = backend {
            if b.connectFailed(now: loop.now, policy: backends.health) {
                loop.logger.warning("endpoint \(b.endpoint) of \(backends.key) ejected after repeated connect failures (last: errno \(errno))")
            }
            tried.append(b)
        }
        backend = nil
        attempt += 1
        connectNext(loop: loop)
    }

    // MARK: events

    func handle(_ events: UInt32, upstream isUpstream: Bool, loop: EventLoop) {
        switch state {
        case .closed:
            return
        case .connecting:
            if !isUpstream {
                // The client is watched from the start: remember what it sent, give up if it went away.
                clientSide.note(events)
                if events & (EPOLLHUP.rawValue | EPOLLERR.rawValue) != 0 { abort(loop: loop) }
                return
            }
            if events & (EPOLLERR.rawValue | EPOLLHUP.rawValue) != 0 {
                let e = Sys.socketError(upstream)
                return connectFailed(errno: e == 0 ? ECONNREFUSED : e, loop: loop)
            }
            guard events & EPOLLOUT.rawValue != 0 else { return }
            backend?.connectSucceeded()
            state = .relaying
            upstreamSide.note(events)
        case .relaying:
            if isUpstream { upstreamSide.note(events) } else { clientSide.note(events) }
        }
        progress(loop: loop)
    }

    /// Moves bytes both ways as far as readiness allows; closes the relay when both flows are done.
    func progress(loop: EventLoop) {
        guard state == .relaying else { return }
        // The flow functions report failure instead of closing: closing frees both flows, which must not
        // happen while one of them is being modified (an exclusivity violation).
        var more = false
        let sentBefore = up.bytes, receivedBefore = down.bytes
        guard advance(&up, from: client, &clientSide, to: upstream, &upstreamSide, otherOver: down.ended && !down.pending, more: &more, loop: loop),
              advance(&down, from: upstream, &upstreamSide, to: client, &clientSide, otherOver: up.ended && !up.pending, more: &more, loop: loop) else {
            return failed(loop: loop)
        }
        // The endpoint's response latency: from bytes sent to it to its first bytes back, per exchange.
        if down.bytes != receivedBefore, awaitingAnswerSince > 0 {
            backend?.recordLatency(loop.now - awaitingAnswerSince, now: loop.now)
            awaitingAnswerSince = 0
        }
        if up.bytes != sentBefore, awaitingAnswerSince == 0 { awaitingAnswerSince = loop.now }
        if up.ended && down.ended && !up.pending && !down.pending { return finish(loop: loop) }
        if more && !queued {
            queued = true
            loop.ready.append(self)
        }
    }

    /// One direction: flushes what waits for the destination, then reads while the source is readable and
    /// the destination takes everything; passes the source's FIN on once nothing waits, unless the other
    /// direction is over too (`otherOver`: then closing both sides sends it). `more`: stopped at the turn's
    /// budget with bytes still readable.
    private func advance(_ flow: inout Flow, from source: Int32, _ src: inout SideReadiness, to destination: Int32,
                         _ dst: inout SideReadiness, otherOver: Bool, more: inout Bool, loop: EventLoop) -> Bool {
        if flow.pending {
            guard dst.writable else { return true }
            guard flush(&flow, to: destination, &dst) else { return false }
            if flow.pending { return true }
        }
        var reads = 0
        while !flow.ended && src.readable && dst.writable && !flow.pending {
            if reads == Self.readsPerTurn { more = true; return true }
            reads += 1
            guard flow.pipe == nil ? readOnce(&flow, from: source, &src, to: destination, &dst, loop: loop)
                                   : spliceOnce(&flow, from: source, &src, to: destination, &dst) else { return false }
        }
        if flow.ended && !flow.pending && !flow.shut {
            flow.shut = true
            if !otherOver { _ = Sys.retrying { shutdown(destination, Int32(SHUT_WR)) } }
        }
        return true
    }

    private func readOnce(_ flow: inout Flow, from source: Int32, _ src: inout SideReadiness, to destination: Int32,
                          _ dst: inout SideReadiness, loop: EventLoop) -> Bool {
        switch Sys.read(source, loop.scratch, loop.scratchSize) {
        case .moved(0):
            flow.ended = true
            src.readable = false
        case .moved(let n):
            flow.bytes += n
            if n < loop.scratchSize {
                // Drained; after the peer's FIN, that was the last of the stream.
                src.readable = false
                if src.peerClosed { flow.ended = true }
                flow.fullReads = 0
            } else {
                flow.fullReads += 1
            }
            guard write(&flow, loop.scratch, n, to: destination, &dst) else { return false }
            if flow.fullReads >= Self.spliceAfter && !flow.ended { startSplicing(&flow) }
        case .wouldBlock:
            src.readable = false
        case .failed(let e):
            failure = e
            return false
        }
        return true
    }

    private func write(_ flow: inout Flow, _ bytes: UnsafeMutableRawPointer, _ count: Int, to destination: Int32, _ dst: inout SideReadiness) -> Bool {
        var written = 0
        switch Sys.write(destination, bytes, count) {
        case .moved(let n): written = n
        case .wouldBlock: written = 0
        case .failed(let e): failure = e; return false
        }
        guard written < count else { return true }
        // Back-pressure: keep the rest and read no more from this flow's source until the destination drains.
        dst.writable = false
        if flow.buffer == nil { flow.buffer = UnsafeMutableRawPointer.allocate(byteCount: Self.bufferSize, alignment: 16) }
        guard let buffer = flow.buffer else { return false }
        buffer.copyMemory(from: bytes + written, byteCount: count - written)
        flow.start = 0
        flow.end = count - written
        return true
    }

    /// Writes what the flow holds. False when the destination failed.
    private func flush(_ flow: inout Flow, to destination: Int32, _ dst: inout SideReadiness) -> Bool {
        if let pipe = flow.pipe, flow.inPipe > 0 {
            switch Sys.splice(pipe.read, destination, flow.inPipe) {
            case .moved(let n): flow.inPipe -= n
            case .wouldBlock: break
            case .failed(let e): failure = e; return false
            }
        } else if let buffer = flow.buffer, flow.end > flow.start {
            switch Sys.write(destination, buffer + flow.start, flow.end - flow.start) {
            case .moved(let n):
                flow.start += n
                if flow.start == flow.end { flow.start = 0; flow.end = 0 }
            case .wouldBlock: break
            case .failed(let e): failure = e; return false
            }
        }
        if flow.pending { dst.writable = false }
        return true
    }

    // MARK: splice

    private func startSplicing(_ flow: inout Flow) {
        guard flow.pipe == nil, !flow.pending else { return }
        var fds: [Int32] = [-1, -1]
        let (_, e) = Sys.retrying { pipe2(&fds, O_NONBLOCK | O_CLOEXEC) }
        guard e == 0 else { return }  // stay on read/write
        _ = fcntl(fds[1], KP_F_SETPIPE_SZ, Self.pipeSize)
        flow.pipe = (fds[0], fds[1])
    }

    /// Source → pipe → destination without copying through user space. A splice can stop short of what the
    /// socket holds (the pipe runs out of slots), so the source stays readable until EAGAIN.
    private func spliceOnce(_ flow: inout Flow, from source: Int32, _ src: inout SideReadiness, to destination: Int32,
                            _ dst: inout SideReadiness) -> Bool {
        guard let pipe = flow.pipe else { return true }
        switch Sys.splice(source, pipe.write, Int(Self.pipeSize)) {
        case .moved(0):
            flow.ended = true
            src.readable = false
            return true
        case .moved(let n):
            flow.inPipe += n
            flow.bytes += n
        case .wouldBlock:
            src.readable = false
            return true
        case .failed(let e):
            failure = e
            return false
        }
        return flush(&flow, to: destination, &dst)
    }

    // MARK: teardown

    /// Both flows ended and were passed on: close both sides (a close sends the last FIN).
    private func finish(loop: EventLoop) {
        close(loop: loop, reset: false)
    }

    /// A read, write or splice failed: reset both sides (a reset from one side reaches the other).
    private func failed(loop: EventLoop) {
        if failure != ECONNRESET && failure != EPIPE {
            loop.logger.debug("connection from \(clientAddress) via \(backends.key) reset: \(String(cString: strerror(failure)))")
        }
        abort(loop: loop)
    }

    /// An error on either side (or no endpoint left): reset both.
    func abort(loop: EventLoop) {
        close(loop: loop, reset: true)
    }

    private func close(loop: EventLoop, reset: Bool) {
        guard state != .closed else { return }
        let wasRelaying = state == .relaying
        state = .closed
        if clientRegistered { loop.release(clientToken) }
        if reset { Sys.resetAndClose(client) } else { Sys.close(client) }
        if upstream >= 0 {
            loop.release(upstreamToken)
            if reset { Sys.resetAndClose(upstream) } else { Sys.close(upstream) }
            upstream = -1
        }
        if wasRelaying {
            backend?.closed()
        } else {
            backend?.pending.subtract(1, ordering: .relaxed)  // a connect abandoned (drain, client gone)
        }
        backend = nil
        up.free()
        down.free()
        loop.relays -= 1
        loop.counters.openConnections.subtract(1, ordering: .relaxed)
    }
}
