import KubeAPI
import Testing
@testable import DNSCore
import Values

@Suite struct DNSCacheTests {
    static let q = DNSQuestion(name: DNSName("Example.COM") ?? .root, type: .a)
    static let soa = DNSRecord(name: DNSName("com") ?? .root, ttl: 900,
                               data: .soa(SOAData(mname: .root, rname: .root, serial: 1, refresh: 1, retry: 1, expire: 1, minimum: 60)))

    static func response(_ rcode: DNSRCode, ttls: [UInt32], soa: Bool = false) -> DNSMessage {
        var m = DNSMessage.response(to: DNSMessage(questions: [q]), rcode: rcode)
        m.answers = ttls.enumerated().map { DNSRecord(name: q.name, ttl: $1, data: .a(IPAddress(ipv4: UInt32($0)))) }
        if soa { m.authority = [Self.soa] }
        return m
    }

    @Test func positiveEntriesAgeAndExpireAtTheSmallestTTL() throws {
        var cache = DNSCache()
        let key = DNSCache.Key(Self.q)
        let stored = cache.store(key, response: Self.response(.noError, ttls: [300, 30]), now: 100)
        #expect(stored)
        let found = cache.lookup(DNSCache.Key(DNSQuestion(name: DNSName("example.com") ?? .root, type: .a)), now: 110)
        let hit = try #require(found)
        #expect(hit.1 == .success)
        #expect(hit.0.answers.map(\.ttl) == [290, 20])
        let expired = cache.lookup(key, now: 130)
        #expect(expired == nil)
        #expect(cache.count == 0)
    }

    @Test func negativeEntriesUseTheSOAMinimum() {
        var cache = DNSCache()
        let key = DNSCache.Key(Self.q)
        let stored = cache.store(key, response: Self.response(.nxDomain, ttls: [], soa: true), now: 0)
        #expect(stored)
        let denial = cache.lookup(key, now: 59)
        #expect(denial?.1 == .denial)
        let expired = cache.lookup(key, now: 60)
        #expect(expired == nil)
    }

    @Test(arguments: [DNSRCode.servFail, .refused, .formErr])
    func failuresAreNotCached(_ rcode: DNSRCode) {
        var cache = DNSCache()
        let failure = cache.store(DNSCache.Key(Self.q), response: Self.response(rcode, ttls: [], soa: true), now: 0)
        let noSOA = cache.store(DNSCache.Key(Self.q), response: Self.response(.noError, ttls: []), now: 0)  // NODATA without SOA
        #expect(!failure && !noSOA)
    }

    @Test func capacityIsBounded() {
        var cache = DNSCache(capacity: 10)
        for i in 0..<100 {
            let q = DNSQuestion(name: DNSName("n\(i).example") ?? .root, type: .a)
            cache.store(DNSCache.Key(q), response: Self.response(.noError, ttls: [60]), now: UInt64(i))
        }
        #expect(cache.count == 10)
    }
}
