import KubeAPI
import ProxyCore
import Testing

@testable import BalancerCore

@Suite struct ListenerSpecTests {
    static let node = NodeInfo(name: "node-a")
    static let name = BC.name

    static func state(_ service: ServicePortInfo, _ endpoints: [EndpointInfo]) -> ProxyState {
        ProxyState(services: [service.name: service], endpoints: [service.name: endpoints])
    }
    static func ep(_ a: String, node: String = "node-b", ready: Bool = true, serving: Bool? = nil, terminating: Bool = false) -> EndpointInfo {
        EndpointInfo(address: BC.ip(a), port: 8080, ready: ready, serving: serving, terminating: terminating, nodeName: node)
    }
    static func service(itpLocal: Bool = false, etpLocal: Bool = false, nodePort: UInt16? = nil, ips: [String] = ["10.96.0.10"]) -> ServicePortInfo {
        ServicePortInfo(name: name, clusterIPs: ips.map(BC.ip), port: 80, nodePort: nodePort, affinityTimeoutSeconds: 30,
                        externalPolicyLocal: etpLocal, internalPolicyLocal: itpLocal)
    }

    struct Case: CustomTestStringConvertible, Sendable {
        var label: String
        var service: ServicePortInfo
        var endpoints: [EndpointInfo]
        var expected: [ListenerScope: [String]]
        var testDescription: String { label }
    }

    static let cases: [Case] = [
        Case(label: "ready endpoints only", service: service(), endpoints: [ep("10.244.1.2"), ep("10.244.1.3", ready: false, serving: false)],
             expected: [.cluster: ["10.244.1.2:8080"]]),
        Case(label: "none ready: serving+terminating fallback", service: service(),
             endpoints: [ep("10.244.1.2", ready: false, serving: true, terminating: true), ep("10.244.1.3", ready: false, serving: false, terminating: true)],
             expected: [.cluster: ["10.244.1.2:8080"]]),
        Case(label: "no endpoints: no listener", service: service(), endpoints: [], expected: [:]),
        Case(label: "internalTrafficPolicy Local", service: service(itpLocal: true),
             endpoints: [ep("10.244.1.2", node: "node-a"), ep("10.244.2.2")], expected: [.local: ["10.244.1.2:8080"]]),
        Case(label: "internalTrafficPolicy Local without local endpoints", service: service(itpLocal: true),
             endpoints: [ep("10.244.2.2")], expected: [:]),
        Case(label: "externalTrafficPolicy Local NodePort: cluster and local listeners", service: service(etpLocal: true, nodePort: 30080),
             endpoints: [ep("10.244.1.2", node: "node-a"), ep("10.244.2.2")],
             expected: [.cluster: ["10.244.1.2:8080", "10.244.2.2:8080"], .local: ["10.244.1.2:8080"]]),
    ]

    @Test(arguments: cases)
    func listenersFollowUpstreamEndpointRules(_ c: Case) {
        let specs = Self.state(c.service, c.endpoints).listenerSpecs(node: Self.node)
        var got: [ListenerScope: [String]] = [:]
        for (key, spec) in specs {
            #expect(key.family == .ipv4 && key.name == Self.name)
            #expect(spec.affinityTimeoutSeconds == 30)
            got[key.scope] = spec.endpoints.map(\.description)
        }
        #expect(got == c.expected)
    }

    @Test func dualStackHasAListenerPerFamily() {
        let specs = Self.state(Self.service(ips: ["10.96.0.10", "fd00:96::10"]), [Self.ep("10.244.1.2"), Self.ep("fd00:244::2")])
            .listenerSpecs(node: Self.node)
        #expect(Set(specs.keys.map(\.family)) == [.ipv4, .ipv6])
        for (key, spec) in specs { #expect(spec.endpoints.allSatisfy { $0.address.family == key.family }) }
    }
}
