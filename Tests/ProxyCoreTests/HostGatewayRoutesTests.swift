import KubeAPI
import ProxyCore
import Testing
import Values

/// A Node with pod CIDRs and `type=address` pairs.
private func node(_ name: String, cidr: String? = nil, cidrs: [String]? = nil, _ addresses: [(NodeAddressType, String)]) -> Node {
    Node(metadata: ObjectMeta(name: name),
         spec: NodeSpec(podCIDR: cidr, podCIDRs: cidrs),
         status: NodeStatus(addresses: addresses.map { NodeAddress(type: $0.0, address: $0.1) }))
}

/// `"10.244.1.0/24 via 192.168.0.2"` → a route.
private func route(_ text: String) throws -> NodeRoute {
    let parts = text.split(separator: " ")
    try #require(parts.count == 3)
    return NodeRoute(destination: try #require(CIDR(String(parts[0]))), gateway: try #require(IPAddress(String(parts[2]))))
}

struct DesiredCase: CustomTestStringConvertible, Sendable {
    var name: String
    var nodes: [Node]
    var expected: [String]
    var testDescription: String { name }
}

let desiredCases: [DesiredCase] = [
    DesiredCase(name: "self skipped, peers routed", nodes: [
        node("self", cidr: "10.244.0.0/24", [(.internalIP, "192.168.0.1")]),
        node("b", cidr: "10.244.1.0/24", [(.internalIP, "192.168.0.2")]),
        node("c", cidr: "10.244.2.0/24", [(.hostname, "c"), (.internalIP, "192.168.0.3")]),
    ], expected: ["10.244.1.0/24 via 192.168.0.2", "10.244.2.0/24 via 192.168.0.3"]),
    DesiredCase(name: "no podCIDR or no InternalIP: skipped", nodes: [
        node("b", [(.internalIP, "192.168.0.2")]),
        node("c", cidr: "10.244.2.0/24", [(.externalIP, "203.0.113.3")]),
    ], expected: []),
    DesiredCase(name: "dual stack matches families", nodes: [
        node("b", cidrs: ["10.244.1.0/24", "fd00:10:244:1::/64"], [(.internalIP, "fd00::2"), (.internalIP, "192.168.0.2")]),
    ], expected: ["10.244.1.0/24 via 192.168.0.2", "fd00:10:244:1::/64 via fd00::2"]),
    DesiredCase(name: "IPv6 CIDR without an IPv6 InternalIP skipped", nodes: [
        node("b", cidrs: ["10.244.1.0/24", "fd00:10:244:1::/64"], [(.internalIP, "192.168.0.2")]),
    ], expected: ["10.244.1.0/24 via 192.168.0.2"]),
    DesiredCase(name: "podCIDRs wins over podCIDR; first InternalIP of the family", nodes: [
        node("b", cidr: "10.99.0.0/24", cidrs: ["10.244.1.0/24"], [(.internalIP, "192.168.0.2"), (.internalIP, "192.168.0.22")]),
    ], expected: ["10.244.1.0/24 via 192.168.0.2"]),
    DesiredCase(name: "conflicting claims: first node name wins", nodes: [
        node("z", cidr: "10.244.1.0/24", [(.internalIP, "192.168.0.26")]),
        node("a", cidr: "10.244.1.0/24", [(.internalIP, "192.168.0.1")]),
    ], expected: ["10.244.1.0/24 via 192.168.0.1"]),
    DesiredCase(name: "garbage ignored", nodes: [
        node("b", cidr: "not-a-cidr", [(.internalIP, "192.168.0.2")]),
        node("c", cidr: "10.244.3.0/24", [(.internalIP, "nope")]),
    ], expected: []),
]

@Test(arguments: desiredCases)
func hostGatewayDesiredRoutes(_ c: DesiredCase) {
    let routes = HostGatewayRoutes.desired(nodes: c.nodes, localNodeName: "self")
    #expect(routes.map(\.description) == c.expected)
}

struct PlanCase: CustomTestStringConvertible, Sendable {
    var name: String
    var desired: [String]
    var installed: [String]
    var add: [String] = []
    var replace: [String] = []
    var delete: [String] = []
    var testDescription: String { name }
}

let planCases: [PlanCase] = [
    PlanCase(name: "in step", desired: ["10.244.1.0/24 via 192.168.0.2"], installed: ["10.244.1.0/24 via 192.168.0.2"]),
    PlanCase(name: "new node", desired: ["10.244.1.0/24 via 192.168.0.2", "10.244.2.0/24 via 192.168.0.3"],
             installed: ["10.244.1.0/24 via 192.168.0.2"], add: ["10.244.2.0/24 via 192.168.0.3"]),
    PlanCase(name: "node moved", desired: ["10.244.1.0/24 via 192.168.0.9"],
             installed: ["10.244.1.0/24 via 192.168.0.2"], replace: ["10.244.1.0/24 via 192.168.0.9"]),
    PlanCase(name: "node gone", desired: [],
             installed: ["10.244.1.0/24 via 192.168.0.2", "fd00:10:244:1::/64 via fd00::2"],
             delete: ["10.244.1.0/24 via 192.168.0.2", "fd00:10:244:1::/64 via fd00::2"]),
    PlanCase(name: "duplicate of ours removed", desired: ["10.244.1.0/24 via 192.168.0.2"],
             installed: ["10.244.1.0/24 via 192.168.0.7", "10.244.1.0/24 via 192.168.0.2"],
             delete: ["10.244.1.0/24 via 192.168.0.7"]),
    PlanCase(name: "empty", desired: [], installed: []),
]

@Test(arguments: planCases)
func hostGatewayPlan(_ c: PlanCase) throws {
    let plan = HostGatewayRoutes.plan(desired: try c.desired.map(route), installed: try c.installed.map(route))
    #expect(plan.add.map(\.description) == c.add)
    #expect(plan.replace.map(\.description) == c.replace)
    #expect(plan.delete.map(\.description) == c.delete)
    #expect(plan.isEmpty == (c.add.isEmpty && c.replace.isEmpty && c.delete.isEmpty))
}

@Suite struct VXLANOverlayTests {
    @Test func peersAreRoutedThroughTheirPodCIDRsNetworkAddressAndFlooded() throws {
        let nodes = [
            node("self", cidr: "10.244.0.0/24", [(.internalIP, "192.168.51.11")]),
            node("b", cidrs: ["10.244.1.0/24", "fd00:10:244:1::/64"], [(.internalIP, "fd00::2"), (.internalIP, "192.168.52.12")]),
            node("c", cidr: "10.244.2.0/24", [(.internalIP, "192.168.53.13")]),
            node("no-ip", cidr: "10.244.3.0/24", [(.externalIP, "203.0.113.4")]),
            node("dup", cidr: "10.244.2.0/24", [(.internalIP, "192.168.54.14")]),
        ]
        let routes = VXLANOverlay.desired(nodes: nodes, localNodeName: "self")
        #expect(routes == [try route("10.244.1.0/24 via 10.244.1.0"), try route("10.244.2.0/24 via 10.244.2.0")])
        #expect(VXLANOverlay.floodList(nodes: nodes, localNodeName: "self").map(\.description) == ["192.168.52.12", "192.168.53.13", "192.168.54.14"])
        #expect(VXLANOverlay.localAddress(podCIDRs: HostGatewayRoutes.podCIDRs(of: nodes[0]))?.description == "10.244.0.0/32")
        #expect(VXLANOverlay.localAddress(podCIDRs: [try #require(CIDR("fd00::/64"))]) == nil)
    }

    @Test func aMemberThatIsNoNodeGetsEveryNodeAsPeer() {
        let nodes = [node("a", cidr: "10.244.0.0/24", [(.internalIP, "192.168.51.11")]),
                     node("b", cidr: "10.244.1.0/24", [(.internalIP, "192.168.52.12")])]
        #expect(VXLANOverlay.desired(nodes: nodes, localNodeName: "").count == 2)
        #expect(VXLANOverlay.floodList(nodes: nodes, localNodeName: "").count == 2)
    }
}
