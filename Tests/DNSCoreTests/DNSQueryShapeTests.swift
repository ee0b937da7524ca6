import KubeAPI
import Testing
@testable import DNSCore

/// The shape reader behind the response cache: only plain queries qualify, and two queries with one key
/// get the same answer once ID, RD and the question's case are patched in.
struct DNSQueryShapeTests {
    static func query(_ name: String, _ type: DNSType = .a, id: UInt16 = 7, rd: Bool = true, edns: EDNS? = nil) -> [UInt8] {
        var header = DNSHeader(id: id)
        header.recursionDesired = rd
        return DNSMessage(header: header, questions: [DNSQuestion(name: DNSName(name) ?? .root, type: type)], edns: edns).encode()
    }

    static func shape(_ packet: [UInt8], tcp: Bool = false) -> DNSQueryShape? {
        packet.withUnsafeBytes { DNSQueryShape.parse($0, tcp: tcp) }
    }

    @Test func plainQueriesHaveCaseInsensitiveKeys() throws {
        let a = try #require(Self.shape(Self.query("Svc1.TestNS.svc.cluster.local")))
        let b = try #require(Self.shape(Self.query("svc1.testns.svc.cluster.local", id: 99, rd: false)))
        #expect(a.key == b.key)
        #expect(a.id == 7 && a.recursionDesired && b.id == 99 && !b.recursionDesired)
        #expect(a.questionLength == "svc1.testns.svc.cluster.local".utf8.count + 2 + 4)
        // Type, EDNS, DO bit, the UDP size limit and TCP all change the key.
        #expect(Self.shape(Self.query("svc1.testns.svc.cluster.local", .aaaa))?.key != a.key)
        let edns = try #require(Self.shape(Self.query("svc1.testns.svc.cluster.local", edns: EDNS())))
        #expect(edns.key != a.key)
        var dnssec = EDNS()
        dnssec.dnssecOK = true
        #expect(Self.shape(Self.query("svc1.testns.svc.cluster.local", edns: dnssec))?.key != edns.key)
        var small = EDNS()
        small.udpPayloadSize = 600
        #expect(Self.shape(Self.query("svc1.testns.svc.cluster.local", edns: small))?.key != edns.key)
        #expect(Self.shape(Self.query("svc1.testns.svc.cluster.local"), tcp: true)?.key != a.key)
    }

    @Test func anythingUnusualTakesTheFullDecoder() {
        let plain = Self.query("a.b.c")
        #expect(Self.shape(plain) != nil)
        var response = plain
        response[2] |= 0x80
        #expect(Self.shape(response) == nil, "a response")
        var notify = plain
        notify[2] |= 0x20
        #expect(Self.shape(notify) == nil, "opcode NOTIFY")
        #expect(Self.shape(plain + [0]) == nil, "trailing bytes")
        #expect(Self.shape(Array(plain.dropLast())) == nil, "cut short")
        var two = plain
        two[5] = 2
        #expect(Self.shape(two) == nil, "two questions")
        // A compression pointer in the question name.
        let pointer: [UInt8] = [0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xC0, 12, 0, 1, 0, 1]
        #expect(Self.shape(pointer) == nil)
        var version1 = EDNS()
        version1.version = 1
        #expect(Self.shape(Self.query("a.b.c", edns: version1)) == nil, "EDNS version 1 gets BADVERS from the full path")
        var withOption = EDNS()
        withOption.options = [EDNSOption(code: 10, data: [1, 2, 3, 4, 5, 6, 7, 8])]
        #expect(Self.shape(Self.query("a.b.c", edns: withOption)) == nil, "EDNS options")
        for length in 0..<plain.count { _ = Self.shape(Array(plain.prefix(length))) }  // never traps
    }

    @Test func patchedTemplateEqualsTheFullAnswer() throws {
        let index = ZoneFixture.index()
        func full(_ packet: [UInt8]) throws -> [UInt8] {
            let query = try DNSMessage.decode(packet)
            guard case .response(var r) = ZoneAnswerer.answer(query, index: index) else { Issue.record("not a zone answer"); return [] }
            r.header.recursionAvailable = true
            return r.encode(maxSize: 512)
        }
        for (first, second) in [("svc1.testns.svc.cluster.local", "SVC1.TestNs.Svc.Cluster.Local"),
                                ("_http._tcp.svc1.testns.svc.cluster.local", "_HTTP._tcp.svc1.testns.svc.cluster.local"),
                                ("nope.testns.svc.cluster.local", "NOPE.testns.svc.cluster.local")] {
            let type: DNSType = first.hasPrefix("_") ? .srv : .a
            let template = try full(Self.query(first, type, id: 1, rd: true))
            let packet = Self.query(second, type, id: 4242, rd: false)
            let shape = try #require(Self.shape(packet))
            var out = [UInt8](repeating: 0, count: 4096)
            let length = try #require(packet.withUnsafeBytes { query in
                out.withUnsafeMutableBytes { shape.patch(template, query: query, into: $0) }
            })
            #expect(Array(out.prefix(length)) == (try full(packet)), "\(second)")
        }
    }
}
