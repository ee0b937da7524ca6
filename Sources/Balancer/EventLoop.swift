import BalancerCore
import CLinuxExtras
import Glibc
import KubeAPI
import Logging
import ProxyCore
import Synchronization
import LinuxSystem
import Values

/// What a registered descriptor is, found from its epoll token.
enum Slot {
    case free
    case mailbox
    case tcpListener(TCPListener)
    case udpListener(UDPListener)
    /// One side of a relayed connection (`upstream`: the endpoint side).
    case relay(Relay, upstream: Bool)
    case udpSession(UDPSession)
}

/// Work for a loop from outside it.
enum LoopCommand: Sendable {
    case apply([ListenerBinding], LoopCountdown)
    case drain(deadline: Int64, LoopCountdown)
}

/// One event loop: a thread with its own epoll, its own SO_REUSEPORT socket per listener, and every relayed
/// connection it accepted (both sides). Nothing here is shared with other loops except `BackendStats`
/// counters and affinity tables, so a connection takes no lock.
final class EventLoop {
    let index: Int
    let config: BalancerConfig
    let logger: Logger
    let counters: LoopCounters
    let mailbox: LoopMailbox
    private(set) var epoll: Int32 = -1
    var random = FastRandom()
    var timers = TimerHeap()
    var now: Int64 = 0

    private var slots: [Slot] = []
    private var generations: [UInt32] = []
    private var freeSlots: [Int] = []

    var tcpListeners: [ListenerKey: TCPListener] = [:]
    var udpListeners: [ListenerKey: UDPListener] = [:]
    var relays = 0
    /// Relays with bytes still readable after their per-turn budget: served after this turn's events.
    var ready: [Relay] = []
    var udpSessionCount = 0
    var udpSweepScheduled = false
    /// Reply-socket addresses whose failure was logged (once each).
    var replySocketFailureLogged: Set<UDPFlowKey> = []
    private var draining: LoopCountdown?
    private var drainDeadline: Int64 = 0
    private var running = true

    /// Read buffer shared by every connection of this loop: data is written on at once, so only a partial
    /// write needs a buffer of the connection's own.
    let scratchSize = 64 * 1024
    let scratch: UnsafeMutableRawPointer
    /// Batch buffers for UDP (recvmmsg/sendmmsg).
    let udp: UDPBatch

    init(index: Int, config: BalancerConfig, logger: Logger, counters: LoopCounters, mailbox: LoopMailbox) {
        self.index = index; self.config = config; self.logger = logger; self.counters = counters; self.mailbox = mailbox
        scratch = UnsafeMutableRawPointer.allocate(byteCount: scratchSize, alignment: 16)
        udp = UDPBatch()
    }

    deinit { scratch.deallocate() }

    /// Enters the namespace (if any), opens epoll and registers the mailbox; on this loop's thread.
    func open() throws(SystemError) {
        if let path = config.namespacePath {
            let fd = try Sys.check("open", path) { Glibc.open(path, O_RDONLY | O_CLOEXEC) }
            defer { Sys.close(fd) }
            try Sys.check("setns", path) { setns(fd, KP_CLONE_NEWNET) }
        }
        epoll = try Sys.check("epoll_create1", "loop \(index)") { epoll_create1(Int32(EPOLL_CLOEXEC)) }
        _ = try register(mailbox.eventFD, .mailbox, events: EPOLLIN.rawValue)
    }

    // MARK: registration

    /// Registers `fd` for `events`; returns its token.
    func register(_ fd: Int32, _ slot: Slot, events: UInt32) throws(SystemError) -> UInt64 {
        let index: Int
        if let free = freeSlots.popLast() {
            index = free
            slots[index] = slot
        } else {
            index = slots.count
            slots.append(slot)
            generations.append(0)
        }
        let token = UInt64(index) | UInt64(generations[index]) << 32
        var event = epoll_event(events: events, data: epoll_data_t(u64: token))
        let (_, e) = Sys.retrying { epoll_ctl(epoll, EPOLL_CTL_ADD, fd, &event) }
        guard e == 0 else {
            release(token)
            throw SystemError("epoll_ctl add", "fd \(fd)", errno: e)
        }
        return token
    }

    /// Frees the token's slot (the descriptor leaves epoll when it is closed).
    func release(_ token: UInt64) {
        let index = Int(token & 0xffff_ffff)
        guard index < slots.count, generations[index] == UInt32(token >> 32) else { return }
        slots[index] = .free
        generations[index] &+= 1
        freeSlots.append(index)
    }

