import KubeAPI
import Testing
@testable import DNSCore
import Values

/// One row: a query and the response sections in presentation format (compared sorted).
struct ZoneCase: CustomTestStringConvertible, Sendable {
    var qname: String
    var qtype: DNSType
    var rcode: DNSRCode = .noError
    var answer: [String] = []
    var authority: [String] = []
    var additional: [String] = []
    var testDescription: String { "\(qname) \(qtype)" }
}

private let soa = "cluster.local. 5 IN SOA ns.dns.cluster.local. hostmaster.cluster.local. 1499347823 7200 1800 86400 5"

private func query(_ name: String, _ type: DNSType) -> DNSMessage {
    var h = DNSHeader(id: 7)
    h.recursionDesired = true
    return DNSMessage(header: h, questions: [DNSQuestion(name: DNSName(name) ?? .root, type: type)])
}

private func check(_ c: ZoneCase, _ index: ServiceIndex) {
    guard case .response(let r) = ZoneAnswerer.answer(query(c.qname, c.qtype), index: index) else {
        Issue.record("\(c.qname) \(c.qtype): expected a response")
        return
    }
    #expect(r.rcode == c.rcode, "\(c.qname) \(c.qtype)")
    #expect(r.answers.map(\.description).sorted() == c.answer.sorted(), "\(c.qname) \(c.qtype) answer")
    #expect(r.authority.map(\.description).sorted() == c.authority.sorted(), "\(c.qname) \(c.qtype) authority")
    #expect(r.additional.map(\.description).sorted() == c.additional.sorted(), "\(c.qname) \(c.qtype) additional")
    #expect(r.header.authoritative && r.header.isResponse && r.header.id == 7 && r.header.recursionDesired)
}

