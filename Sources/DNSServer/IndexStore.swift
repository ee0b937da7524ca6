import DNSCore
import Synchronization

/// Holds the current `ServiceIndex` snapshot and the responses computed from it. Queries read it (a copy
/// of a few references under a short lock); the watcher swaps in a new one after each rebuild, which also
/// starts an empty response cache. No actor hop per query.
public final class IndexStore: Sendable {
    public struct Snapshot: Sendable {
        public let index: ServiceIndex
        /// Wire responses of this index's zone answers, by query shape.
        let responses: ResponseCache
    }

    private let current: Mutex<Snapshot>
    private let cacheEntries: Int

    /// `cacheEntries` bounds the response cache of each snapshot (0 turns it off).
    public init(_ index: ServiceIndex, cacheEntries: Int = ResponseCache.defaultEntries) {
        self.cacheEntries = cacheEntries
        current = Mutex(Snapshot(index: index, responses: ResponseCache(limit: cacheEntries)))
    }

    /// The snapshot to answer one query from.
    public var snapshot: Snapshot { current.withLock { $0 } }

    /// The index to answer one query from.
    public var index: ServiceIndex { snapshot.index }

    /// Replaces the snapshot atomically, with an empty response cache.
    public func publish(_ index: ServiceIndex) {
        let next = Snapshot(index: index, responses: ResponseCache(limit: cacheEntries))
        current.withLock { $0 = next }
    }
}

/// Encoded authoritative responses keyed by `DNSQueryShape.key`, for one index snapshot: answers that
/// depend only on the question and the zone data (so TTLs need no adjusting; the cache goes with the
/// snapshot). Bounded: when full it starts over, so names that are asked for again come back at once.
public final class ResponseCache: Sendable {
    public static let defaultEntries = 65_536
    private let entries = Mutex<[Key: [UInt8]]>([:])
    let limit: Int

    /// The key bytes, hashed in one pass (an array of bytes hashes element by element).
    struct Key: Hashable, Sendable {
        var bytes: [UInt8]
        func hash(into hasher: inout Hasher) { bytes.withUnsafeBytes { hasher.combine(bytes: $0) } }
    }

    init(limit: Int) { self.limit = limit }

    func get(_ key: [UInt8]) -> [UInt8]? {
        guard limit > 0 else { return nil }
        return entries.withLock { $0[Key(bytes: key)] }
    }

    func put(_ key: [UInt8], _ response: [UInt8]) {
        guard limit > 0 else { return }
        entries.withLock { table in
            if table.count >= limit { table.removeAll(keepingCapacity: true) }
            table[Key(bytes: key)] = response
        }
    }

    var count: Int { entries.withLock { $0.count } }
}