    private func slot(_ token: UInt64) -> Slot {
        let index = Int(token & 0xffff_ffff)
        guard index < slots.count, generations[index] == UInt32(token >> 32) else { return .free }
        return slots[index]
    }

    // MARK: running

    /// Runs until drained.
    func run() {
        let capacity = 256
        let events = UnsafeMutablePointer<epoll_event>.allocate(capacity: capacity)
        defer { events.deallocate() }
        now = Sys.now()
        while running {
            var timeout: Int32 = -1
            if !ready.isEmpty {
                timeout = 0
            } else if let next = timers.next {
                timeout = Int32(clamping: max(0, (next - now + 999_999) / 1_000_000))
            }
            let (n, e) = Sys.retrying { epoll_wait(epoll, events, Int32(capacity), timeout) }
            if e != 0 { logger.error("epoll_wait loop \(index): errno \(e)"); break }
            now = Sys.now()
            for i in 0..<Int(n) {
                let event = events[i]
                dispatch(slot(event.data.u64), events: event.events)
            }
            while let action = timers.popDue(now) { fire(action) }
            if !ready.isEmpty {
                let turn = ready
                ready = []
                for relay in turn {
                    relay.queued = false
                    relay.progress(loop: self)
                }
            }
            checkDrained()
        }
        Sys.close(epoll)
    }

    private func dispatch(_ slot: Slot, events: UInt32) {
        switch slot {
        case .free: break
        case .mailbox: processMailbox()
        case .tcpListener(let l): acceptAll(l)
        case .udpListener(let l): receiveFromClients(l)
        case .relay(let r, let upstream): r.handle(events, upstream: upstream, loop: self)
        case .udpSession(let s): receiveFromBackend(s)
        }
    }

    private func fire(_ action: TimerAction) {
        switch action {
        case .connectTimeout(let relay, let attempt): relay.connectTimedOut(attempt: attempt, loop: self)
        case .udpSweep: sweepUDP()
        case .drainDeadline: break  // checkDrained acts on it
        }
    }

    private func processMailbox() {
        var value: UInt64 = 0
        _ = Sys.retrying { Glibc.read(mailbox.eventFD, &value, 8) }
        for command in mailbox.take() {
            switch command {
            case .apply(let bindings, let done):
                done.finish(errors: applyBindings(bindings))
            case .drain(let deadline, let done):
                beginDrain(deadline: deadline, done)
            }
        }
    }

    // MARK: draining

    private func beginDrain(deadline: Int64, _ done: LoopCountdown) {
        for l in tcpListeners.values { closeListener(l) }
        for l in udpListeners.values { closeListener(l) }
        tcpListeners = [:]
        udpListeners = [:]
        draining = done
        drainDeadline = deadline
        timers.add(deadline, .drainDeadline)
        checkDrained()
    }

    private func checkDrained() {
        guard let done = draining, relays == 0 || now >= drainDeadline else { return }
        if relays > 0 { logger.notice("loop \(index): drain timeout, \(relays) connections cut") }
        for index in slots.indices {
            if case .relay(let r, _) = slots[index] { r.abort(loop: self) }
        }
        draining = nil
        running = false
        done.finish(errors: [:])
    }

    // MARK: listeners

    /// Opens, updates and closes listeners to match `bindings`; returns the keys that failed to open.
    private func applyBindings(_ bindings: [ListenerBinding]) -> [ListenerKey: SystemError] {
        guard draining == nil else { return [:] }
        var errors: [ListenerKey: SystemError] = [:]
        let wanted = Dictionary(bindings.map { ($0.key, $0) }, uniquingKeysWith: { a, _ in a })
        for (key, l) in tcpListeners where wanted[key]?.port != l.port {
            closeListener(l)
            tcpListeners[key] = nil
        }
        for (key, l) in udpListeners where wanted[key]?.port != l.port {
            closeListener(l)
            udpListeners[key] = nil
        }
        for binding in bindings {
            do {
                switch binding.key.name.protocol {
                case .tcp:
                    if let l = tcpListeners[binding.key] { l.backends = binding.backends; continue }
                    tcpListeners[binding.key] = try openTCPListener(binding)
                case .udp:
                    if let l = udpListeners[binding.key] { updateUDP(l, binding.backends); continue }
                    udpListeners[binding.key] = try openUDPListener(binding)
                case .sctp:
                    errors[binding.key] = SystemError("listen", "\(binding.key)", errno: EPROTONOSUPPORT)
                }
            } catch {
                errors[binding.key] = error
            }
        }
        return errors
    }