@Suite struct ZoneAnswererTests {
    static let services: [ZoneCase] = [
        // ClusterIP services
        .init(qname: "svc1.testns.svc.cluster.local.", qtype: .a, answer: ["svc1.testns.svc.cluster.local. 5 IN A 10.0.0.1"]),
        .init(qname: "svc1.testns.svc.cluster.local.", qtype: .aaaa, authority: [soa]),
        .init(qname: "svc1.testns.svc.cluster.local.", qtype: .soa, authority: [soa]),
        .init(qname: "svc1.testns.svc.cluster.local.", qtype: .srv,
              answer: ["svc1.testns.svc.cluster.local. 5 IN SRV 0 100 80 svc1.testns.svc.cluster.local."],
              additional: ["svc1.testns.svc.cluster.local. 5 IN A 10.0.0.1"]),
        .init(qname: "svcempty.testns.svc.cluster.local.", qtype: .srv,
              answer: ["svcempty.testns.svc.cluster.local. 5 IN SRV 0 100 80 svcempty.testns.svc.cluster.local."],
              additional: ["svcempty.testns.svc.cluster.local. 5 IN A 10.0.0.2"]),
        .init(qname: "_http._tcp.svc1.testns.svc.cluster.local.", qtype: .srv,
              answer: ["_http._tcp.svc1.testns.svc.cluster.local. 5 IN SRV 0 100 80 svc1.testns.svc.cluster.local."],
              additional: ["svc1.testns.svc.cluster.local. 5 IN A 10.0.0.1"]),
        .init(qname: "_http._udp.svc1.testns.svc.cluster.local.", qtype: .srv, rcode: .nxDomain, authority: [soa]),
        .init(qname: "_tcp.svc1.testns.svc.cluster.local.", qtype: .srv, authority: [soa]),
        .init(qname: "_http._tcp.svc1.testns.svc.cluster.local.", qtype: .a, authority: [soa]),
        .init(qname: "_dns._udp.dns.kube-system.svc.cluster.local.", qtype: .srv,
              answer: ["_dns._udp.dns.kube-system.svc.cluster.local. 5 IN SRV 0 100 53 dns.kube-system.svc.cluster.local."],
              additional: ["dns.kube-system.svc.cluster.local. 5 IN A 10.96.0.10"]),
        .init(qname: "svc6.testns.svc.cluster.local.", qtype: .aaaa, answer: ["svc6.testns.svc.cluster.local. 5 IN AAAA 1234:abcd::1"]),
        .init(qname: "_http._tcp.svc6.testns.svc.cluster.local.", qtype: .srv,
              answer: ["_http._tcp.svc6.testns.svc.cluster.local. 5 IN SRV 0 100 80 svc6.testns.svc.cluster.local."],
              additional: ["svc6.testns.svc.cluster.local. 5 IN AAAA 1234:abcd::1"]),
        .init(qname: "svc-dual-stack.testns.svc.cluster.local.", qtype: .a, answer: ["svc-dual-stack.testns.svc.cluster.local. 5 IN A 10.0.0.3"]),
        .init(qname: "svc-dual-stack.testns.svc.cluster.local.", qtype: .aaaa, answer: ["svc-dual-stack.testns.svc.cluster.local. 5 IN AAAA 10::3"]),
        // Headless services
        .init(qname: "hdls1.testns.svc.cluster.local.", qtype: .a, answer: [
            "hdls1.testns.svc.cluster.local. 5 IN A 172.0.0.2", "hdls1.testns.svc.cluster.local. 5 IN A 172.0.0.3",
            "hdls1.testns.svc.cluster.local. 5 IN A 172.0.0.4", "hdls1.testns.svc.cluster.local. 5 IN A 172.0.0.5"]),
        .init(qname: "hdls1.testns.svc.cluster.local.", qtype: .aaaa, answer: [
            "hdls1.testns.svc.cluster.local. 5 IN AAAA 5678:abcd::1", "hdls1.testns.svc.cluster.local. 5 IN AAAA 5678:abcd::2"]),
        .init(qname: "172-0-0-2.hdls1.testns.svc.cluster.local.", qtype: .a, answer: ["172-0-0-2.hdls1.testns.svc.cluster.local. 5 IN A 172.0.0.2"]),
        .init(qname: "172-0-0-9.hdls1.testns.svc.cluster.local.", qtype: .a, rcode: .nxDomain, authority: [soa]),
        .init(qname: "dup-name.hdls1.testns.svc.cluster.local.", qtype: .a, answer: [
            "dup-name.hdls1.testns.svc.cluster.local. 5 IN A 172.0.0.4", "dup-name.hdls1.testns.svc.cluster.local. 5 IN A 172.0.0.5"]),
        .init(qname: "5678-abcd--2.hdls1.testns.svc.cluster.local.", qtype: .aaaa,
              answer: ["5678-abcd--2.hdls1.testns.svc.cluster.local. 5 IN AAAA 5678:abcd::2"]),
        .init(qname: "_http._tcp.hdls1.testns.svc.cluster.local.", qtype: .srv, answer: [
            "_http._tcp.hdls1.testns.svc.cluster.local. 5 IN SRV 0 16 80 172-0-0-2.hdls1.testns.svc.cluster.local.",
            "_http._tcp.hdls1.testns.svc.cluster.local. 5 IN SRV 0 16 80 172-0-0-3.hdls1.testns.svc.cluster.local.",
            "_http._tcp.hdls1.testns.svc.cluster.local. 5 IN SRV 0 16 80 5678-abcd--1.hdls1.testns.svc.cluster.local.",
            "_http._tcp.hdls1.testns.svc.cluster.local. 5 IN SRV 0 16 80 5678-abcd--2.hdls1.testns.svc.cluster.local.",
            "_http._tcp.hdls1.testns.svc.cluster.local. 5 IN SRV 0 16 80 dup-name.hdls1.testns.svc.cluster.local."],
              additional: [
            "172-0-0-2.hdls1.testns.svc.cluster.local. 5 IN A 172.0.0.2", "172-0-0-3.hdls1.testns.svc.cluster.local. 5 IN A 172.0.0.3",
            "5678-abcd--1.hdls1.testns.svc.cluster.local. 5 IN AAAA 5678:abcd::1",
            "5678-abcd--2.hdls1.testns.svc.cluster.local. 5 IN AAAA 5678:abcd::2",
            "dup-name.hdls1.testns.svc.cluster.local. 5 IN A 172.0.0.4", "dup-name.hdls1.testns.svc.cluster.local. 5 IN A 172.0.0.5"]),
        .init(qname: "hdlsprtls.testns.svc.cluster.local.", qtype: .a, answer: ["hdlsprtls.testns.svc.cluster.local. 5 IN A 172.0.0.20"]),
        .init(qname: "172-0-0-20.hdlsprtls.testns.svc.cluster.local.", qtype: .a,
              answer: ["172-0-0-20.hdlsprtls.testns.svc.cluster.local. 5 IN A 172.0.0.20"]),
        .init(qname: "hdlsdown.testns.svc.cluster.local.", qtype: .a, rcode: .nxDomain, authority: [soa]),
        .init(qname: "hdlsnotready.testns.svc.cluster.local.", qtype: .a, answer: ["hdlsnotready.testns.svc.cluster.local. 5 IN A 172.0.0.40"]),
        .init(qname: "bogusendpoint.hdls1.testns.svc.cluster.local.", qtype: .a, rcode: .nxDomain, authority: [soa]),
        .init(qname: "bogusendpoint.svc0.testns.svc.cluster.local.", qtype: .a, rcode: .nxDomain, authority: [soa]),
        // ExternalName
        .init(qname: "external.testns.svc.cluster.local.", qtype: .cname,
              answer: ["external.testns.svc.cluster.local. 5 IN CNAME ext.interwebs.test."]),
        .init(qname: "external-to-service.testns.svc.cluster.local.", qtype: .a, answer: [
            "external-to-service.testns.svc.cluster.local. 5 IN CNAME svc1.testns.svc.cluster.local.",
            "svc1.testns.svc.cluster.local. 5 IN A 10.0.0.1"]),
        .init(qname: "endpoint.external.testns.svc.cluster.local.", qtype: .cname, rcode: .nxDomain, authority: [soa]),
        // Names that do not exist, empty non-terminals and the apex
        .init(qname: "svc0.testns.svc.cluster.local.", qtype: .a, rcode: .nxDomain, authority: [soa]),
        .init(qname: "svc0.svc-nons.svc.cluster.local.", qtype: .a, rcode: .nxDomain, authority: [soa]),
        .init(qname: "svc-nons.svc.cluster.local.", qtype: .a, rcode: .nxDomain, authority: [soa]),
        .init(qname: "svc.cluster.local.", qtype: .a, authority: [soa]),
        .init(qname: "svc.cluster.local.", qtype: .ns, authority: [soa]),
        .init(qname: "testns.svc.cluster.local.", qtype: .a, authority: [soa]),
        .init(qname: "testns.svc.cluster.local.", qtype: .ns, authority: [soa]),
        .init(qname: "pod.cluster.local.", qtype: .a, authority: [soa]),
        .init(qname: "foo.cluster.local.", qtype: .ns, rcode: .nxDomain, authority: [soa]),
        .init(qname: "foo.svc.cluster.local.", qtype: .ns, rcode: .nxDomain, authority: [soa]),
        .init(qname: "cluster.local.", qtype: .soa, answer: [soa]),
        .init(qname: "cluster.local.", qtype: .ns, answer: ["cluster.local. 5 IN NS ns.dns.cluster.local."]),
        .init(qname: "cluster.local.", qtype: .a, authority: [soa]),
        .init(qname: "dns-version.cluster.local.", qtype: .txt, answer: ["dns-version.cluster.local. 28800 IN TXT \"1.1.0\""]),
        .init(qname: "dns-version.cluster.local.", qtype: .a, authority: [soa]),
        // Reverse names of ClusterIPs and endpoints
        .init(qname: "1.0.0.10.in-addr.arpa.", qtype: .ptr, answer: ["1.0.0.10.in-addr.arpa. 5 IN PTR svc1.testns.svc.cluster.local."]),
        .init(qname: "4.0.0.172.in-addr.arpa.", qtype: .ptr, answer: ["4.0.0.172.in-addr.arpa. 5 IN PTR dup-name.hdls1.testns.svc.cluster.local."]),
        .init(qname: "2.0.0.172.in-addr.arpa.", qtype: .ptr, answer: ["2.0.0.172.in-addr.arpa. 5 IN PTR 172-0-0-2.hdls1.testns.svc.cluster.local."]),
        .init(qname: IPAddress("1234:abcd::1").map { $0.reverseDNSName + "." } ?? "", qtype: .ptr,
              answer: [(IPAddress("1234:abcd::1").map { $0.reverseDNSName } ?? "") + ". 5 IN PTR svc6.testns.svc.cluster.local."]),
        .init(qname: "1.0.0.10.in-addr.arpa.", qtype: .a, authority: [soa]),
        // Pods are disabled by default
        .init(qname: "10-244-0-5.testns.pod.cluster.local.", qtype: .a, rcode: .nxDomain, authority: [soa]),
    ]

