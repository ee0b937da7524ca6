import KubeAPI
import Testing
@testable import DNSCore
import Values

private func name(_ s: String) -> DNSName { DNSName(s) ?? .root }
private func ip(_ s: String) -> IPAddress { IPAddress(s) ?? IPAddress(ipv4: 0) }

@Suite struct DNSCodecTests {
    static let sample: DNSMessage = {
        var h = DNSHeader(id: 0xBEEF)
        h.isResponse = true; h.authoritative = true; h.recursionDesired = true; h.opcode = 0
        let zone = name("cluster.local")
        let soa = SOAData(mname: name("ns.dns.cluster.local"), rname: name("hostmaster.cluster.local"),
                          serial: 42, refresh: 7200, retry: 1800, expire: 86400, minimum: 5)
        var edns = EDNS(udpPayloadSize: 1232, dnssecOK: true)
        edns.options = [EDNSOption(code: 10, data: [1, 2, 3, 4, 5, 6, 7, 8])]
        return DNSMessage(
            header: h,
            questions: [DNSQuestion(name: name("Web.Default.svc.cluster.local"), type: .a)],
            answers: [
                DNSRecord(name: name("Web.Default.svc.cluster.local"), ttl: 5, data: .a(ip("10.96.0.10"))),
                DNSRecord(name: name("web.default.svc.cluster.local"), ttl: 5, data: .aaaa(ip("fd00::a"))),
                DNSRecord(name: name("ext.default.svc.cluster.local"), ttl: 5, data: .cname(name("example.com"))),
                DNSRecord(name: name("_http._tcp.web.default.svc.cluster.local"), ttl: 5,
                          data: .srv(SRVData(priority: 0, weight: 100, port: 80, target: name("web.default.svc.cluster.local")))),
                DNSRecord(name: name("10.0.96.10.in-addr.arpa"), ttl: 5, data: .ptr(name("web.default.svc.cluster.local"))),
                DNSRecord(name: name("dns-version.cluster.local"), ttl: 5, data: .txt([Array("1.1.0".utf8), []])),
                DNSRecord(name: name("x.example"), ttl: 60, data: .unknown(type: DNSType(rawValue: 99), bytes: [0xDE, 0xAD])),
            ],
            authority: [DNSRecord(name: zone, ttl: 5, data: .soa(soa)), DNSRecord(name: zone, ttl: 5, data: .ns(name("ns.dns.cluster.local")))],
            additional: [DNSRecord(name: name("ns.dns.cluster.local"), ttl: 5, data: .a(ip("10.96.0.10")))],
            edns: edns)
    }()

    @Test func roundTripAllRecordTypes() throws {
        let wire = Self.sample.encode()
        let decoded = try DNSMessage.decode(wire)
        #expect(decoded == Self.sample)
        // Case is preserved on the wire even though names compare case-insensitively.
        #expect(decoded.questions.first?.name.description == "Web.Default.svc.cluster.local.")
        #expect(decoded.rcode == .noError)
        #expect(decoded.edns?.dnssecOK == true)
    }

    @Test func compressionPointsRepeatedNamesBack() throws {
        let wire = Self.sample.encode()
        // The first answer's owner is a pointer to the question name at offset 12.
        let q = Self.sample.questions[0].name.wireLength + 4
        #expect(wire[12 + q] == 0xC0 && wire[12 + q + 1] == 12)
        // Each further A record for the same owner costs pointer (2) + fixed fields (10) + address (4).
        var m = DNSMessage(questions: [DNSQuestion(name: name("a.default.svc.cluster.local"), type: .a)])
        m.answers = [DNSRecord(name: name("A.default.svc.cluster.local"), ttl: 5, data: .a(ip("10.0.0.1")))]
        let one = m.encode().count
        m.answers.append(DNSRecord(name: name("a.DEFAULT.svc.cluster.local"), ttl: 5, data: .a(ip("10.0.0.2"))))
        #expect(m.encode().count == one + 16)
        // A sibling name shares the suffix: only its first label is written out.
        m.answers.append(DNSRecord(name: name("bb.default.svc.cluster.local"), ttl: 5, data: .a(ip("10.0.0.3"))))
        #expect(m.encode().count == one + 16 + 3 + 2 + 14)
    }

    @Test func extendedRCodeRoundTrips() throws {
        var m = DNSMessage.response(to: DNSMessage(questions: [], edns: EDNS()))
        m.rcode = .badVers
        let decoded = try DNSMessage.decode(m.encode())
        #expect(decoded.rcode == .badVers)
        #expect(decoded.header.rcode == 0)
    }

    @Test func truncationSetsTCAndKeepsOPT() throws {
        var m = DNSMessage.response(to: DNSMessage(questions: [DNSQuestion(name: name("big.default.svc.cluster.local"), type: .a)], edns: EDNS()))
        for i in 0..<200 {
            m.answers.append(DNSRecord(name: name("big.default.svc.cluster.local"), ttl: 5, data: .a(IPAddress(ipv4: 0x0AF4_0000 + UInt32(i)))))
        }
        let wire = m.encode(maxSize: 512)
        #expect(wire.count <= 512)
        let decoded = try DNSMessage.decode(wire)
        #expect(decoded.header.truncated)
        #expect(decoded.answers.count > 0 && decoded.answers.count < 200)
        #expect(decoded.edns != nil)
        let full = try DNSMessage.decode(m.encode(maxSize: 65535))
        #expect(!full.header.truncated && full.answers.count == 200)
    }