    /// A non-blocking socket bound to the wildcard address at `port`, in a SO_REUSEPORT group.
    /// IP_TRANSPARENT / IPV6_TRANSPARENT: the socket takes packets tproxy hands it and sends from the
    /// non-local (Service) addresses they were sent to. Needs CAP_NET_ADMIN.
    static func makeTransparent(_ fd: Int32, _ family: IPAddress.Family) throws(SystemError) {
        if family == .ipv4 {
            try Sys.setOption(fd, Int32(IPPROTO_IP), KP_IP_TRANSPARENT, 1, "IP_TRANSPARENT")
        } else {
            try Sys.setOption(fd, Int32(IPPROTO_IPV6), KP_IPV6_TRANSPARENT, 1, "IPV6_TRANSPARENT")
        }
    }

    /// Binds a socket about to connect `client`'s flow of a `scope` listener to `endpoint` to the client's own
    /// address (an address of another host, transparently) when the connection keeps it: a `local` listener,
    /// a client outside the pod networks (`BalancerConfig.preservesSource`), not the endpoint itself, same
    /// family. The ruleset brings the endpoint's replies back. When the bind fails (no free port for the
    /// address, say) the socket stays unbound and connects from the node's address: counted, not the
    /// endpoint's fault. TCP connects and UDP sessions both come here.
    func keepClientAddress(_ fd: Int32, client: IPAddress, scope: ListenerScope, endpoint: IPAddress) {
        guard scope == .local, client != endpoint, client.family == endpoint.family, config.preservesSource(of: client) else { return }
        do throws(SystemError) {
            try Self.makeTransparent(fd, client.family)
            let address = SocketAddress(client, port: 0)
            try Sys.check("bind", "transparent source \(client)") { address.withSockaddr { bind(fd, $0, $1) } }
        } catch {
            counters.sourceFallbacks.add(1, ordering: .relaxed)
        }
    }

    func boundSocket(_ key: ListenerKey, port: UInt16, type: Int32) throws(SystemError) -> Int32 {
        let family = key.family == .ipv4 ? AF_INET : AF_INET6
        let what = "\(key) port \(port)"
        let fd = try Sys.check("socket", what) { socket(family, type | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0) }
        do {
            try Sys.setOption(fd, SOL_SOCKET, SO_REUSEADDR, 1, "SO_REUSEADDR")
            try Sys.setOption(fd, SOL_SOCKET, SO_REUSEPORT, 1, "SO_REUSEPORT")
            if family == AF_INET6 { try Sys.setOption(fd, Int32(IPPROTO_IPV6), IPV6_V6ONLY, 1, "IPV6_V6ONLY") }
            try Self.makeTransparent(fd, key.family)
            // On loopback, which no other host reaches; tproxy hands Service packets to it.
            let address = SocketAddress(UserspaceSteering.listenAddress(key.family), port: port)
            try Sys.check("bind", what) { address.withSockaddr { bind(fd, $0, $1) } }
            return fd
        } catch {
            Sys.close(fd)
            throw error
        }
    }
}

/// A loop's inbox: commands under a lock, an eventfd to wake the loop.
final class LoopMailbox: Sendable {
    let eventFD: Int32
    private let commands = Mutex<[LoopCommand]>([])

    init() throws(SystemError) {
        eventFD = try Sys.check("eventfd", "mailbox") { eventfd(0, Int32(EFD_NONBLOCK | EFD_CLOEXEC)) }
    }

    func post(_ command: LoopCommand) {
        commands.withLock { $0.append(command) }
        var one: UInt64 = 1
        _ = Sys.retrying { Glibc.write(eventFD, &one, 8) }
    }

    func take() -> [LoopCommand] { commands.withLock { c in defer { c = [] }; return c } }
}

/// Resumes its continuation when every loop has finished a command; gathers their errors.
final class LoopCountdown: Sendable {
    private struct State {
        var remaining: Int
        var errors: [ListenerKey: SystemError] = [:]
        var continuation: CheckedContinuation<[ListenerKey: SystemError], Never>?
    }
    private let state: Mutex<State>

    init(loops: Int, continuation: CheckedContinuation<[ListenerKey: SystemError], Never>) {
        state = Mutex(State(remaining: loops, continuation: continuation))
    }

    func finish(errors: [ListenerKey: SystemError]) {
        let done: (CheckedContinuation<[ListenerKey: SystemError], Never>, [ListenerKey: SystemError])? = state.withLock { s in
            for (k, e) in errors where s.errors[k] == nil { s.errors[k] = e }
            s.remaining -= 1
            guard s.remaining == 0, let c = s.continuation else { return nil }
            s.continuation = nil
            return (c, s.errors)
        }
        if let (c, errors) = done { c.resume(returning: errors) }
    }
}
