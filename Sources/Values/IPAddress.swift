/// An IPv4 or IPv6 address as a value: parsed strictly (like Go's `netip.ParseAddr`: no leading
/// zeros in IPv4 octets, no zones), formatted canonically (RFC 5952 for IPv6), ordered
/// (all IPv4 before all IPv6, then numerically) and encoded in JSON as its string form.
public struct IPAddress: Hashable, Comparable, Sendable {
    /// The address family, spelled as Kubernetes' `IPFamily` values.
    public enum Family: String, Hashable, Sendable, Codable, CaseIterable {
        case ipv4 = "IPv4"
        case ipv6 = "IPv6"

        /// Number of bits in an address of this family.
        public var bitWidth: Int { self == .ipv4 ? 32 : 128 }
    }

    public let family: Family
    /// High 64 bits of the 128-bit value (always 0 for IPv4).
    let high: UInt64
    /// Low 64 bits of the 128-bit value (IPv4 uses the low 32 bits).
    let low: UInt64

    init(family: Family, high: UInt64, low: UInt64) {
        self.family = family
        self.high = high
        self.low = low
    }

    /// An IPv4 address from its 32-bit value (`0x0A600001` is 10.96.0.1).
    public init(ipv4 value: UInt32) {
        self.init(family: .ipv4, high: 0, low: UInt64(value))
    }

    /// An IPv6 address from its two 64-bit halves.
    public init(ipv6High high: UInt64, low: UInt64) {
        self.init(family: .ipv6, high: high, low: low)
    }

    /// An address from 4 (IPv4) or 16 (IPv6) network-order bytes; nil for any other count.
    public init?(bytes: [UInt8]) {
        switch bytes.count {
        case 4:
            self.init(ipv4: bytes.reduce(UInt32(0)) { $0 << 8 | UInt32($1) })
        case 16:
            let hi = bytes[0..<8].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            let lo = bytes[8..<16].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            self.init(ipv6High: hi, low: lo)
        default:
            return nil
        }
    }

    /// Network-order bytes: 4 for IPv4, 16 for IPv6.
    public var bytes: [UInt8] {
        switch family {
        case .ipv4:
            return (0..<4).map { UInt8(truncatingIfNeeded: low >> (24 - 8 * UInt64($0))) }
        case .ipv6:
            let hi = (0..<8).map { UInt8(truncatingIfNeeded: high >> (56 - 8 * UInt64($0))) }
            let lo = (0..<8).map { UInt8(truncatingIfNeeded: low >> (56 - 8 * UInt64($0))) }
            return hi + lo
        }
    }

    /// An address of `family` from its numeric value; nil when the value does not fit the family.
    public init?(family: Family, value: UInt128) {
        guard family == .ipv6 || value <= UInt128(UInt32.max) else { return nil }
        self.init(family: family, high: UInt64(truncatingIfNeeded: value >> 64), low: UInt64(truncatingIfNeeded: value))
    }

    /// The numeric value (IPv4 in the low 32 bits).
    public var value: UInt128 { UInt128(high) << 64 | UInt128(low) }

    /// The 32-bit value of an IPv4 address; nil for IPv6.
    public var ipv4Value: UInt32? { family == .ipv4 ? UInt32(truncatingIfNeeded: low) : nil }

    public var isIPv4: Bool { family == .ipv4 }
    /// The 128-bit value as two halves (IPv4: high 0, the address in the low 32 bits), for hashing on hot paths.
    public var halves: (high: UInt64, low: UInt64) { (high, low) }
    public var isIPv6: Bool { family == .ipv6 }

    /// True for `::ffff:a.b.c.d`.
    public var isIPv4Mapped: Bool { family == .ipv6 && high == 0 && low >> 32 == 0xFFFF }

    /// True for 127.0.0.0/8 and ::1.
    public var isLoopback: Bool {
        family == .ipv4 ? (low >> 24) == 127 : (high == 0 && low == 1)
    }

    /// True for 0.0.0.0 and ::.
    public var isUnspecified: Bool { high == 0 && low == 0 }

    public static func < (lhs: IPAddress, rhs: IPAddress) -> Bool {
        if lhs.family != rhs.family { return lhs.family == .ipv4 }
        return (lhs.high, lhs.low) < (rhs.high, rhs.low)
    }

    // MARK: Arithmetic

    /// The address `offset` places later, or nil when that leaves the family's address space.
    public func adding(_ offset: UInt64) -> IPAddress? {
        switch family {
        case .ipv4:
            let (sum, overflow) = low.addingReportingOverflow(offset)
            guard !overflow, sum <= UInt64(UInt32.max) else { return nil }
            return IPAddress(family: .ipv4, high: 0, low: sum)
        case .ipv6:
            let (lo, carry) = low.addingReportingOverflow(offset)
            let (hi, overflow) = high.addingReportingOverflow(carry ? 1 : 0)
            guard !overflow else { return nil }
            return IPAddress(family: .ipv6, high: hi, low: lo)
        }
    }

    /// The address `offset` places earlier, or nil when that goes below zero.
    public func subtracting(_ offset: UInt64) -> IPAddress? {
        let (lo, borrow) = low.subtractingReportingOverflow(offset)
        let (hi, underflow) = high.subtractingReportingOverflow(borrow ? 1 : 0)
        guard !underflow else { return nil }
        return IPAddress(family: family, high: hi, low: lo)
    }

    /// The address `offset` places away (negative goes down); nil when out of the address space.
    public func advanced(by offset: Int) -> IPAddress? {
        offset >= 0 ? adding(UInt64(offset)) : subtracting(UInt64(offset.magnitude))
    }

    /// `ip + n`: the address n places later, nil on overflow.
    public static func + (lhs: IPAddress, rhs: UInt64) -> IPAddress? { lhs.adding(rhs) }

    /// The number of addresses from `self` up to `other` (`other - self`), nil if other is
    /// smaller, of another family, or the distance does not fit 64 bits.
    public func distance(to other: IPAddress) -> UInt64? {
        guard family == other.family, !(other < self) else { return nil }
        let (lo, borrow) = other.low.subtractingReportingOverflow(low)
        let hi = other.high &- high &- (borrow ? 1 : 0)
        return hi == 0 ? lo : nil
    }
}

extension IPAddress: CustomStringConvertible, LosslessStringConvertible {
    /// Parses a textual address; nil when it is not one.
    public init?(_ description: String) {
        guard let parsed = IPAddressParser.parse(description) else { return nil }
        self = parsed
    }

    /// Canonical text: dotted quad, or RFC 5952 IPv6 (lower-case, longest zero run as `::`).
    public var description: String {
        switch family {
        case .ipv4:
            return bytes.map(String.init).joined(separator: ".")
        case .ipv6:
            if isIPv4Mapped {
                let v4 = IPAddress(ipv4: UInt32(truncatingIfNeeded: low))
                return "::ffff:\(v4)"
            }
            return IPAddressParser.formatIPv6(high: high, low: low)
        }
    }
}

extension IPAddress: Codable {
    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        let s = try c.decode(String.self)
        guard let ip = IPAddress(s) else {
            throw DecodingError.dataCorruptedError(in: c, debugDescription: "not an IP address: \(s)")
        }
        self = ip
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(description)
    }
}
