import DNSCore
import Synchronization

/// Holds the current `ServiceIndex` snapshot. Queries read it (a copy of a few references under a
/// short lock); the watcher swaps in a new one after each rebuild. No actor hop per query.
public final class IndexStore: Sendable {
    private let current: Mutex<ServiceIndex>

    public init(_ index: ServiceIndex) { current = Mutex(index) }

    /// The snapshot to answer one query from.
    public var index: ServiceIndex { current.withLock { $0 } }

    /// Replaces the snapshot atomically.
    public func publish(_ index: ServiceIndex) { current.withLock { $0 = index } }
}
