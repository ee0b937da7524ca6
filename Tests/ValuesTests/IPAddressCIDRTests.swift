import Foundation
import Testing
@testable import Values

struct IPAddressTests {
    @Test(arguments: [
        ("10.96.0.1", "10.96.0.1", IPAddress.Family.ipv4),
        ("0.0.0.0", "0.0.0.0", .ipv4),
        ("255.255.255.255", "255.255.255.255", .ipv4),
        ("::", "::", .ipv6),
        ("::1", "::1", .ipv6),
        ("FD00::1", "fd00::1", .ipv6),
        ("2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1", .ipv6),
        ("2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1", .ipv6),
        ("2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1", .ipv6),
        ("1:0:0:2:0:0:0:3", "1:0:0:2::3", .ipv6),
        ("1::", "1::", .ipv6),
        ("1:2:3:4:5:6:7::", "1:2:3:4:5:6:7:0", .ipv6),
        ("::ffff:10.0.0.1", "::ffff:10.0.0.1", .ipv6),
        ("64:ff9b::192.0.2.33", "64:ff9b::c000:221", .ipv6),
        ("fe80::1:2", "fe80::1:2", .ipv6),
    ])
    func parsesAndFormats(input: String, canonical: String, family: IPAddress.Family) throws {
        let ip = try #require(IPAddress(input))
        #expect(ip.description == canonical)
        #expect(ip.family == family)
        #expect(IPAddress(canonical) == ip)
    }

    @Test(arguments: [
        "", "1.2.3", "1.2.3.4.5", "010.0.0.1", "1.2.3.04", "256.1.1.1", "1.2.3.-1", " 1.2.3.4", "1.2.3.4 ",
        "a.b.c.d", "1..2.3", ":", ":::", "1:::2", "1::2::3", "12345::", "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7",
        "1:2:3:4:5:6:7:8::", "::1:2:3:4:5:6:7:8", "fe80::1%eth0", "g::1", "::1.2.3", "1.2.3.4::",
    ])
    func rejectsInvalid(input: String) {
        #expect(IPAddress(input) == nil)
    }

    @Test func arithmeticAndOverflow() throws {
        let ip = try #require(IPAddress("10.96.0.255"))
        #expect((ip + 1)?.description == "10.96.1.0")
        #expect(ip.advanced(by: -256)?.description == "10.95.255.255")
        #expect(try #require(IPAddress("255.255.255.255")).adding(1) == nil)
        #expect(try #require(IPAddress("0.0.0.0")).advanced(by: -1) == nil)
        #expect((try #require(IPAddress("::ffff:ffff:ffff:ffff")) + 1)?.description == "0:0:0:1::")
        #expect(try #require(IPAddress("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff")).adding(1) == nil)
        let a = try #require(IPAddress("10.0.0.1")), b = try #require(IPAddress("10.0.1.1"))
        #expect(a.distance(to: b) == 256)
        #expect(b.distance(to: a) == nil)
    }

    @Test func ordering() throws {
        let ips = ["::1", "10.0.0.2", "10.0.0.10", "1.2.3.4", "fd00::"].compactMap { IPAddress($0) }
        #expect(ips.sorted().map(\.description) == ["1.2.3.4", "10.0.0.2", "10.0.0.10", "::1", "fd00::"])
    }

    @Test(arguments: [
        ("10.96.0.1", "1.0.96.10.in-addr.arpa"),
        ("2001:db8::567:89ab", "b.a.9.8.7.6.5.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa"),
    ])
    func reverseDNS(ip: String, name: String) throws {
        let addr = try #require(IPAddress(ip))
        #expect(addr.reverseDNSName == name)
        #expect(IPAddress(reverseDNSName: name + ".") == addr)
        #expect(IPAddress(reverseDNSName: name.uppercased()) == addr)
    }

    @Test(arguments: ["0.96.10.in-addr.arpa", "1.0.96.010.in-addr.arpa", "1.2.ip6.arpa", "example.com", "x.0.96.10.in-addr.arpa"])
    func reverseDNSRejects(name: String) {
        #expect(IPAddress(reverseDNSName: name) == nil)
    }

