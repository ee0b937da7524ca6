/// An address with a prefix length, host bits kept: an interface address such as `10.244.1.5/24`
/// (CNI's `ips[].address`, what netlink puts on a link). ``cidr`` is the network it belongs to;
/// use ``CIDR`` where only the network matters.
public struct IPPrefix: Hashable, Sendable {
    /// The address as written.
    public let address: IPAddress
    /// The network the address belongs to.
    public let cidr: CIDR

    /// Nil when `length` is out of range for the address family.
    public init?(address: IPAddress, length: Int) {
        guard let cidr = CIDR(address: address, prefixLength: length) else { return nil }
        self.address = address
        self.cidr = cidr
    }

    /// The prefix a network covers, written with its first address.
    public init(_ cidr: CIDR) {
        address = cidr.network
        self.cidr = cidr
    }

    /// The prefix length in bits.
    public var length: Int { cidr.prefixLength }

    /// The first address of the prefix.
    public var network: IPAddress { cidr.network }
    /// The last address of the prefix (the IPv4 broadcast address).
    public var last: IPAddress { cidr.lastAddress }
    /// The prefix with host bits cleared.
    public var masked: IPPrefix { IPPrefix(cidr) }

    /// True when `ip` is of the same family and inside the prefix.
    public func contains(_ ip: IPAddress) -> Bool { cidr.contains(ip) }

    /// The default route's destination of a family: `0.0.0.0/0` or `::/0`.
    public static func any(_ family: IPAddress.Family) -> IPPrefix {
        IPPrefix(CIDR.any(family))
    }
}

extension IPPrefix: CustomStringConvertible, LosslessStringConvertible {
    /// Parses `address/length` as written (host bits kept), with CIDR's strictness about the length.
    public init?(_ description: String) {
        let parts = description.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let ip = IPAddress(String(parts[0])), let cidr = CIDR(description) else { return nil }
        self.address = ip
        self.cidr = cidr
    }

    public var description: String { "\(address)/\(length)" }
}
