import Values

/// host-local-style address allocation over an `AllocationStore`: one address per range set,
/// round-robin from the last reservation, gateways never handed out, keyed by (containerID, ifname).
public struct IPAllocator<Store: AllocationStore> {
    public let config: IPAMConfig
    public let store: Store

    public init(config: IPAMConfig, store: Store) {
        self.config = config; self.store = store
    }

    /// Reserves one address in every range set for `key`; fails when `key` already holds one
    /// (an ADD for an existing attachment) or a set is full. All-or-nothing.
    public func allocate(for key: AttachmentKey) throws(CNIError) -> [CNIResult.IPConfig] {
        try store.withLock { () throws(CNIError) -> [CNIResult.IPConfig] in
            if let held = try store.addresses(of: key).first {
                throw CNIError(.internalFailure, "\(held) has been allocated to \(key), duplicate allocation is not allowed")
            }
            // Candidates the store reports taken (its exclusive create decides), not a listing of all.
            var taken = Set<IPAddress>()
            var done: [CNIResult.IPConfig] = []
            for (index, set) in config.rangeSets.enumerated() {
                do throws(CNIError) {
                    let ip = try reserveNext(in: set, index: index, taken: &taken, key: key)
                    guard let range = set.first(where: { $0.contains(ip) }),
                          let address = IPPrefix(address: ip, length: range.subnet.length) else { continue }
                    done.append(CNIResult.IPConfig(address: address, gateway: range.gateway))
                } catch {
                    for d in done { try? store.release(d.address.address) }
                    throw error
                }
            }
            return done
        }
    }

    private func reserveNext(in set: [IPRange], index: Int, taken: inout Set<IPAddress>, key: AttachmentKey) throws(CNIError) -> IPAddress {
        var candidate = set[0].rangeStart
        var rangeIndex = 0
        if let last = try store.lastReserved(rangeSet: index), let r = set.firstIndex(where: { $0.contains(last) }) {
            (rangeIndex, candidate) = next(after: last, rangeIndex: r, in: set)
        }
        let start = candidate
        repeat {
            let range = set[rangeIndex]
            if candidate != range.gateway, !taken.contains(candidate) {
                if try store.reserve(candidate, for: key, rangeSet: index) {
                    taken.insert(candidate)
                    return candidate
                }
                taken.insert(candidate)
            }
            (rangeIndex, candidate) = next(after: candidate, rangeIndex: rangeIndex, in: set)
        } while candidate != start
        throw CNIError(.internalFailure, "no IP addresses available in range set: \(set.map { "\($0.rangeStart)-\($0.rangeEnd)" }.joined(separator: ","))")
    }

    /// The address after `ip`, wrapping to the next range (and from the last range to the first).
    private func next(after ip: IPAddress, rangeIndex: Int, in set: [IPRange]) -> (Int, IPAddress) {
        if ip < set[rangeIndex].rangeEnd, let n = ip.advanced(by: 1) { return (rangeIndex, n) }
        let r = (rangeIndex + 1) % set.count
        return (r, set[r].rangeStart)
    }

    /// Releases every address of `key`; succeeds when there is none (DEL is idempotent).
    @discardableResult
    public func release(_ key: AttachmentKey) throws(CNIError) -> [IPAddress] {
        try store.withLock { () throws(CNIError) -> [IPAddress] in
            let mine = try store.addresses(of: key)
            for ip in mine { try store.release(ip) }
            return mine
        }
    }

    /// The addresses `key` holds (for CHECK).
    public func addresses(of key: AttachmentKey) throws(CNIError) -> [IPAddress] {
        try store.withLock { () throws(CNIError) -> [IPAddress] in try store.addresses(of: key) }
    }

    /// Releases every allocation whose attachment is not in `valid`; returns what was released.
    @discardableResult
    public func collectGarbage(keeping valid: Set<AttachmentKey>) throws(CNIError) -> [IPAddress] {
        try store.withLock { () throws(CNIError) -> [IPAddress] in
            let stale = try store.allocations().filter { !valid.contains($0.value) }.map(\.key).sorted()
            for ip in stale { try store.release(ip) }
            try store.pruneIndex(keeping: valid)
            return stale
        }
    }

    /// STATUS: error 50 when the store cannot be used or some range set has no free address.
    public func status() throws(CNIError) {
        let current: [IPAddress: AttachmentKey]
        do throws(CNIError) { current = try store.withLock { () throws(CNIError) in try store.allocations() } } catch {
            throw CNIError(.pluginNotAvailable, "IPAM store unusable", details: error.description)
        }
        for set in config.rangeSets {
            let capacity = set.reduce(UInt128(0)) { $0 &+ $1.capacity }
            let used = UInt128(current.keys.filter { ip in set.contains { $0.contains(ip) && ip != $0.gateway } }.count)
            if used >= capacity {
                throw CNIError(.pluginNotAvailable, "no free IP addresses in \(set.map(\.subnet.description).joined(separator: ","))")
            }
        }
    }
}