    @Test func codableAsString() throws {
        let ip = try #require(IPAddress("fd00::a"))
        let data = try JSONEncoder().encode([ip])
        #expect(String(decoding: data, as: UTF8.self) == #"["fd00::a"]"#)
        #expect(try JSONDecoder().decode([IPAddress].self, from: data) == [ip])
        #expect(throws: DecodingError.self) { try JSONDecoder().decode([IPAddress].self, from: Data(#"["x"]"#.utf8)) }
    }
}

struct CIDRTests {
    @Test(arguments: [
        ("10.96.0.0/12", "10.96.0.0/12", UInt64(1 << 20), "10.111.255.255"),
        ("10.96.0.5/12", "10.96.0.0/12", UInt64(1 << 20), "10.111.255.255"),
        ("0.0.0.0/0", "0.0.0.0/0", UInt64(1) << 32, "255.255.255.255"),
        ("192.168.1.7/32", "192.168.1.7/32", 1, "192.168.1.7"),
        ("fd00::/108", "fd00::/108", UInt64(1 << 20), "fd00::f:ffff"),
        ("fd00::/64", "fd00::/64", UInt64.max, "fd00::ffff:ffff:ffff:ffff"),
        ("::/0", "::/0", UInt64.max, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"),
        ("2001:db8::1/128", "2001:db8::1/128", 1, "2001:db8::1"),
    ])
    func parses(input: String, canonical: String, size: UInt64, last: String) throws {
        let cidr = try #require(CIDR(input))
        #expect(cidr.description == canonical)
        #expect(cidr.size == size)
        #expect(cidr.lastAddress.description == last)
        #expect(cidr.contains(cidr.lastAddress))
        #expect(cidr.contains(cidr.network))
    }

    @Test(arguments: ["10.0.0.0", "10.0.0.0/33", "10.0.0.0/-1", "10.0.0.0/012", "fd00::/129", "10.0.0.0/", "/8", "10.0.0.0/8/8", "010.0.0.0/8"])
    func rejects(input: String) {
        #expect(CIDR(input) == nil)
    }

    @Test func containsOffsetsAndOverlaps() throws {
        let c = try #require(CIDR("10.96.0.0/12"))
        #expect(c.netmask.description == "255.240.0.0")
        #expect(c.contains(try #require(IPAddress("10.100.3.4"))))
        #expect(!c.contains(try #require(IPAddress("10.112.0.0"))))
        #expect(!c.contains(try #require(IPAddress("::a60:1"))))
        #expect(c.address(at: 1)?.description == "10.96.0.1")
        #expect(c.address(at: c.size) == nil)
        #expect(c.offset(of: try #require(IPAddress("10.96.1.10"))) == 266)
        #expect(c.overlaps(try #require(CIDR("10.100.0.0/16"))))
        #expect(try #require(CIDR("10.0.0.0/8")).overlaps(c))
        #expect(!c.overlaps(try #require(CIDR("10.112.0.0/12"))))
        #expect(!c.overlaps(try #require(CIDR("fd00::/8"))))
        let v6 = try #require(CIDR("fd00::/64"))
        #expect(v6.address(at: UInt64.max)?.description == "fd00::ffff:ffff:ffff:ffff")
        #expect(try #require(CIDR("fd00::/48")).offset(of: try #require(IPAddress("fd00:0:0:1::"))) == nil)
    }

    @Test func subnets() throws {
        let c = try #require(CIDR("10.244.0.0/16"))
        #expect(c.subnetCount(ofPrefix: 24) == 256)
        #expect(c.subnet(ofPrefix: 24, at: 0)?.description == "10.244.0.0/24")
        #expect(c.subnet(ofPrefix: 24, at: 255)?.description == "10.244.255.0/24")
        #expect(c.subnet(ofPrefix: 24, at: 256) == nil)
        #expect(c.subnet(ofPrefix: 8, at: 0) == nil)
        #expect(c.subnetIndex(of: try #require(CIDR("10.244.7.0/24"))) == 7)
        #expect(Array(c.subnets(ofPrefix: 18)).map(\.description) == ["10.244.0.0/18", "10.244.64.0/18", "10.244.128.0/18", "10.244.192.0/18"])
        let v6 = try #require(CIDR("fd00:10::/56"))
        #expect(v6.subnet(ofPrefix: 64, at: 3)?.description == "fd00:10:0:3::/64")
        #expect(v6.subnet(ofPrefix: 120, at: 1)?.description == "fd00:10::100/120")
        #expect(v6.subnetIndex(of: try #require(CIDR("fd00:10:0:3::/64"))) == 3)
    }
}
