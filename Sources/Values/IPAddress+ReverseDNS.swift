extension IPAddress {
    /// The PTR owner name, without trailing dot: `1.0.96.10.in-addr.arpa` for 10.96.0.1,
    /// 32 reversed nibbles then `ip6.arpa` for IPv6.
    public var reverseDNSName: String {
        switch family {
        case .ipv4:
            return bytes.reversed().map(String.init).joined(separator: ".") + ".in-addr.arpa"
        case .ipv6:
            var nibbles: [String] = []
            for byte in bytes.reversed() {
                nibbles.append(String(byte & 0x0F, radix: 16))
                nibbles.append(String(byte >> 4, radix: 16))
            }
            return nibbles.joined(separator: ".") + ".ip6.arpa"
        }
    }

    /// Reads a complete PTR owner name back into an address (case-insensitive, trailing dot
    /// optional); nil when the name is not a full `in-addr.arpa`/`ip6.arpa` address name.
    public init?(reverseDNSName name: String) {
        var n = name.lowercased()
        if n.hasSuffix(".") { n.removeLast() }
        if n.hasSuffix(".in-addr.arpa") {
            let labels = n.dropLast(".in-addr.arpa".count).split(separator: ".", omittingEmptySubsequences: false)
            guard labels.count == 4 else { return nil }
            guard let v4 = IPAddressParser.parseIPv4(Substring(labels.reversed().joined(separator: "."))) else { return nil }
            self.init(ipv4: v4)
        } else if n.hasSuffix(".ip6.arpa") {
            let labels = n.dropLast(".ip6.arpa".count).split(separator: ".", omittingEmptySubsequences: false)
            guard labels.count == 32 else { return nil }
            var bytes: [UInt8] = []
            let nibbles = labels.reversed().map { UInt8($0, radix: 16) }
            var i = 0
            while i < 32 {
                guard labels[31 - i].count == 1, labels[30 - i].count == 1,
                      let hi = nibbles[i], let lo = nibbles[i + 1] else { return nil }
                bytes.append(hi << 4 | lo)
                i += 2
            }
            self.init(bytes: bytes)
        } else {
            return nil
        }
    }
}
