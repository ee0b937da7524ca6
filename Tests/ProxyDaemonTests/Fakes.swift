import KubeAPI
import ProxyCore
import ProxyDaemon
import Synchronization
import Values

/// The kernel as the sync loop sees it, in memory: transactions apply with the kernel's checks
/// (`NFTRuleset.applying`), `existing` returns chain and set headers as the netlink reader does, and a
/// failure can be injected for the next apply.
final class FakeRulesetTarget: RulesetTarget, Sendable {
    struct Log: Sendable {
        var kernel = NFTRuleset()
        var applied: [NFTTransaction] = []
        var appliedAt: [ContinuousClock.Instant] = []
        var existingCalls = 0
        var failNext = false
    }
    private let log = Mutex(Log())

    var kernel: NFTRuleset { log.withLock { $0.kernel } }
    var applied: [NFTTransaction] { log.withLock { $0.applied } }
    /// When each transaction was applied.
    var appliedAt: [ContinuousClock.Instant] { log.withLock { $0.appliedAt } }
    var existingCalls: Int { log.withLock { $0.existingCalls } }
    func failNextApply() { log.withLock { $0.failNext = true } }

    struct Injected: Error {}

    func apply(_ transaction: NFTTransaction) async throws {
        try log.withLock { log in
            if log.failNext {
                log.failNext = false
                throw Injected()
            }
            log.kernel = try log.kernel.applying(transaction)
            log.applied.append(transaction)
            log.appliedAt.append(ContinuousClock.now)
        }
    }

    func existing(_ tables: [NFTTableID]) async throws -> NFTRuleset {
        log.withLock { log in
            log.existingCalls += 1
            let headers = log.kernel.tables.filter { tables.contains($0.id) }.map { table in
                var t = table
                t.chains = t.chains.map { NFTChain(name: $0.name, comment: $0.comment, base: $0.base) }
                t.sets = t.sets.map { var s = $0; s.elements = []; return s }
                return t
            }
            return NFTRuleset(tables: headers)
        }
    }
}

/// Records the conntrack deletions the sync loop asks for.
final class FakeConntrack: ConntrackFlushing, Sendable {
    enum Call: Hashable, Sendable { case service(String, UInt16), endpoint(String, UInt16) }
    private let log = Mutex<[Call]>([])
    var calls: [Call] { log.withLock { $0 } }
    func reset() { log.withLock { $0 = [] } }

    func deleteUDPFlows(toService address: IPAddress, port: UInt16) async throws { log.withLock { $0.append(.service(address.description, port)) } }
    func deleteUDPFlows(toEndpoint address: IPAddress, port: UInt16) async throws { log.withLock { $0.append(.endpoint(address.description, port)) } }
}
