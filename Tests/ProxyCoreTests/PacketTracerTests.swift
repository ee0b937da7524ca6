import KubeAPI
import Testing
@testable import ProxyCore
import Values

/// Behaviour of the compiled ruleset, checked by tracing packets through it (issue 3's list).
struct PacketTracerTests {
    typealias F = Fixtures
    static let localAddresses: Set<IPAddress> = [F.nodeIP, F.nodeIP6, F.ip("127.0.0.1"), F.ip("::1")]
    static let ruleset = F.compile(F.clusterState())

    static func trace(_ packet: TracePacket, _ ruleset: NFTRuleset = ruleset,
                      members: [String: Set<IPAddress>] = [:]) -> TraceResult {
        PacketTracer.trace(packet, in: ruleset, isLocalAddress: { localAddresses.contains($0) }, dynamicSetMembers: members)
    }

    static func packet(_ src: String, _ dst: String, _ port: UInt16, _ proto: NFTL4Proto = .tcp,
                       origin: TracePacket.Origin = .inbound(interface: "eth0")) -> TracePacket {
        TracePacket(from: F.ip(src), to: F.ip(dst), proto, port: port, origin: origin)
    }

    /// Expected result of one packet.
    enum Expect: Sendable {
        case endpoints(Set<String>, masquerade: Bool)
        case reject
        case drop
        case untouched
    }

    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var packet: TracePacket
        var expect: Expect
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "ClusterIP from a pod → any endpoint, no masquerade", packet: packet("10.244.0.100", "10.96.0.10", 80),
             expect: .endpoints(["10.244.0.5:8080", "10.244.1.5:8080", "10.244.2.5:8080"], masquerade: false)),
        Case(name: "ClusterIP from off-cluster → masquerade", packet: packet("172.16.0.1", "10.96.0.10", 80),
             expect: .endpoints(["10.244.0.5:8080", "10.244.1.5:8080", "10.244.2.5:8080"], masquerade: true)),
        Case(name: "ClusterIP from the node itself", packet: packet("192.168.0.10", "10.96.0.10", 80, origin: .local),
             expect: .endpoints(["10.244.0.5:8080", "10.244.1.5:8080", "10.244.2.5:8080"], masquerade: true)),
        Case(name: "ClusterIP of a service with 40 endpoints (numgen map) → any of them",
             packet: packet("10.244.0.100", "10.96.0.24", 80),
             expect: .endpoints(Set((1...40).map { "10.244.4.\($0):8080" }), masquerade: false)),
        Case(name: "no endpoints → reject", packet: packet("10.244.0.100", "10.96.0.11", 80), expect: .reject),
        Case(name: "no endpoints from the node → reject", packet: packet("192.168.0.10", "10.96.0.11", 80, origin: .local),
             expect: .reject),
        Case(name: "undefined port on a live ClusterIP → reject", packet: packet("10.244.0.100", "10.96.0.10", 81), expect: .reject),
        Case(name: "undefined port on a live ClusterIP from the node → reject",
             packet: packet("192.168.0.10", "10.96.0.10", 81, origin: .local), expect: .reject),
        Case(name: "unallocated service address → drop", packet: packet("10.244.0.100", "10.96.5.5", 80), expect: .drop),
        Case(name: "NodePort on the node address", packet: packet("172.16.0.1", "192.168.0.10", 30080),
             expect: .endpoints(["10.244.1.6:8080"], masquerade: true)),
        Case(name: "NodePort on a non-local address is not a service", packet: packet("172.16.0.1", "10.0.0.99", 30080),
             expect: .untouched),
        Case(name: "NodePort on localhost is not supported", packet: packet("127.0.0.1", "127.0.0.1", 30080, origin: .local),
             expect: .untouched),
        Case(name: "unknown NodePort on the node → untouched", packet: packet("172.16.0.1", "192.168.0.10", 31999),
             expect: .untouched),
        Case(name: "externalIP → endpoint, masquerade", packet: packet("172.16.0.1", "203.0.113.9", 80),
             expect: .endpoints(["10.244.1.8:8080"], masquerade: true)),
        Case(name: "LoadBalancer IP from an allowed source", packet: packet("198.51.100.7", "203.0.113.5", 443),
             expect: .endpoints(["10.244.1.7:8443"], masquerade: true)),
        Case(name: "LoadBalancer IP from a source outside loadBalancerSourceRanges → drop",
             packet: packet("8.8.8.8", "203.0.113.5", 443), expect: .drop),
        Case(name: "LoadBalancer NodePort ignores source ranges", packet: packet("8.8.8.8", "192.168.0.10", 30443),
             expect: .endpoints(["10.244.1.7:8443"], masquerade: true)),
        Case(name: "affinity service balances over all endpoints without a recorded client",
             packet: packet("10.244.0.100", "10.96.0.15", 80),
             expect: .endpoints(["10.244.1.9:8080", "10.244.2.9:8080"], masquerade: false)),
        Case(name: "ETP Local NodePort from outside → local endpoint only, source kept",
             packet: packet("172.16.0.1", "192.168.0.10", 30016), expect: .endpoints(["10.244.0.16:8080"], masquerade: false)),
        Case(name: "ETP Local NodePort from a pod → short-circuit to all endpoints",
             packet: packet("10.244.0.100", "192.168.0.10", 30016),
             expect: .endpoints(["10.244.0.16:8080", "10.244.1.16:8080"], masquerade: false)),
        Case(name: "ETP Local NodePort from the node → all endpoints, masquerade",
             packet: packet("192.168.0.10", "192.168.0.10", 30016, origin: .local),
             expect: .endpoints(["10.244.0.16:8080", "10.244.1.16:8080"], masquerade: true)),
        Case(name: "ETP Local ClusterIP uses every endpoint", packet: packet("10.244.0.100", "10.96.0.16", 80),
             expect: .endpoints(["10.244.0.16:8080", "10.244.1.16:8080"], masquerade: false)),
        Case(name: "ETP Local without local endpoints: external → drop", packet: packet("172.16.0.1", "192.168.0.10", 30017),
             expect: .drop),
        Case(name: "ETP Local without local endpoints: ClusterIP still works", packet: packet("10.244.0.100", "10.96.0.17", 80),
             expect: .endpoints(["10.244.1.17:8080"], masquerade: false)),
        Case(name: "ITP Local → local endpoints only", packet: packet("10.244.0.100", "10.96.0.18", 80),
             expect: .endpoints(["10.244.0.18:8080"], masquerade: false)),
        Case(name: "ITP Local without local endpoints → drop", packet: packet("10.244.0.100", "10.96.0.19", 80), expect: .drop),
        Case(name: "only terminating endpoints → serving+terminating fallback", packet: packet("10.244.0.100", "10.96.0.20", 80),
             expect: .endpoints(["10.244.1.20:8080"], masquerade: false)),
        Case(name: "UDP", packet: packet("10.244.0.100", "10.96.0.53", 53, .udp),
             expect: .endpoints(["10.244.0.53:53"], masquerade: false)),
        Case(name: "TCP port of the same Service", packet: packet("10.244.0.100", "10.96.0.53", 53),
             expect: .endpoints(["10.244.0.53:53"], masquerade: false)),
        Case(name: "UDP to a TCP-only port → reject", packet: packet("10.244.0.100", "10.96.0.10", 80, .udp), expect: .reject),
        Case(name: "SCTP", packet: packet("10.244.0.100", "10.96.0.21", 9999, .sctp),
             expect: .endpoints(["10.244.1.21:9999"], masquerade: false)),
        Case(name: "IPv6 ClusterIP", packet: packet("fd00:244::100", "fd00:96::22", 80),
             expect: .endpoints(["[fd00:244::22]:8080"], masquerade: false)),
        Case(name: "IPv6 ClusterIP from off-cluster → masquerade", packet: packet("fd00:1::1", "fd00:96::22", 80),
             expect: .endpoints(["[fd00:244::22]:8080"], masquerade: true)),
        Case(name: "IPv6 unallocated service address → drop", packet: packet("fd00:244::100", "fd00:96::99", 80), expect: .drop),
        Case(name: "IPv4-only Service has no IPv6 rules", packet: packet("fd00:244::100", "fd00:96::10", 80), expect: .drop),
        Case(name: "headless Service is not proxied", packet: packet("10.244.0.100", "10.244.1.30", 80), expect: .untouched),
        Case(name: "Service of another proxy is not proxied (address is just unallocated)",
             packet: packet("10.244.0.100", "10.96.0.23", 80), expect: .drop),
        Case(name: "pod to pod is untouched", packet: packet("10.244.0.100", "10.244.1.5", 8080), expect: .untouched),
    ]

    @Test(arguments: cases)
    func behaviour(_ c: Case) {
        let result = Self.trace(c.packet)
        switch c.expect {
        case .endpoints(let eps, let masquerade):
            #expect(result.endpoints == eps)
            #expect(result.verdicts == [.accept])
            #expect(masquerade ? result.isMasqueraded : result.isNeverMasqueraded)
        case .reject:
            #expect(result.isRejected, "\(result.outcomes)")
        case .drop:
            #expect(result.isDropped, "\(result.outcomes)")
        case .untouched:
            #expect(result.isUntouched, "\(result.outcomes)")
        }
    }

    @Test func affinityRecordsAndSticks() throws {
        let p = Self.packet("10.244.0.100", "10.96.0.15", 80)
        let first = Self.trace(p)
        let sets = Set(first.outcomes.flatMap(\.updatedSets))
        #expect(sets.count == 2)
        #expect(sets.allSatisfy { $0.hasPrefix("affinity-") })
        let ruleset = Self.ruleset.table(.ip)
        for set in sets {
            let found = ruleset?.set(set)
            let def = try #require(found)
            #expect(def.timeoutSeconds == 600)
            #expect(def.flags == [.dynamic, .timeout])
            let outcome = try #require(first.outcomes.first { $0.updatedSets == [set] })
            let again = Self.trace(p, members: [set: [F.ip("10.244.0.100")]])
            let dnat = try #require(outcome.dnat)
            #expect(again.endpoints == [dnat])
        }
    }

    @Test func hairpinIsMasqueraded() {
        let result = Self.trace(Self.packet("10.244.0.5", "10.96.0.10", 80))
        #expect(result.outcomes.count == 3)
        for o in result.outcomes { #expect(o.masquerade == (o.dnat == "10.244.0.5:8080")) }
    }

    @Test func masqueradeAllMasqueradesPods() {
        var config = F.config
        config.masqueradeAll = true
        let result = Self.trace(Self.packet("10.244.0.100", "10.96.0.10", 80), F.compile(F.clusterState(), config: config))
        #expect(result.endpoints.count == 3)
        #expect(result.isMasqueraded)
    }

    @Test func unknownClusterCIDRMasqueradesNothingInternal() {
        var config = F.config
        config.clusterCIDRs = []
        let result = Self.trace(Self.packet("172.16.0.1", "10.96.0.10", 80), F.compile(F.clusterState(), config: config))
        #expect(result.endpoints.count == 3)
        #expect(result.isNeverMasqueraded)
    }

    @Test func nodePortAddressesRestrictNodePorts() {
        var config = F.config
        config.nodePortAddresses = [F.cidr("192.168.0.0/24")]
        let node = NodeInfo(name: F.nodeName, nodeIPs: [F.nodeIP], addresses: [F.nodeIP, F.ip("10.0.0.1"), F.ip("127.0.0.1")])
        let ruleset = F.compile(F.clusterState(), config: config, node: node)
        let nodePortIPs = ruleset.table(.ip)?.set(NFTNames.nodePortIPs)?.elements
        #expect(nodePortIPs == [NFTElement(key: [.address(F.nodeIP)])])
        let isLocal: (IPAddress) -> Bool = { node.addresses.contains($0) }
        let ok = PacketTracer.trace(Self.packet("172.16.0.1", "192.168.0.10", 30080), in: ruleset, isLocalAddress: isLocal)
        #expect(ok.endpoints == ["10.244.1.6:8080"])
        let other = PacketTracer.trace(Self.packet("172.16.0.1", "10.0.0.1", 30080), in: ruleset, isLocalAddress: isLocal)
        #expect(other.isUntouched)
        let none = PacketTracer.trace(Self.packet("172.16.0.1", "192.168.0.10", 30017), in: ruleset, isLocalAddress: isLocal)
        #expect(none.isDropped)
    }

    @Test func lbSourceRangeContainingNodeAllowsLBIPSource() {
        let svc = F.service("default", "lb2", type: .loadBalancer, clusterIPs: ["10.96.0.40"],
                            ports: [ServicePort(name: "p", protocol: .tcp, port: 80, nodePort: 30040)],
                            lbIPs: ["203.0.113.40"], sourceRanges: ["192.168.0.0/24"])
        let slice = F.slice("default", "lb2", ports: [("p", 80, .tcp)], endpoints: [F.EP(ip: "10.244.1.40", node: "node-b")])
        let ruleset = F.compile(ProxyState(services: [svc], endpointSlices: [slice]))
        #expect(Self.trace(Self.packet("203.0.113.40", "203.0.113.40", 80), ruleset).endpoints == ["10.244.1.40:80"])
        #expect(Self.trace(Self.packet("192.168.0.77", "203.0.113.40", 80), ruleset).endpoints == ["10.244.1.40:80"])
        #expect(Self.trace(Self.packet("10.1.1.1", "203.0.113.40", 80), ruleset).isDropped)
    }
}