    @Test(arguments: services) func answers(_ c: ZoneCase) { check(c, ZoneFixture.index()) }

    static let insecurePods: [ZoneCase] = [
        .init(qname: "10-244-0-5.testns.pod.cluster.local.", qtype: .a, answer: ["10-244-0-5.testns.pod.cluster.local. 5 IN A 10.244.0.5"]),
        .init(qname: "10-244-9-9.anything.pod.cluster.local.", qtype: .a, answer: ["10-244-9-9.anything.pod.cluster.local. 5 IN A 10.244.9.9"]),
        .init(qname: "fd00--5.testns.pod.cluster.local.", qtype: .aaaa, answer: ["fd00--5.testns.pod.cluster.local. 5 IN AAAA fd00::5"]),
        .init(qname: "10-244-0-5.testns.pod.cluster.local.", qtype: .aaaa, authority: [soa]),
        .init(qname: "not-an-ip.testns.pod.cluster.local.", qtype: .a, rcode: .nxDomain, authority: [soa]),
        .init(qname: "testns.pod.cluster.local.", qtype: .a, authority: [soa]),
    ]

    @Test(arguments: insecurePods) func insecurePodRecords(_ c: ZoneCase) { check(c, ZoneFixture.index(pods: .insecure)) }

    static let verifiedPods: [ZoneCase] = [
        .init(qname: "10-244-0-5.testns.pod.cluster.local.", qtype: .a, answer: ["10-244-0-5.testns.pod.cluster.local. 5 IN A 10.244.0.5"]),
        .init(qname: "10-244-0-5.other.pod.cluster.local.", qtype: .a, rcode: .nxDomain, authority: [soa]),
        .init(qname: "10-244-9-9.testns.pod.cluster.local.", qtype: .a, rcode: .nxDomain, authority: [soa]),
    ]

