/// A domain name as its uncompressed wire labels, keeping the case it was written in.
/// Comparison and hashing ignore ASCII case (RFC 4343); `key` is the lower-cased dotted form
/// (no trailing dot) used to look names up.
public struct DNSName: Hashable, Sendable, CustomStringConvertible {
    /// Labels without length bytes; the root is the empty array.
    public private(set) var labels: [[UInt8]]

    /// Longest encoded name (RFC 1035 §2.3.4), counting length bytes and the root.
    public static let maxWireLength = 255
    public static let maxLabelLength = 63
    public static let root = DNSName(unchecked: [])

    init(unchecked labels: [[UInt8]]) { self.labels = labels }

    /// Labels checked for length; nil when a label is empty or longer than 63 bytes or the name exceeds 255.
    public init?(labels: [[UInt8]]) {
        var total = 1
        for label in labels {
            guard !label.isEmpty, label.count <= Self.maxLabelLength else { return nil }
            total += label.count + 1
        }
        guard total <= Self.maxWireLength else { return nil }
        self.labels = labels
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
    public var wireLength: Int { labels.reduce(1) { $0 + $1.count + 1 } }

    /// Lower-case dotted form without trailing dot (`""` for the root).
    public var key: String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(wireLength)
        for (i, label) in labels.enumerated() {
            if i > 0 { bytes.append(0x2E) }
            for b in label { bytes.append(b >= 0x41 && b <= 0x5A ? b | 0x20 : b) }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Dotted text with a trailing dot.
    public var description: String {
        labels.isEmpty ? "." : labels.map { String(decoding: $0, as: UTF8.self) }.joined(separator: ".") + "."
    }

    /// The name with its first `count` labels removed.
    public func dropping(_ count: Int) -> DNSName { DNSName(unchecked: Array(labels.dropFirst(count))) }

    /// True when `self` equals `zone` or lies below it (case-insensitive).
    public func isSubdomain(of zone: DNSName) -> Bool {
        guard labels.count >= zone.labels.count else { return false }
        let offset = labels.count - zone.labels.count
        for i in 0..<zone.labels.count where !Self.equalFolded(labels[offset + i], zone.labels[i]) { return false }
        return true
    }

    public static func == (lhs: DNSName, rhs: DNSName) -> Bool {
        guard lhs.labels.count == rhs.labels.count else { return false }
        for i in 0..<lhs.labels.count where !equalFolded(lhs.labels[i], rhs.labels[i]) { return false }
        return true
    }

    public func hash(into hasher: inout Hasher) {
        for label in labels {
            hasher.combine(label.count)
            for b in label { hasher.combine(Self.fold(b)) }
        }
    }

    @inline(__always) static func fold(_ b: UInt8) -> UInt8 { b >= 0x41 && b <= 0x5A ? b | 0x20 : b }

    static func equalFolded(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        for i in 0..<a.count where fold(a[i]) != fold(b[i]) { return false }
        return true
    }
}
