import BalancerCore
import Dispatch
import Foundation
import Logging
import ProxyCore
import Synchronization
import LinuxSystem
import Netlink

/// The userspace mode's data path: `config.threads` event loops (`EventLoop`), each on its own OS thread
/// with its own epoll and its own SO_REUSEPORT socket per listener. The sync loop talks to them only
/// through their mailboxes.
public final class Balancer: Sendable {
    private let mailboxes: [LoopMailbox]
    private let loopCounters: [LoopCounters]
    private let logger: Logger
    /// Set by `drain`: the loops are gone, so later commands would never be answered.
    private let drained = Atomic<Bool>(false)

    /// Installs the steering route and starts the loops; each enters `config.namespacePath` first, if set.
    /// Throws when the IPv4 route or a loop cannot be set up.
    public init(config: BalancerConfig, logger: Logger) throws {
        self.logger = logger
        try Self.installSteeringRoutes(config, logger)
        let n = max(1, config.threads)
        var mailboxes: [LoopMailbox] = []
        var counters: [LoopCounters] = []
        for _ in 0..<n {
            mailboxes.append(try LoopMailbox())
            counters.append(LoopCounters())
        }
        self.mailboxes = mailboxes
        loopCounters = counters
        let started = StartResults(count: n)
        for i in 0..<n {
            let mailbox = mailboxes[i], counter = counters[i]
            let thread = Thread {
                let loop = EventLoop(index: i, config: config, logger: logger, counters: counter, mailbox: mailbox)
                do throws(SystemError) {
                    try loop.open()
                } catch {
                    started.report(i, error)
                    return
                }
                started.report(i, nil)
                loop.run()
            }
            thread.name = "kproxy-lb-\(i)"
            thread.start()
        }
        if let error = started.wait() { throw error }
    }

    /// Makes every loop's listeners exactly `bindings`; returns the keys whose listener could not be opened.
    public func apply(_ bindings: [ListenerBinding]) async -> [ListenerKey: SystemError] {
        guard !drained.load(ordering: .acquiring) else {
            return Dictionary(bindings.map { ($0.key, SystemError("listen", "\($0.key): the balancer was drained", errno: ESHUTDOWN)) },
                              uniquingKeysWith: { a, _ in a })
        }
        return await withCheckedContinuation { continuation in
            let countdown = LoopCountdown(loops: mailboxes.count, continuation: continuation)
            for m in mailboxes { m.post(.apply(bindings, countdown)) }
        }
    }

    /// Closes every listener, waits for open connections (at most `timeout`; the rest are reset), stops the loops.
    public func drain(timeout: Duration) async {
        guard !drained.exchange(true, ordering: .acquiringAndReleasing) else { return }
        let deadline = Sys.now() + timeout.nanos
        _ = await withCheckedContinuation { continuation in
            let countdown = LoopCountdown(loops: mailboxes.count, continuation: continuation)
            for m in mailboxes { m.post(.drain(deadline: deadline, countdown)) }
        }
    }

    public func counters() -> BalancerCounters {
        var total = BalancerCounters()
        for c in loopCounters { total.add(c) }
        return total
    }
}

extension Balancer {
    /// The route protocol of the steering rule and route (kproxy's, as its node routes).
    public static let routeProtocol = HostGatewayRoutes.routeProtocol

    /// `fwmark MARK lookup TABLE` and `local default dev lo table TABLE` per family, on a thread in the
    /// loops' namespace. IPv6 may be off in the namespace: then IPv6 Services cannot be steered, and that
    /// is logged rather than fatal.
    static func installSteeringRoutes(_ config: BalancerConfig, _ logger: Logger) throws {
        let spec = steeringSpec(mark: config.steeringMark)
        let ipv6Failure = try NetworkNamespace.run(path: config.namespacePath ?? "/proc/self/ns/net") { () throws(NetlinkError) -> NetlinkError? in
            let routes = try LocalDeliveryRoutes(spec)
            if config.families.contains(.ipv4) { try routes.ensure(family: AF_INET) }
            guard config.families.contains(.ipv6) else { return nil }
            do throws(NetlinkError) { try routes.ensure(family: AF_INET6) } catch { return error }
            return nil
        }
        if let ipv6Failure { logger.warning("userspace mode: IPv6 Services cannot be steered to the listeners: \(ipv6Failure)") }
    }

    static func steeringSpec(mark: UInt32) -> LocalDeliveryRoutes.Spec {
        LocalDeliveryRoutes.Spec(mark: mark, table: UserspaceSteering.routeTable, priority: UserspaceSteering.rulePriority,
                                 routeProtocol: routeProtocol)
    }

    /// Removes the steering rule and route a userspace-mode run left in this process's namespace (the
    /// nftables mode calls it at start); returns whether there was any.
    public static func removeSteeringRoutes(mark: UInt32 = UserspaceSteering.defaultMark) throws -> Bool {
        try NetworkNamespace.run(path: "/proc/self/ns/net") { () throws(NetlinkError) -> Bool in
            let routes = try LocalDeliveryRoutes(steeringSpec(mark: mark))
            let v4 = try routes.remove(family: AF_INET)
            let v6 = (try? routes.remove(family: AF_INET6)) ?? false
            return v4 || v6
        }
    }
}

/// Loop start-up outcomes, waited for by `Balancer.init`.
private final class StartResults: Sendable {
    private let results: Mutex<[Int: SystemError?]>
    private let semaphore = DispatchSemaphore(value: 0)
    private let count: Int

    init(count: Int) { self.count = count; results = Mutex([:]) }

    func report(_ index: Int, _ error: SystemError?) {
        results.withLock { $0[index] = .some(error) }
        semaphore.signal()
    }

    func wait() -> SystemError? {
        for _ in 0..<count { semaphore.wait() }
        return results.withLock { r in r.values.compactMap { $0 }.first }
    }
}
