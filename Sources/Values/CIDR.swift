/// An IP prefix such as `10.96.0.0/12` or `fd00::/108`. The stored network address is always
/// masked (`10.96.0.5/12` parses as `10.96.0.0/12`, like Go's `net.ParseCIDR`).
/// Encoded in JSON as its string form.
public struct CIDR: Hashable, Sendable {
    /// The first (masked) address of the prefix.
    public let network: IPAddress
    /// Number of leading network bits.
    public let prefixLength: Int

    /// The prefix of `address` with `prefixLength` bits; nil when the length is out of range.
    public init?(address: IPAddress, prefixLength: Int) {
        guard (0...address.family.bitWidth).contains(prefixLength) else { return nil }
        let (mh, ml) = CIDR.mask(family: address.family, prefixLength: prefixLength)
        self.network = IPAddress(family: address.family, high: address.high & mh, low: address.low & ml)
        self.prefixLength = prefixLength
    }

    public var family: IPAddress.Family { network.family }

    /// Every address of a family: `0.0.0.0/0` or `::/0`.
    public static func any(_ family: IPAddress.Family) -> CIDR {
        CIDR(ipv4Or6: family)
    }

    private init(ipv4Or6 family: IPAddress.Family) {
        network = IPAddress(family: family, high: 0, low: 0)
        prefixLength = 0
    }

    /// Number of host bits (`32 - prefix` or `128 - prefix`).
    public var hostBits: Int { family.bitWidth - prefixLength }

    /// Number of addresses in the prefix, saturating at `UInt64.max` for IPv6 prefixes of /64 or wider.
    public var size: UInt64 { hostBits >= 64 ? UInt64.max : UInt64(1) << UInt64(hostBits) }

    /// The last address of the prefix (the IPv4 broadcast address).
    public var lastAddress: IPAddress {
        let (mh, ml) = CIDR.mask(family: family, prefixLength: prefixLength)
        switch family {
        case .ipv4: return IPAddress(family: .ipv4, high: 0, low: network.low | (~ml & UInt64(UInt32.max)))
        case .ipv6: return IPAddress(family: .ipv6, high: network.high | ~mh, low: network.low | ~ml)
        }
    }

    /// The netmask as an address (`255.240.0.0` for /12).
    public var netmask: IPAddress {
        let (mh, ml) = CIDR.mask(family: family, prefixLength: prefixLength)
        return IPAddress(family: family, high: mh, low: ml)
    }

    /// True if `ip` is of the same family and inside the prefix.
    public func contains(_ ip: IPAddress) -> Bool {
        guard ip.family == family else { return false }
        let (mh, ml) = CIDR.mask(family: family, prefixLength: prefixLength)
        return ip.high & mh == network.high && ip.low & ml == network.low
    }

    /// True if `other` lies completely inside this prefix.
    public func contains(_ other: CIDR) -> Bool {
        other.prefixLength >= prefixLength && contains(other.network)
    }

    /// True if the two prefixes share at least one address.
    public func overlaps(_ other: CIDR) -> Bool {
        contains(other.network) || other.contains(network)
    }

    /// The address `offset` places after the network address; nil past the end of the prefix.
    public func address(at offset: UInt64) -> IPAddress? {
        guard hostBits >= 64 || offset < size else { return nil }
        return network.adding(offset)
    }

    /// How far `ip` lies from the network address; nil when outside or beyond 64 bits away.
    public func offset(of ip: IPAddress) -> UInt64? {
        guard contains(ip) else { return nil }
        return network.distance(to: ip)
    }

    /// How many subnets of length `prefix` this prefix holds (saturating); 0 when `prefix`
    /// is shorter than this prefix or longer than the family allows.
    public func subnetCount(ofPrefix prefix: Int) -> UInt64 {
        guard prefix >= prefixLength, prefix <= family.bitWidth else { return 0 }
        let bits = prefix - prefixLength
        return bits >= 64 ? UInt64.max : UInt64(1) << UInt64(bits)
    }

    /// The `index`-th subnet of length `prefix` (in address order); nil when out of range.
    public func subnet(ofPrefix prefix: Int, at index: UInt64) -> CIDR? {
        let count = subnetCount(ofPrefix: prefix)
        guard count > 0, prefix - prefixLength >= 64 || index < count else { return nil }
        let shift = family.bitWidth - prefix
        var hi: UInt64 = 0
        var lo: UInt64 = 0
        if shift >= 64 {
            hi = index << UInt64(shift - 64)
        } else {
            lo = index << UInt64(shift)
            hi = shift == 0 ? 0 : index >> UInt64(64 - shift)
        }
        let (sumLow, carry) = network.low.addingReportingOverflow(lo)
        let sumHigh = network.high &+ hi &+ (carry ? 1 : 0)
        return CIDR(address: IPAddress(family: family, high: sumHigh, low: sumLow), prefixLength: prefix)
    }

    /// The index of `subnet` among this prefix's subnets of its length; nil when not inside.
    public func subnetIndex(of subnet: CIDR) -> UInt64? {
        guard contains(subnet) else { return nil }
        let (lo, borrow) = subnet.network.low.subtractingReportingOverflow(network.low)
        let hi = subnet.network.high &- network.high &- (borrow ? 1 : 0)
        let shift = subnet.hostBits
        if shift >= 64 { return hi >> UInt64(shift - 64) }
        guard shift == 0 || hi >> UInt64(shift) == 0 else { return nil }
        return shift == 0 ? (hi == 0 ? lo : nil) : (lo >> UInt64(shift)) | (hi << UInt64(64 - shift))
    }

    /// All subnets of length `prefix`, lazily, in address order (index → subnet).
    public func subnets(ofPrefix prefix: Int) -> LazyMapSequence<Range<UInt64>, CIDR> {
        let count = subnetCount(ofPrefix: prefix)
        return (0..<count).lazy.map { self.subnet(ofPrefix: prefix, at: $0) ?? self }
    }

    /// Mask bits for a prefix length, in the same (high, low) layout as `IPAddress`.
    static func mask(family: IPAddress.Family, prefixLength p: Int) -> (UInt64, UInt64) {
        switch family {
        case .ipv4:
            let m = p == 0 ? 0 : (UInt64(UInt32.max) << UInt64(32 - p)) & UInt64(UInt32.max)
            return (0, m)
        case .ipv6:
            if p <= 64 { return (p == 0 ? 0 : UInt64.max << UInt64(64 - p), 0) }
            return (UInt64.max, UInt64.max << UInt64(128 - p))
        }
    }
}

extension CIDR: CustomStringConvertible, LosslessStringConvertible {
    /// Parses `address/length`; the address is masked. Rejects leading zeros in the length.
    public init?(_ description: String) {
        let parts = description.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let ip = IPAddress(String(parts[0])) else { return nil }
        let len = parts[1]
        guard (1...3).contains(len.count), len.allSatisfy({ $0.isASCII && $0.isNumber }),
              len.count == 1 || len.first != "0", let bits = Int(len) else { return nil }
        self.init(address: ip, prefixLength: bits)
    }

    public var description: String { "\(network)/\(prefixLength)" }
}

extension CIDR: Codable {
    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        let s = try c.decode(String.self)
        guard let cidr = CIDR(s) else {
            throw DecodingError.dataCorruptedError(in: c, debugDescription: "not a CIDR: \(s)")
        }
        self = cidr
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(description)
    }
}