    @Test(arguments: verifiedPods) func verifiedPodRecords(_ c: ZoneCase) { check(c, ZoneFixture.index(pods: .verified)) }

    @Test func endpointPodNames() {
        check(.init(qname: "web-0.hdlsprtls.testns.svc.cluster.local.", qtype: .a,
                    answer: ["web-0.hdlsprtls.testns.svc.cluster.local. 5 IN A 172.0.0.20"]), ZoneFixture.index(endpointPodNames: true))
    }

    @Test func queryCaseIsEchoed() {
        guard case .response(let r) = ZoneAnswerer.answer(query("SVC1.TestNS.svc.Cluster.Local.", .a), index: ZoneFixture.index()) else {
            Issue.record("no response"); return
        }
        #expect(r.questions.first?.name.description == "SVC1.TestNS.svc.Cluster.Local.")
        #expect(r.answers.map(\.description) == ["SVC1.TestNS.svc.Cluster.Local. 5 IN A 10.0.0.1"])
    }

    @Test func servfailUntilSynced() {
        let index = ServiceIndex.unsynced(ZoneOptions())
        #expect(ZoneAnswerer.answer(query("svc1.testns.svc.cluster.local.", .a), index: index)
            == .response(.response(to: query("svc1.testns.svc.cluster.local.", .a), rcode: .servFail)))
        #expect(ZoneAnswerer.answer(query("example.com.", .a), index: index) == .forward)
    }

    @Test func outOfZoneNamesAreForwarded() {
        #expect(ZoneAnswerer.answer(query("example.com.", .a), index: ZoneFixture.index()) == .forward)
        #expect(ZoneAnswerer.answer(query("9.9.9.9.in-addr.arpa.", .ptr), index: ZoneFixture.index()) == .forward)
        #expect(ZoneAnswerer.answer(query("0.0.10.in-addr.arpa.", .ptr), index: ZoneFixture.index()) == .forward)
        // Only the canonical reverse name of a ClusterIP is ours.
        #expect(ZoneAnswerer.answer(query("01.0.0.10.in-addr.arpa.", .ptr), index: ZoneFixture.index()) == .forward)
        #expect(ZoneAnswerer.answer(query("1.0.0.010.in-addr.arpa.", .ptr), index: ZoneFixture.index()) == .forward)
    }

    @Test func externalNameIsChasedUpstream() {
        let q = query("external.testns.svc.cluster.local.", .a)
        guard case .chase(let partial, let target, let type) = ZoneAnswerer.answer(q, index: ZoneFixture.index()) else {
            Issue.record("expected a chase"); return
        }
        #expect(target == DNSName("ext.interwebs.test") && type == .a)
        #expect(partial.answers.map(\.description) == ["external.testns.svc.cluster.local. 5 IN CNAME ext.interwebs.test."])
    }

    @Test func malformedQueries() {
        var two = query("a.cluster.local.", .a)
        two.questions.append(two.questions[0])
        #expect(ZoneAnswerer.answer(two, index: ZoneFixture.index()) == .response(.response(to: two, rcode: .formErr)))
        var notify = query("cluster.local.", .soa)
        notify.header.opcode = 4
        #expect(ZoneAnswerer.answer(notify, index: ZoneFixture.index()) == .response(.response(to: notify, rcode: .notImp)))
        var v1 = query("cluster.local.", .soa)
        var edns = EDNS()
        edns.version = 1
        v1.edns = edns
        guard case .response(let r) = ZoneAnswerer.answer(v1, index: ZoneFixture.index()) else { Issue.record("no response"); return }
        #expect(r.rcode == .badVers)
    }

    @Test func answersSurviveTheWire() throws {
        guard case .response(let r) = ZoneAnswerer.answer(query("_http._tcp.hdls1.testns.svc.cluster.local.", .srv), index: ZoneFixture.index()) else {
            Issue.record("no response"); return
        }
        #expect(try DNSMessage.decode(r.encode()) == r)
    }
}
