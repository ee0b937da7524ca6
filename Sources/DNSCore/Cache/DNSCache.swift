/// A bounded cache of upstream responses (CoreDNS's `cache` plugin): positive answers for the
/// smallest TTL of their records, NXDOMAIN/NODATA for the SOA's negative TTL (RFC 2308). Times
/// are seconds on a monotonic clock passed in by the caller, so the cache is a pure value.
public struct DNSCache: Sendable {
    /// Cache key: lower-case name, type, class and the DO bit.
    public struct Key: Hashable, Sendable {
        public var name: String
        public var type: DNSType
        public var `class`: DNSClass
        public var dnssecOK: Bool

        public init(_ q: DNSQuestion, dnssecOK: Bool = false) {
            name = q.name.key; type = q.type; self.class = q.class; self.dnssecOK = dnssecOK
        }
    }

    /// Whether a lookup found a positive answer or a denial (NXDOMAIN/NODATA).
    public enum Kind: Sendable, Hashable { case success, denial }

    struct Entry: Sendable {
        var message: DNSMessage
        var stored: UInt64
        var expires: UInt64
        var kind: Kind
    }

    public let capacity: Int
    public let maxTTL: UInt32
    public let maxNegativeTTL: UInt32
    private var entries: [Key: Entry] = [:]

    public init(capacity: Int = 10_000, maxTTL: UInt32 = 3600, maxNegativeTTL: UInt32 = 1800) {
        self.capacity = max(1, capacity); self.maxTTL = maxTTL; self.maxNegativeTTL = maxNegativeTTL
    }

    public var count: Int { entries.count }

    /// The cached response with TTLs reduced by the time it spent in the cache; nil when absent or expired.
    public mutating func lookup(_ key: Key, now: UInt64) -> (DNSMessage, Kind)? {
        guard let entry = entries[key] else { return nil }
        guard now < entry.expires else {
            entries.removeValue(forKey: key)
            return nil
        }
        let age = UInt32(clamping: now - entry.stored)
        var m = entry.message
        func reduce(_ records: inout [DNSRecord]) {
            for i in records.indices { records[i].ttl = records[i].ttl > age ? records[i].ttl - age : 0 }
        }
        reduce(&m.answers); reduce(&m.authority); reduce(&m.additional)
        return (m, entry.kind)
    }

    /// Stores a response if it is cacheable (NOERROR with answers, NOERROR/NXDOMAIN denials with an SOA); returns whether it was stored.
    @discardableResult
    public mutating func store(_ key: Key, response: DNSMessage, now: UInt64) -> Bool {
        guard !response.header.truncated, let (ttl, kind) = Self.lifetime(of: response, maxTTL: maxTTL, maxNegativeTTL: maxNegativeTTL),
              ttl > 0 else { return false }
        if entries[key] == nil, entries.count >= capacity { evict(now: now) }
        var m = response
        m.edns = nil
        entries[key] = Entry(message: m, stored: now, expires: now + UInt64(ttl), kind: kind)
        return true
    }

    /// How long a response may be cached, and as what; nil when it may not be (SERVFAIL, REFUSED, …).
    static func lifetime(of r: DNSMessage, maxTTL: UInt32, maxNegativeTTL: UInt32) -> (UInt32, Kind)? {
        switch r.rcode {
        case .noError where !r.answers.isEmpty:
            let ttl = r.answers.map(\.ttl).min() ?? 0
            return (min(ttl, maxTTL), .success)
        case .noError, .nxDomain:
            guard let soa = r.authority.first(where: { $0.type == .soa }), case .soa(let data) = soa.data else { return nil }
            return (min(soa.ttl, data.minimum, maxNegativeTTL), .denial)
        default:
            return nil
        }
    }

    /// Drops expired entries; if none were, drops an arbitrary one (CoreDNS evicts at random too).
    private mutating func evict(now: UInt64) {
        let before = entries.count
        entries = entries.filter { $0.value.expires > now }
        if entries.count == before, let victim = entries.first?.key { entries.removeValue(forKey: victim) }
    }
}
