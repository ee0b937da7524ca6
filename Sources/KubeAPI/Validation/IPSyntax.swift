/// Syntax checks for IP addresses and CIDRs (enough for validation; `Net/` has the real value types).
enum IPSyntax {
    /// The address bytes (4 or 16) of an IPv4 or IPv6 literal, or nil. IPv4-mapped IPv6 stays 16 bytes.
    static func parse(_ text: String) -> [UInt8]? {
        if text.contains(":") { return parseIPv6(Substring(text)) }
        return parseIPv4(Substring(text))
    }

    /// The address bytes and prefix length of `addr/prefix`, or nil.
    static func parseCIDR(_ text: String) -> (bytes: [UInt8], prefix: Int)? {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let bytes = parse(String(parts[0])),
              !parts[1].isEmpty, parts[1].count <= 3, parts[1].allSatisfy({ $0.isASCII && $0.isNumber }),
              let prefix = Int(parts[1]), prefix <= bytes.count * 8 else { return nil }
        return (bytes, prefix)
    }

    /// Dotted quad; leading zeros are accepted as decimal, as upstream's "sloppy" parser does.
    static func parseIPv4(_ text: Substring) -> [UInt8]? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var bytes: [UInt8] = []
        for part in parts {
            guard !part.isEmpty, part.count <= 3, part.allSatisfy({ $0.isASCII && $0.isNumber }),
                  let v = Int(part), v <= 255 else { return nil }
            bytes.append(UInt8(v))
        }
        return bytes
    }

    static func parseIPv6(_ text: Substring) -> [UInt8]? {
        var head: [UInt16] = [], tail: [UInt16] = []
        var sawGap = false
        var rest = text
        var tailV4: [UInt8] = []
        if let gap = text.range(of: "::") {
            sawGap = true
            let before = text[..<gap.lowerBound], after = text[gap.upperBound...]
            if after.contains("::") { return nil }
            guard let h = groups(before, allowV4: false) else { return nil }
            head = h.groups
            rest = after
        }
        guard let t = groups(rest, allowV4: true) else { return nil }
        if sawGap { tail = t.groups } else { head = t.groups }
        tailV4 = t.v4
        let words = head.count + tail.count + tailV4.count / 2
        if sawGap ? words > 7 : words != 8 { return nil }
        var out: [UInt8] = []
        for w in head { out += [UInt8(w >> 8), UInt8(w & 0xff)] }
        if sawGap { out += [UInt8](repeating: 0, count: 16 - words * 2) }
        for w in tail { out += [UInt8(w >> 8), UInt8(w & 0xff)] }
        out += tailV4
        return out
    }

    /// Colon-separated hex groups, optionally ending in an embedded IPv4 address.
    private static func groups(_ text: Substring, allowV4: Bool) -> (groups: [UInt16], v4: [UInt8])? {
        if text.isEmpty { return ([], []) }
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        var out: [UInt16] = []
        for (i, part) in parts.enumerated() {
            if i == parts.count - 1, allowV4, part.contains(".") {
                guard let v4 = parseIPv4(part) else { return nil }
                return (out, v4)
            }
            guard !part.isEmpty, part.count <= 4, part.allSatisfy({ $0.isHexDigit && $0.isASCII }),
                  let v = UInt16(part, radix: 16) else { return nil }
            out.append(v)
        }
        return (out, [])
    }
}
