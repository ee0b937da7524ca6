/// Text ↔ bits for `IPAddress`; strict like Go's `netip.ParseAddr`.
enum IPAddressParser {
    static func parse(_ s: String) -> IPAddress? {
        if s.utf8.contains(UInt8(ascii: ":")) { return parseIPv6(Substring(s)) }
        return parseIPv4(Substring(s)).map { IPAddress(ipv4: $0) }
    }

    /// Four decimal octets, 0–255, no leading zeros, no signs or spaces. One pass over the UTF-8 bytes:
    /// the proxy parses every endpoint address of every slice.
    static func parseIPv4(_ s: Substring) -> UInt32? {
        var value: UInt32 = 0
        var octet: UInt32 = 0
        var digits = 0
        var dots = 0
        var leadingZero = false
        for byte in s.utf8 {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"):
                if leadingZero { return nil }
                if digits == 0 && byte == UInt8(ascii: "0") { leadingZero = true }
                octet = octet * 10 + UInt32(byte - UInt8(ascii: "0"))
                digits += 1
                guard digits <= 3, octet <= 255 else { return nil }
            case UInt8(ascii: "."):
                guard digits > 0, dots < 3 else { return nil }
                value = value << 8 | octet
                octet = 0; digits = 0; dots += 1; leadingZero = false
            default:
                return nil
            }
        }
        guard dots == 3, digits > 0 else { return nil }
        return value << 8 | octet
    }

    /// Eight groups of 1–4 hex digits, at most one `::`, optionally ending in a dotted quad.
    static func parseIPv6(_ s: Substring) -> IPAddress? {
        guard !s.contains("%") else { return nil }
        var head: [UInt16] = []
        var tail: [UInt16] = []
        if let gap = s.firstRange(of: "::") {
            let rest = s[gap.upperBound...]
            guard rest.firstRange(of: "::") == nil,
                  let h = parseGroups(s[..<gap.lowerBound], allowTrailingIPv4: false),
                  let t = parseGroups(rest, allowTrailingIPv4: true),
                  h.count + t.count <= 7 else { return nil }
            head = h
            tail = t
        } else {
            guard let groups = parseGroups(s, allowTrailingIPv4: true), groups.count == 8 else { return nil }
            head = groups
        }
        let groups = head + Array(repeating: 0, count: 8 - head.count - tail.count) + tail
        var hi: UInt64 = 0
        var lo: UInt64 = 0
        for g in groups[0..<4] { hi = hi << 16 | UInt64(g) }
        for g in groups[4..<8] { lo = lo << 16 | UInt64(g) }
        return IPAddress(ipv6High: hi, low: lo)
    }

    /// Colon-separated hex groups; an empty string is zero groups.
    private static func parseGroups(_ s: Substring, allowTrailingIPv4: Bool) -> [UInt16]? {
        if s.isEmpty { return [] }
        let parts = s.split(separator: ":", omittingEmptySubsequences: false)
        var groups: [UInt16] = []
        for (i, part) in parts.enumerated() {
            if i == parts.count - 1, allowTrailingIPv4, part.contains(".") {
                guard let v4 = parseIPv4(part) else { return nil }
                groups.append(UInt16(v4 >> 16))
                groups.append(UInt16(v4 & 0xFFFF))
                continue
            }
            guard (1...4).contains(part.count), part.allSatisfy({ $0.isHexDigit && $0.isASCII }),
                  let g = UInt16(part, radix: 16) else { return nil }
            groups.append(g)
        }
        return groups
    }

    /// RFC 5952: lower-case hex without leading zeros; the longest run (≥ 2) of zero groups,
    /// the first on ties, becomes `::`.
    static func formatIPv6(high: UInt64, low: UInt64) -> String {
        var groups: [UInt16] = []
        for i in 0..<4 { groups.append(UInt16(truncatingIfNeeded: high >> (48 - 16 * UInt64(i)))) }
        for i in 0..<4 { groups.append(UInt16(truncatingIfNeeded: low >> (48 - 16 * UInt64(i)))) }
        var bestStart = -1, bestLength = 0
        var i = 0
        while i < 8 {
            if groups[i] == 0 {
                var j = i
                while j < 8 && groups[j] == 0 { j += 1 }
                if j - i > bestLength { bestStart = i; bestLength = j - i }
                i = j
            } else {
                i += 1
            }
        }
        let hex = groups.map { String($0, radix: 16) }
        guard bestLength >= 2 else { return hex.joined(separator: ":") }
        let before = hex[0..<bestStart].joined(separator: ":")
        let after = hex[(bestStart + bestLength)...].joined(separator: ":")
        return before + "::" + after
    }
}