    @Test func aMessageWithTCSetKeepsItsRecords() throws {
        // Found by hack/fuzz-dns.sh: an incoming TC bit made the encoder drop every record.
        var m = DNSMessage(questions: [DNSQuestion(name: .root, type: .a)])
        m.header.truncated = true
        m.answers = [DNSRecord(name: .root, ttl: 5, data: .a(ip("192.0.2.1")))]
        #expect(try DNSMessage.decode(m.encode()) == m)
    }

    @Test func additionalThatDoesNotFitIsDroppedWithoutTC() throws {
        var m = DNSMessage(header: DNSHeader(id: 1), questions: [DNSQuestion(name: name("a.b"), type: .srv)])
        m.answers = [DNSRecord(name: name("a.b"), ttl: 5, data: .srv(SRVData(priority: 0, weight: 100, port: 1, target: name("t.a.b"))))]
        m.additional = (0..<100).map { DNSRecord(name: name("t.a.b"), ttl: 5, data: .a(IPAddress(ipv4: UInt32($0)))) }
        let decoded = try DNSMessage.decode(m.encode(maxSize: 512))
        #expect(!decoded.header.truncated)
        #expect(decoded.answers.count == 1 && decoded.additional.count < 100)
    }

    @Test func namesCompareCaseInsensitively() {
        #expect(name("WWW.Example.COM") == name("www.example.com"))
        #expect(name("WWW.Example.COM").key == "www.example.com")
        #expect(name("a.svc.cluster.local").isSubdomain(of: name("Cluster.Local")))
        #expect(!name("cluster.local.evil").isSubdomain(of: name("cluster.local")))
        #expect(DNSName(String(repeating: "a", count: 64) + ".com") == nil)
        #expect(DNSName((0..<130).map { _ in "a" }.joined(separator: ".")) == nil)
    }

    static let header: [UInt8] = [0x12, 0x34, 0x01, 0x00]
    static func packet(qd: UInt16 = 1, an: UInt16 = 0, _ body: [UInt8]) -> [UInt8] {
        header + [UInt8(qd >> 8), UInt8(qd & 0xFF), UInt8(an >> 8), UInt8(an & 0xFF), 0, 0, 0, 0] + body
    }

    static let malformed: [(String, [UInt8], DNSWireError)] = [
        ("empty", [], .shortHeader),
        ("11 bytes", Array(repeating: 0, count: 11), .shortHeader),
        ("question count with no question", packet([]), .truncated(at: 12)),
        ("label runs past the end", packet([5, 0x61, 0x62, 0, 1, 0, 1]), .truncated(at: 18)),
        ("pointer to itself", packet([0xC0, 12, 0, 1, 0, 1]), .badPointer(at: 12)),
        ("pointer forward", packet([0xC0, 14, 0, 0, 1, 0, 1]), .badPointer(at: 12)),
        ("pointer loop via label", packet([1, 0x61, 0xC0, 12, 0, 1, 0, 1]), .badPointer(at: 14)),
        ("reserved label type", packet([0x40, 0, 1, 0, 1]), .badLabelType(at: 12)),
        ("question shorter than 5 bytes", packet([0, 0]), .truncated(at: 12)),
        ("name too long", packet((0..<5).flatMap { _ in [63] + Array(repeating: UInt8(0x61), count: 63) } + [0, 0, 1, 0, 1]), .nameTooLong(at: 12 + 64 * 3)),
        ("A with 3 bytes", packet(qd: 0, an: 1, [0, 0, 1, 0, 1, 0, 0, 0, 5, 0, 3, 1, 2, 3]), .badRData(type: 1, at: 23)),
        ("rdlength past end", packet(qd: 0, an: 1, [0, 0, 1, 0, 1, 0, 0, 0, 5, 0, 9, 1, 2, 3]), .truncated(at: 23)),
        ("CNAME overruns rdata", packet(qd: 0, an: 1, [0, 0, 5, 0, 1, 0, 0, 0, 5, 0, 1, 1, 0x61, 0]), .badRData(type: 5, at: 23)),
        ("OPT in answers", packet(qd: 0, an: 1, [0, 0, 41, 4, 0xD0, 0, 0, 0, 0, 0, 0]), .badOPT),
        ("trailing garbage", packet(qd: 0, [1, 2, 3]), .trailingBytes(count: 3)),
        ("huge counts", header + [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF], .truncated(at: 12)),
    ]

    @Test(arguments: malformed) func malformedInputIsATypedError(_ label: String, bytes: [UInt8], expected: DNSWireError) {
        #expect(throws: expected, "\(label)") { try DNSMessage.decode(bytes) }
        #expect((DNSMessage.header(of: bytes) == nil) == (expected == .shortHeader))
    }

    @Test func decodeNeverCrashesOnMutations() {
        // Deterministic mutation of a valid packet: every decode either succeeds or throws.
        let base = Self.sample.encode()
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        for _ in 0..<20_000 {
            var bytes = base
            state = state &* 6364136223846793005 &+ 1442695040888963407
            let flips = Int(state >> 60) + 1
            for k in 0..<flips {
                let r = (state >> UInt64(k * 7 % 50)) ^ UInt64(k) &* 0x2545F4914F6CDD1D
                bytes[Int(r % UInt64(bytes.count))] = UInt8(truncatingIfNeeded: r >> 17)
            }
            if state & 1 == 0 { bytes.removeLast(Int(state >> 40) % bytes.count) }
            if let m = try? DNSMessage.decode(bytes) { _ = m.encode(maxSize: 512) }
        }
    }
}
