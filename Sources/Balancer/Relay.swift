import BalancerCore
import CLinuxExtras
import Glibc
import KubeAPI

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
    /// The source sent FIN.
    var ended = false
    /// FIN passed on to the destination.
    var shut = false

    var pending: Bool { end > start || inPipe > 0 }
    var done: Bool { ended && shut }

    mutating func free() {
        buffer?.deallocate()
        buffer = nil
        if let p = pipe { Sys.close(p.read); Sys.close(p.write) }
        pipe = nil
    }
}

/// A relayed TCP connection: the client side accepted by a loop, the upstream side connected by the same
/// loop to the endpoint the backend set picked (retried on others when a connect fails or times out).
/// Level-triggered epoll: a side is watched for reading while its flow has nothing pending (back-pressure)
/// and for writing while the other flow has bytes waiting for it.
final class Relay {
    enum State { case connecting, relaying, closed }

    let client: Int32
    let clientAddress: IPAddress
    let backends: BackendSet
    var upstream: Int32 = -1
    var clientToken: UInt64 = 0
    var upstreamToken: UInt64 = 0
    var clientRegistered = false
    var clientEvents: UInt32 = 0
    var upstreamEvents: UInt32 = 0
    var state = State.connecting
    var backend: BackendStats?
    var tried: [BackendStats] = []
    var attempt = 0
    /// client → upstream and upstream → client.
    var up = Flow(), down = Flow()
    /// The errno that ended the relay, for the log.
    var failure: Int32 = 0

    static let bufferSize = 64 * 1024
    static let pipeSize: Int32 = 256 * 1024
    /// Reads that fill the buffer this many times in a row switch a flow to splice.
    static let spliceAfter = 4

