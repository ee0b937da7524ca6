import Dispatch
import KubeAPI
import NFTables
import ProxyCore
import Values

/// The kernel as a `RulesetTarget` and `ConntrackFlushing`: the nftables adapter's synchronous, non-Sendable
/// handles used only on one serial queue, so the async sync loop never blocks the cooperative pool on netlink.
public final class NFTablesTarget: RulesetTarget, ConntrackFlushing, @unchecked Sendable {
    // Safe: `applier` and `conntrack` are touched only inside `queue.sync`/`queue.async` blocks on one serial queue.
    private let queue = DispatchQueue(label: "kproxy.nftables")
    private let applier: NetlinkRulesetApplier
    private let conntrack: ConntrackCleaner

    public init(namespace: NetnsReference = .current) throws {
        applier = try NetlinkRulesetApplier(namespace: namespace)
        conntrack = try ConntrackCleaner(namespace: namespace)
    }

    private func onQueue<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            queue.async { continuation.resume(with: Result { try body() }) }
        }
    }

    public func apply(_ transaction: NFTTransaction) async throws {
        try await onQueue { try self.applier.apply(transaction) }
    }

    public func existing(_ tables: [NFTTableID]) async throws -> NFTRuleset {
        try await onQueue { try self.applier.existingRuleset(tables) }
    }

    public func deleteUDPFlows(toService address: IPAddress, port: UInt16) async throws {
        _ = try await onQueue {
            try self.conntrack.delete(matching: [ConntrackFilter(originalDestination: address, originalDestinationPort: port)])
        }
    }

    public func deleteUDPFlows(toEndpoint address: IPAddress, port: UInt16) async throws {
        _ = try await onQueue { try self.conntrack.delete(matching: [ConntrackFilter(replySource: address)]) }
    }
}
