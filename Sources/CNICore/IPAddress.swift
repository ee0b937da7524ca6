/// An IPv4 or IPv6 address as a number, so ranges can be walked with arithmetic.
public struct IPAddress: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// True for IPv6.
    public var isIPv6: Bool
    /// The address as an unsigned number (IPv4 uses the low 32 bits).
    public var value: UInt128

    public init(isIPv6: Bool, value: UInt128) {
        self.isIPv6 = isIPv6
        self.value = isIPv6 ? value : value & 0xFFFF_FFFF
    }

    /// Number of bits in this family's addresses.
    public var bitWidth: Int { isIPv6 ? 128 : 32 }

    /// Parses dotted-quad IPv4 or RFC 4291 IPv6 text (with `::` and embedded IPv4).
    public init?(_ text: some StringProtocol) {
        if text.contains(":") {
            guard let v = Self.parseIPv6(Substring(text)) else { return nil }
            self.init(isIPv6: true, value: v)
        } else {
            guard let v = Self.parseIPv4(Substring(text)) else { return nil }
            self.init(isIPv6: false, value: UInt128(v))
        }
    }

    /// The next address, or nil past the end of the family.
    public func advanced(by n: Int) -> IPAddress? {
        let max: UInt128 = isIPv6 ? .max : 0xFFFF_FFFF
        if n >= 0 {
            let d = UInt128(n)
            guard value <= max - d else { return nil }
            return IPAddress(isIPv6: isIPv6, value: value + d)
        }
        let d = UInt128(-n)
        guard value >= d else { return nil }
        return IPAddress(isIPv6: isIPv6, value: value - d)
    }

    public static func < (a: IPAddress, b: IPAddress) -> Bool {
        a.isIPv6 == b.isIPv6 ? a.value < b.value : !a.isIPv6
    }

    /// Canonical text: dotted quad, or RFC 5952 IPv6 (longest zero run compressed).
    public var description: String {
        if !isIPv6 {
            let v = UInt32(truncatingIfNeeded: value)
            return "\(v >> 24).\(v >> 16 & 0xFF).\(v >> 8 & 0xFF).\(v & 0xFF)"
        }
        let groups = (0..<8).map { UInt16(truncatingIfNeeded: value >> UInt128(112 - 16 * $0)) }
        var bestStart = -1, bestLen = 0, runStart = -1
        for k in 0...8 {
            if k < 8, groups[k] == 0 {
                if runStart < 0 { runStart = k }
            } else if runStart >= 0 {
                if k - runStart > bestLen, k - runStart >= 2 { bestStart = runStart; bestLen = k - runStart }
                runStart = -1
            }
        }
        var parts: [String] = []
        var k = 0
        var out = ""
        while k < 8 {
            if k == bestStart {
                out += (parts.isEmpty ? "" : parts.joined(separator: ":")) + "::"
                parts = []
                k += bestLen
                continue
            }
            parts.append(String(groups[k], radix: 16))
            k += 1
        }
        return out + parts.joined(separator: ":")
    }

    static func parseIPv4(_ s: Substring) -> UInt32? {
        let parts = s.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var v: UInt32 = 0
        for p in parts {
            guard !p.isEmpty, p.count <= 3, p.allSatisfy({ $0.isASCII && $0.isNumber }),
                  let o = UInt32(p), o <= 255, !(p.count > 1 && p.first == "0") else { return nil }
            v = v << 8 | o
        }
        return v
    }

    static func parseIPv6(_ s: Substring) -> UInt128? {
        let halves = s.components(separatedBy: "::")
        guard halves.count <= 2 else { return nil }
        func groups(_ part: Substring, allowV4Tail: Bool) -> [UInt16]? {
            if part.isEmpty { return [] }
            var out: [UInt16] = []
            let fields = part.split(separator: ":", omittingEmptySubsequences: false)
            for (n, f) in fields.enumerated() {
                if allowV4Tail, n == fields.count - 1, f.contains(".") {
                    guard let v4 = parseIPv4(f) else { return nil }
                    out.append(UInt16(v4 >> 16)); out.append(UInt16(v4 & 0xFFFF))
                    continue
                }
                guard (1...4).contains(f.count), let g = UInt16(f, radix: 16) else { return nil }
                out.append(g)
            }
            return out
        }
        let head: [UInt16], tail: [UInt16]
        if halves.count == 2 {
            guard let h = groups(halves[0], allowV4Tail: false), let t = groups(halves[1], allowV4Tail: true),
                  h.count + t.count <= 7 else { return nil }
            head = h; tail = t
        } else {
            guard let h = groups(halves[0], allowV4Tail: true), h.count == 8 else { return nil }
            head = h; tail = []
        }
        let all = head + Array(repeating: 0, count: 8 - head.count - tail.count) + tail
        return all.reduce(UInt128(0)) { $0 << 16 | UInt128($1) }
    }
}

extension Substring {
    /// Splits on a multi-character separator (no Foundation).
    func components(separatedBy sep: String) -> [Substring] {
        var out: [Substring] = []
        var rest = self[...]
        while let r = rest.firstRange(of: sep) {
            out.append(rest[rest.startIndex..<r.lowerBound])
            rest = rest[r.upperBound...]
        }
        out.append(rest)
        return out
    }
}

/// An address with a prefix length, as in `10.244.1.5/24`.
public struct IPPrefix: Sendable, Hashable, CustomStringConvertible {
    /// The address as written (may have host bits set, like an interface address).
    public var address: IPAddress
    /// The prefix length in bits.
    public var length: Int

    public init(address: IPAddress, length: Int) {
        self.address = address
        self.length = length
    }

    /// Parses `address/length`.
    public init?(_ text: some StringProtocol) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let a = IPAddress(parts[0]), parts[1].allSatisfy({ $0.isASCII && $0.isNumber }),
              let l = Int(parts[1]), l >= 0, l <= a.bitWidth else { return nil }
        self.init(address: a, length: l)
    }

    private var hostMask: UInt128 {
        let hostBits = address.bitWidth - length
        return hostBits == 0 ? 0 : (hostBits == 128 ? .max : (UInt128(1) << UInt128(hostBits)) - 1)
    }

    /// The first address of the prefix.
    public var network: IPAddress { IPAddress(isIPv6: address.isIPv6, value: address.value & ~hostMask) }
    /// The last address of the prefix (the IPv4 broadcast address).
    public var last: IPAddress { IPAddress(isIPv6: address.isIPv6, value: address.value | hostMask) }
    /// The prefix with host bits cleared.
    public var masked: IPPrefix { IPPrefix(address: network, length: length) }

    /// True when `ip` is of the same family and inside the prefix.
    public func contains(_ ip: IPAddress) -> Bool {
        ip.isIPv6 == address.isIPv6 && (ip.value & ~hostMask) == network.value
    }

    public var description: String { "\(address)/\(length)" }
}
