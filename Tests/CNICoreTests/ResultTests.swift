import Testing
@testable import CNICore
import Values

@Suite struct ResultTests {
    static let sample = CNIResult(
        interfaces: [.init(name: "kp0", mac: "aa:bb:cc:dd:ee:ff", mtu: 1500), .init(name: "eth0", mac: "11:22:33:44:55:66", mtu: 1500, sandbox: "/var/run/netns/p")],
        ips: [.init(address: IPPrefix("10.244.1.2/24")!, gateway: IPAddress("10.244.1.1"), interface: 1),
              .init(address: IPPrefix("fd00::2/64")!, gateway: IPAddress("fd00::1"), interface: 1)],
        routes: [.init(dst: IPPrefix("0.0.0.0/0")!, gw: IPAddress("10.244.1.1"), mtu: 1400)],
        dns: .init(nameservers: ["10.96.0.10"], search: ["default.svc.cluster.local"], options: ["ndots:5"]))

    @Test(arguments: [
        ("1.1.0", #"{"cniVersion":"1.1.0","dns":{"nameservers":["10.96.0.10"],"options":["ndots:5"],"search":["default.svc.cluster.local"]},"interfaces":[{"mac":"aa:bb:cc:dd:ee:ff","mtu":1500,"name":"kp0"},{"mac":"11:22:33:44:55:66","mtu":1500,"name":"eth0","sandbox":"/var/run/netns/p"}],"ips":[{"address":"10.244.1.2/24","gateway":"10.244.1.1","interface":1},{"address":"fd00::2/64","gateway":"fd00::1","interface":1}],"routes":[{"dst":"0.0.0.0/0","gw":"10.244.1.1","mtu":1400}]}"#),
        ("1.0.0", #"{"cniVersion":"1.0.0","dns":{"nameservers":["10.96.0.10"],"options":["ndots:5"],"search":["default.svc.cluster.local"]},"interfaces":[{"mac":"aa:bb:cc:dd:ee:ff","name":"kp0"},{"mac":"11:22:33:44:55:66","name":"eth0","sandbox":"/var/run/netns/p"}],"ips":[{"address":"10.244.1.2/24","gateway":"10.244.1.1","interface":1},{"address":"fd00::2/64","gateway":"fd00::1","interface":1}],"routes":[{"dst":"0.0.0.0/0","gw":"10.244.1.1"}]}"#),
        ("0.4.0", #"{"cniVersion":"0.4.0","dns":{"nameservers":["10.96.0.10"],"options":["ndots:5"],"search":["default.svc.cluster.local"]},"interfaces":[{"mac":"aa:bb:cc:dd:ee:ff","name":"kp0"},{"mac":"11:22:33:44:55:66","name":"eth0","sandbox":"/var/run/netns/p"}],"ips":[{"address":"10.244.1.2/24","gateway":"10.244.1.1","interface":1,"version":"4"},{"address":"fd00::2/64","gateway":"fd00::1","interface":1,"version":"6"}],"routes":[{"dst":"0.0.0.0/0","gw":"10.244.1.1"}]}"#),
    ])
    func writesRequestedVersion(version: String, expected: String) throws {
        #expect(Self.sample.json(version: try #require(CNIVersion(version))).serialized() == expected)
    }

    @Test(arguments: ["0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0"])
    func readsEveryVersionBack(version: String) throws {
        let v = try #require(CNIVersion(version))
        let back = try CNIResult(json: Self.sample.json(version: v))
        #expect(back.ips == Self.sample.ips && back.dns == Self.sample.dns)
        #expect(back.interfaces.map(\.name) == ["kp0", "eth0"])
    }

    @Test func convertsOldToNew() throws {
        let old = try JSONValue(parsing: #"{"cniVersion":"0.3.1","ips":[{"version":"4","address":"10.1.0.5/16","gateway":"10.1.0.1"}]}"#)
        #expect(try CNIResult.convert(old, to: CNIVersion(1, 0, 0)).serialized() ==
            #"{"cniVersion":"1.0.0","ips":[{"address":"10.1.0.5/16","gateway":"10.1.0.1"}]}"#)
    }

    @Test(arguments: [#"{"ips":[{"address":"nope"}]}"#, #"{"routes":[{"gw":"1.2.3.4"}]}"#, #"{"interfaces":[{}]}"#, "[]"])
    func rejectsMalformed(text: String) throws {
        let json = try JSONValue(parsing: text)
        do { _ = try CNIResult(json: json); Issue.record("accepted") } catch { #expect(error.code == 6) }
    }

    @Test(arguments: [
        ("team-a", ["team-a.svc.cluster.local", "svc.cluster.local", "cluster.local"]),
        (nil, ["svc.cluster.local", "cluster.local"]),
    ] as [(String?, [String])])
    func clusterDNSSearch(namespace: String?, search: [String]) throws {
        let conf = try NetConf(json: ["cniVersion": "1.1.0", "name": "n", "type": "kproxy-cni", "clusterDNS": "10.96.0.10"])
        let dns = try #require(try ClusterDNS(conf: conf)).result(namespace: namespace)
        #expect(dns == CNIResult.DNS(nameservers: ["10.96.0.10"], search: search, options: ["ndots:5"]))
    }

    @Test func hostInterfaceNamesAreShortAndStable() {
        let a = HostInterfaceName.forAttachment(AttachmentKey(containerID: "c1", ifname: "eth0"))
        #expect(a.count == 15 && a.hasPrefix("kpv"))
        #expect(a == HostInterfaceName.forAttachment(AttachmentKey(containerID: "c1", ifname: "eth0")))
        #expect(a != HostInterfaceName.forAttachment(AttachmentKey(containerID: "c1", ifname: "eth1")))
    }
}
