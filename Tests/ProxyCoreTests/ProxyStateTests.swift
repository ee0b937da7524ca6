import KubeAPI
import Testing
@testable import ProxyCore

struct ProxyStateTests {
    typealias F = Fixtures
    let state = F.clusterState()

    func port(_ name: String, _ port: String = "http", _ proto: NFTL4Proto = .tcp, ns: String = "default") -> ServicePortName {
        ServicePortName(namespace: ns, name: name, port: port, protocol: proto)
    }

    @Test func skipsHeadlessAndOtherProxies() {
        #expect(state.services[port("headless")] == nil)
        #expect(state.services[port("other-proxy")] == nil)
        #expect(state.endpoints[port("headless")] == nil)
        #expect(state.endpoints[port("other-proxy")] == nil)
    }

    @Test func skipsExternalName() {
        var svc = F.service("default", "en", clusterIPs: [], ports: [ServicePort(port: 80)])
        svc.spec.type = .externalName
        svc.spec.externalName = "example.com"
        #expect(ServicePortInfo.ports(of: svc).isEmpty)
    }

    @Test func mergesSlicesAndDeduplicates() {
        let eps = state.endpoints[port("web")] ?? []
        #expect(eps.map(\.description) == ["10.244.0.5:8080", "10.244.1.5:8080", "10.244.2.5:8080"])
    }

    @Test func duplicateKeepsTheReadyCopy() {
        let http: [(String?, Int, ServiceProtocol)] = [("http", 80, .tcp)]
        let s = ProxyState(services: [], endpointSlices: [
            F.slice("default", "x", "1", ports: http, endpoints: [F.EP(ip: "10.0.0.1", node: nil, ready: false)]),
            F.slice("default", "x", "2", ports: http, endpoints: [F.EP(ip: "10.0.0.1", node: nil, ready: true)]),
        ])
        #expect(s.endpoints[port("x")]?.map(\.ready) == [true])
    }

    @Test func servicePortsCarryEverything() throws {
        let lb = try #require(state.services[port("lb", "https")])
        #expect(lb.nodePort == 30443)
        #expect(lb.loadBalancerIPs == [F.ip("203.0.113.5")])
        #expect(lb.loadBalancerSourceRanges == [F.cidr("198.51.100.0/24")])
        let sticky = try #require(state.services[port("sticky")])
        #expect(sticky.affinityTimeoutSeconds == 600)
        let local = try #require(state.services[port("local")])
        #expect(local.externalPolicyLocal && local.healthCheckNodePort == 32000)
        #expect(state.services[port("dns", "dns", .udp, ns: "kube-system")]?.port == 53)
        #expect(state.services[port("dual")]?.clusterIPs == [F.ip("10.96.0.22"), F.ip("fd00:96::22")])
        let term = try #require(state.endpoints[port("term")])
        #expect(term.map(\.terminating) == [true, true])
        #expect(term.map(\.serving) == [true, false])
    }

    @Test func endpointSelectionFallsBackToTerminating() throws {
        let svc = try #require(state.services[port("term")])
        let sel = EndpointSelection(endpoints: state.endpoints[port("term")] ?? [], service: svc, nodeName: F.nodeName)
        #expect(sel.cluster.map(\.description) == ["10.244.1.20:8080"])
        #expect(sel.hasAny)
    }
}
