import KubeAPI
import Values

/// Allocation failures, worded as upstream's allocators word them (they reach users in
/// `Invalid` Status messages).
public enum AllocationError: Error, Hashable, Sendable, CustomStringConvertible {
    case full
    case ipAlreadyAllocated
    case ipNotInRange(IPAddress, validRange: String)
    case portAlreadyAllocated
    case portNotInRange(validRange: String)

    public var description: String {
        switch self {
        case .full: "range is full"
        case .ipAlreadyAllocated: "provided IP is already allocated"
        case .ipNotInRange(let ip, let range):
            "the provided IP (\(ip)) is not in the valid range. The range of valid IPs is \(range)"
        case .portAlreadyAllocated: "provided port is already allocated"
        case .portNotInRange(let range):
            "provided port is not in the valid range. The range of valid ports is \(range)"
        }
    }
}

/// ClusterIPs of one service CIDR. Usable addresses exclude the network address and, for
/// IPv4, the broadcast address; IPv6 ranges are capped at 65,536 addresses as upstream caps
/// them. Offset 1 (e.g. 10.96.0.1) is the `kubernetes` Service's address. Dynamic allocation
/// prefers addresses above a small low band that is kept for explicitly requested IPs.
public struct ServiceIPAllocator: Hashable, Sendable {
    public let cidr: CIDR
    private var bitmap: BitmapAllocator
    /// Slots below this index are handed out dynamically only when the rest is full.
    public let reservedBand: Int

    public init(cidr: CIDR, seed: UInt64 = 0) {
        self.cidr = cidr
        var usable: Int
        switch cidr.family {
        case .ipv4: usable = Int(cidr.size) - 2
        case .ipv6: usable = Int(min(cidr.size, 65536)) - 1
        }
        usable = max(0, usable)
        self.bitmap = BitmapAllocator(size: usable, seed: seed)
        self.reservedBand = ServiceIPAllocator.rangeOffset(size: cidr.size)
    }

    /// Upstream's `min(max(16, size/16), 256)` static band (0 for ranges under 16 addresses).
    static func rangeOffset(size: UInt64) -> Int {
        if size < 16 { return 0 }
        return Int(min(max(16, size / 16), 256))
    }

    /// The first usable address (network + 1): the `kubernetes` Service's ClusterIP.
    public var firstAddress: IPAddress? { bitmap.size > 0 ? cidr.address(at: 1) : nil }

    /// Number of usable addresses.
    public var capacity: Int { bitmap.size }
    /// Number of allocated addresses.
    public var used: Int { bitmap.count }
    /// Number of free addresses.
    public var free: Int { bitmap.freeCount }

    private func index(of ip: IPAddress) -> Int? {
        guard let offset = cidr.offset(of: ip), offset >= 1, offset - 1 < UInt64(bitmap.size) else { return nil }
        return Int(offset - 1)
    }

    /// True if `ip` is allocated.
    public func has(_ ip: IPAddress) -> Bool {
        index(of: ip).map(bitmap.has) ?? false
    }

    /// True if `ip` could be allocated here (inside the usable range).
    public func contains(_ ip: IPAddress) -> Bool { index(of: ip) != nil }

    /// Allocates a specific address (a Service that asks for its `clusterIP`).
    public mutating func allocate(specific ip: IPAddress) throws(AllocationError) {
        guard let i = index(of: ip) else { throw .ipNotInRange(ip, validRange: cidr.description) }
        guard bitmap.allocate(i) else { throw .ipAlreadyAllocated }
    }

    /// Allocates some free address.
    public mutating func allocateNext() throws(AllocationError) -> IPAddress {
        guard let i = bitmap.allocateNext(reservedBelow: reservedBand),
              let ip = cidr.address(at: UInt64(i) + 1) else { throw .full }
        return ip
    }

    /// Frees an address; unknown or free addresses are ignored.
    public mutating func release(_ ip: IPAddress) {
        if let i = index(of: ip) { bitmap.release(i) }
    }

    /// Forgets all allocations and marks `ips` allocated (at start-up, from stored Services).
    /// Returns the addresses that are not in this range (so the caller can report them).
    @discardableResult
    public mutating func rebuild(from ips: [IPAddress]) -> [IPAddress] {
        bitmap.reset()
        var outside: [IPAddress] = []
        for ip in ips {
            if let i = index(of: ip) { bitmap.allocate(i) } else { outside.append(ip) }
        }
        return outside
    }

    /// All allocated addresses, ascending.
    public var allocated: [IPAddress] {
        bitmap.allocated.compactMap { cidr.address(at: UInt64($0) + 1) }
    }
}
