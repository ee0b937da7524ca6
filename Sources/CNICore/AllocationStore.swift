import Values

/// Where the allocator records which address belongs to which attachment. Every call except
/// `withLock` runs inside `withLock`, which must exclude other processes using the same store.
public protocol AllocationStore {
    /// Runs `body` holding the store's lock.
    func withLock<T>(_ body: () throws(CNIError) -> T) throws(CNIError) -> T
    /// Records `ip` for `key` unless taken; returns false when already reserved. Remembers it as the
    /// last reserved address of range set `rangeSet`.
    func reserve(_ ip: IPAddress, for key: AttachmentKey, rangeSet: Int) throws(CNIError) -> Bool
    /// The address reserved last in range set `rangeSet`, where round-robin continues.
    func lastReserved(rangeSet: Int) throws(CNIError) -> IPAddress?
    /// Forgets one reservation (no error when absent).
    func release(_ ip: IPAddress) throws(CNIError)
    /// Every current reservation.
    func allocations() throws(CNIError) -> [IPAddress: AttachmentKey]
    /// The reservations of one attachment (ADD's duplicate check, DEL, CHECK): should not cost a walk over
    /// every reservation, since it runs on every pod start and stop.
    func addresses(of key: AttachmentKey) throws(CNIError) -> [IPAddress]
    /// Drops bookkeeping of attachments not in `valid` that holds no address (GC, after releasing).
    func pruneIndex(keeping valid: Set<AttachmentKey>) throws(CNIError)
}

extension AllocationStore {
    public func pruneIndex(keeping valid: Set<AttachmentKey>) throws(CNIError) {}
}

/// An in-memory store for tests and dry runs; one process only.
public final class InMemoryAllocationStore: AllocationStore {
    public private(set) var reserved: [IPAddress: AttachmentKey] = [:]
    public private(set) var last: [Int: IPAddress] = [:]
    /// When set, every operation fails with this error (to test "store unusable").
    public var failure: CNIError?

    public init() {}

    public func withLock<T>(_ body: () throws(CNIError) -> T) throws(CNIError) -> T {
        if let failure { throw failure }
        return try body()
    }

    public func reserve(_ ip: IPAddress, for key: AttachmentKey, rangeSet: Int) throws(CNIError) -> Bool {
        guard reserved[ip] == nil else { return false }
        reserved[ip] = key
        last[rangeSet] = ip
        return true
    }

    public func lastReserved(rangeSet: Int) throws(CNIError) -> IPAddress? { last[rangeSet] }

    public func release(_ ip: IPAddress) throws(CNIError) { reserved[ip] = nil }

    public func allocations() throws(CNIError) -> [IPAddress: AttachmentKey] { reserved }

    public func addresses(of key: AttachmentKey) throws(CNIError) -> [IPAddress] {
        reserved.filter { $0.value == key }.map(\.key).sorted()
    }
}
