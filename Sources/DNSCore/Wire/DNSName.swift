/// A domain name as its uncompressed wire labels, keeping the case it was written in.
/// Comparison and hashing ignore ASCII case (RFC 4343); `key` is the lower-cased dotted form
/// (no trailing dot) used to look names up.
///
/// Stored flat, as the wire form without the root's zero byte (length-prefixed labels): one allocation per
/// name, which matters for the many names an index holds (SRV targets, PTR names).
public struct DNSName: Hashable, Sendable, CustomStringConvertible {
    /// Length-prefixed labels, case kept; empty for the root.
    private var wire: [UInt8]

    /// Labels without length bytes; the root is the empty array.
    public var labels: [[UInt8]] {
        var out: [[UInt8]] = []
        var i = 0
        while i < wire.count {
            let length = Int(wire[i])
            out.append(Array(wire[i + 1..<i + 1 + length]))
            i += 1 + length
        }
        return out
    }

    /// Number of labels (0 for the root).
    public var labelCount: Int {
        var count = 0, i = 0
        while i < wire.count { i += 1 + Int(wire[i]); count += 1 }
        return count
    }

    /// Longest encoded name (RFC 1035 §2.3.4), counting length bytes and the root.
    public static let maxWireLength = 255
    public static let maxLabelLength = 63
    public static let root = DNSName(unchecked: [])

    init(unchecked labels: [[UInt8]]) {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(labels.reduce(0) { $0 + $1.count + 1 })
        for label in labels {
            bytes.append(UInt8(truncatingIfNeeded: label.count))
            bytes.append(contentsOf: label)
        }
        wire = bytes
    }

    private init(wire: [UInt8]) { self.wire = wire }

    /// Labels checked for length; nil when a label is empty or longer than 63 bytes or the name exceeds 255.
    public init?(labels: [[UInt8]]) {
        var total = 1
        for label in labels {
            guard !label.isEmpty, label.count <= Self.maxLabelLength else { return nil }
            total += label.count + 1
        }
        guard total <= Self.maxWireLength else { return nil }
        self.init(unchecked: labels)
    }

    /// This name with `prefix` labels in front (unchecked: callers add short, known labels).
    public func prepending(_ prefix: [[UInt8]]) -> DNSName {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(wire.count + prefix.reduce(0) { $0 + $1.count + 1 })
        for label in prefix {
            bytes.append(UInt8(truncatingIfNeeded: label.count))
            bytes.append(contentsOf: label)
        }
        bytes.append(contentsOf: wire)
        return DNSName(wire: bytes)
    }

    /// Parses dotted text (`www.example.com`, trailing dot optional; `.` is the root). No escapes.
    public init?(_ text: String) {
        if text == "." || text.isEmpty { self = .root; return }
        var t = Substring(text)
        if t.hasSuffix(".") { t = t.dropLast() }
        let parts = t.split(separator: ".", omittingEmptySubsequences: false).map { Array($0.utf8) }
        self.init(labels: parts)
    }

    /// Encoded length, uncompressed.
    public var wireLength: Int { wire.count + 1 }

    /// Lower-case dotted form without trailing dot (`""` for the root).
    public var key: String {
        guard !wire.isEmpty else { return "" }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(wire.count)
        var i = 0
        while i < wire.count {
            let length = Int(wire[i])
            if i > 0 { bytes.append(0x2E) }
            for b in wire[i + 1..<i + 1 + length] { bytes.append(Self.fold(b)) }
            i += 1 + length
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Dotted text with a trailing dot.
    public var description: String {
        wire.isEmpty ? "." : labels.map { String(decoding: $0, as: UTF8.self) }.joined(separator: ".") + "."
    }

    /// The name with its first `count` labels removed.
    public func dropping(_ count: Int) -> DNSName {
        var i = 0
        for _ in 0..<count where i < wire.count { i += 1 + Int(wire[i]) }
        return DNSName(wire: Array(wire[i...]))
    }

    /// True when `self` equals `zone` or lies below it (case-insensitive).
    public func isSubdomain(of zone: DNSName) -> Bool {
        guard wire.count >= zone.wire.count else { return false }
        let offset = wire.count - zone.wire.count
        // The suffix must start on a label boundary.
        var i = 0
        while i < offset { i += 1 + Int(wire[i]) }
        guard i == offset else { return false }
        for j in 0..<zone.wire.count where Self.fold(wire[offset + j]) != Self.fold(zone.wire[j]) { return false }
        return true
    }

    // Length bytes are at most 63, below the letters, so folding every byte leaves them alone.
    public static func == (lhs: DNSName, rhs: DNSName) -> Bool {
        guard lhs.wire.count == rhs.wire.count else { return false }
        for i in 0..<lhs.wire.count where fold(lhs.wire[i]) != fold(rhs.wire[i]) { return false }
        return true
    }

    public func hash(into hasher: inout Hasher) {
        // Eight folded bytes at a time.
        var word: UInt64 = 0
        var filled = 0
        for b in wire {
            word = word << 8 | UInt64(Self.fold(b))
            filled += 1
            if filled == 8 { hasher.combine(word); word = 0; filled = 0 }
        }
        hasher.combine(word)
        hasher.combine(wire.count)
    }

    @inline(__always) static func fold(_ b: UInt8) -> UInt8 { b >= 0x41 && b <= 0x5A ? b | 0x20 : b }

    static func equalFolded(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        for i in 0..<a.count where fold(a[i]) != fold(b[i]) { return false }
        return true
    }
}