    init(client: Int32, clientAddress: IPAddress, backends: BackendSet) {
        self.client = client; self.clientAddress = clientAddress; self.backends = backends
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
        var one: Int32 = 1
        _ = setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        let address = SocketAddress(ep.address, port: ep.port)
        let (_, ce) = Sys.retrying { address.withSockaddr { connect(fd, $0, $1) } }
        if ce != 0 && ce != EINPROGRESS { return connectFailed(errno: ce, loop: loop) }
        do {
            upstreamToken = try loop.register(fd, .relay(self, upstream: true), events: EPOLLOUT.rawValue)
            upstreamEvents = EPOLLOUT.rawValue
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

    private func connected(loop: EventLoop) {
        backend?.connectSucceeded()
        state = .relaying
        do {
            clientToken = try loop.register(client, .relay(self, upstream: false), events: EPOLLIN.rawValue)
            clientRegistered = true
            clientEvents = EPOLLIN.rawValue
        } catch {
            return abort(loop: loop)
        }
        upstreamEvents = EPOLLIN.rawValue
        loop.modify(upstream, token: upstreamToken, events: upstreamEvents)
    }

    // MARK: events

    func handle(_ events: UInt32, upstream isUpstream: Bool, loop: EventLoop) {
        if state == .connecting {
            guard isUpstream else { return }
            let e = Sys.socketError(upstream)
            if e == 0 && events & EPOLLERR.rawValue == 0 { connected(loop: loop) } else { connectFailed(errno: e == 0 ? ECONNREFUSED : e, loop: loop) }
            return
        }
        guard state == .relaying else { return }
        let readable = events & (EPOLLIN.rawValue | EPOLLHUP.rawValue | EPOLLERR.rawValue) != 0
        // The flow functions report failure instead of closing: closing frees both flows, which must not
        // happen while one of them is being modified (an exclusivity violation).
        if events & EPOLLOUT.rawValue != 0 {
            // The other flow has bytes waiting for this side.
            let ok = isUpstream ? flush(&up, to: upstream) : flush(&down, to: client)
            guard ok else { return failed(loop: loop) }
        }
        if readable {
            let ok = isUpstream ? pump(&down, from: upstream, to: client, loop: loop) : pump(&up, from: client, to: upstream, loop: loop)
            guard ok else { return failed(loop: loop) }
        }
        if up.done && down.done { return finish(loop: loop) }
        updateInterest(loop: loop)
    }

    /// Moves what `source` has to `destination`; false when either side failed.
    private func pump(_ flow: inout Flow, from source: Int32, to destination: Int32, loop: EventLoop) -> Bool {
        guard !flow.ended, !flow.pending else { return true }
        if flow.pipe != nil { return splicePump(&flow, from: source, to: destination) }
        switch Sys.read(source, loop.scratch, loop.scratchSize) {
        case .moved(0):
            ended(&flow, destination: destination)
        case .moved(let n):
            flow.fullReads = n == loop.scratchSize ? flow.fullReads + 1 : 0
            guard write(&flow, loop.scratch, n, to: destination) else { return false }
            if flow.fullReads >= Self.spliceAfter { startSplicing(&flow) }
        case .wouldBlock:
            break
        case .failed(let e):
            failure = e
            return false
        }
        return true
    }

    private func write(_ flow: inout Flow, _ bytes: UnsafeMutableRawPointer, _ count: Int, to destination: Int32) -> Bool {
        var written = 0
        switch Sys.write(destination, bytes, count) {
        case .moved(let n): written = n
        case .wouldBlock: written = 0
        case .failed(let e): failure = e; return false
        }
        guard written < count else { return true }
        // Back-pressure: keep the rest and stop reading this flow's source until the destination drains.
        if flow.buffer == nil { flow.buffer = UnsafeMutableRawPointer.allocate(byteCount: Self.bufferSize, alignment: 16) }
        guard let buffer = flow.buffer else { return false }
        buffer.copyMemory(from: bytes + written, byteCount: count - written)
        flow.start = 0
        flow.end = count - written
        return true
    }

    /// Writes what the flow holds; once empty, passes on a pending FIN. False when the destination failed.
    private func flush(_ flow: inout Flow, to destination: Int32) -> Bool {
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
        if flow.ended && !flow.pending && !flow.shut { ended(&flow, destination: destination) }
        return true
    }

    private func ended(_ flow: inout Flow, destination: Int32) {
        flow.ended = true
        guard !flow.pending, !flow.shut else { return }
        _ = Sys.retrying { shutdown(destination, Int32(SHUT_WR)) }
        flow.shut = true
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

    /// Source → pipe → destination without copying through user space.
    private func splicePump(_ flow: inout Flow, from source: Int32, to destination: Int32) -> Bool {
        guard let pipe = flow.pipe else { return true }
        switch Sys.splice(source, pipe.write, Int(Self.pipeSize)) {
        case .moved(0):
            ended(&flow, destination: destination)
            return true
        case .moved(let n):
            flow.inPipe += n
        case .wouldBlock:
            return true
        case .failed(let e):
            failure = e
            return false
        }
        switch Sys.splice(pipe.read, destination, flow.inPipe) {
        case .moved(let n): flow.inPipe -= n
        case .wouldBlock: break
        case .failed(let e): failure = e; return false
        }
        return true
    }

    // MARK: interest and teardown

    private func updateInterest(loop: EventLoop) {
        let input = EPOLLIN.rawValue
        var c: UInt32 = 0, u: UInt32 = 0
        if !up.ended && !up.pending { c |= input }
        if down.pending { c |= EPOLLOUT.rawValue }
        if !down.ended && !down.pending { u |= input }
        if up.pending { u |= EPOLLOUT.rawValue }
        if c != clientEvents { clientEvents = c; loop.modify(client, token: clientToken, events: c) }
        if u != upstreamEvents { upstreamEvents = u; loop.modify(upstream, token: upstreamToken, events: u) }
    }

    /// Both flows ended and were passed on: close both sides.
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
            backend?.pending.subtract(1, ordering: .relaxed)  // a connect abandoned (drain)
        }
        backend = nil
        up.free()
        down.free()
        loop.relays -= 1
        loop.counters.openConnections.subtract(1, ordering: .relaxed)
    }
}
