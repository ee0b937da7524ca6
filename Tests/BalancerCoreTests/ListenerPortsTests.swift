import KubeAPI
import ProxyCore
import Testing

@testable import BalancerCore

@Suite struct ListenerPortsTests {
    static func key(_ name: String, _ proto: NFTL4Proto = .tcp, scope: ListenerScope = .cluster) -> ListenerKey {
        ListenerKey(name: ServicePortName(namespace: "ns", name: name, port: "p", protocol: proto), scope: scope, family: .ipv4)
    }

    @Test func portsAreStableAndDeterministic() {
        var a = ListenerPorts(range: 20000...20009)
        a.update([Self.key("x"), Self.key("y")])
        let x = a.port(Self.key("x"))
        a.update([Self.key("x"), Self.key("y"), Self.key("z")])
        #expect(a.port(Self.key("x")) == x, "a kept key keeps its port")
        var b = ListenerPorts(range: 20000...20009)
        b.update([Self.key("z"), Self.key("y"), Self.key("x")])
        #expect(b.ports == a.ports, "a fresh process with the same keys picks the same ports")
    }

    @Test func rangeExhaustionIsReportedPerProtocol() {
        var p = ListenerPorts(range: 20000...20001)
        let failures = p.update([Self.key("a"), Self.key("b"), Self.key("c"), Self.key("a", .udp)])
        #expect(failures.count == 1)
        #expect(p.ports.count == 3)
        #expect(Set(p.ports.values).count == 2, "TCP and UDP may share a port number")
    }
}
