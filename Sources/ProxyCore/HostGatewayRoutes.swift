import KubeAPI
import Values

/// One host-gw route: a peer Node's pod CIDR reached through that Node's InternalIP.
public struct NodeRoute: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// The peer Node's pod CIDR.
    public var destination: CIDR
    /// The peer Node's InternalIP (same family as `destination`).
    public var gateway: IPAddress

    public init(destination: CIDR, gateway: IPAddress) {
        self.destination = destination; self.gateway = gateway
    }

    public static func < (a: NodeRoute, b: NodeRoute) -> Bool {
        a.destination.network != b.destination.network
            ? a.destination.network < b.destination.network
            : a.destination.prefixLength != b.destination.prefixLength
                ? a.destination.prefixLength < b.destination.prefixLength
                : a.gateway < b.gateway
    }

    public var description: String { "\(destination) via \(gateway)" }
}

/// What to change in the kernel so the installed host-gw routes match the desired ones.
public struct NodeRoutePlan: Hashable, Sendable {
    /// Destinations with no route of ours yet.
    public var add: [NodeRoute] = []
    /// Destinations whose route of ours has another gateway (the new route is listed).
    public var replace: [NodeRoute] = []
    /// Routes of ours that no Node wants any more.
    public var delete: [NodeRoute] = []

    public init(add: [NodeRoute] = [], replace: [NodeRoute] = [], delete: [NodeRoute] = []) {
        self.add = add; self.replace = replace; self.delete = delete
    }

    /// True when the kernel already matches.
    public var isEmpty: Bool { add.isEmpty && replace.isEmpty && delete.isEmpty }
}

/// Host-gateway pod routing (like flannel's `host-gw`): every other Node's podCIDRs via that Node's
/// InternalIP of the same family. Pure: Nodes in, routes and a diff out.
public enum HostGatewayRoutes {
    /// The route protocol number (`proto 75` in `ip route`) that marks routes as ours; routes with any
    /// other protocol are never listed, replaced or deleted.
    public static let routeProtocol: UInt8 = 0x4b

    /// The routes this node wants: for each other Node, each podCIDR (`spec.podCIDRs`, else `spec.podCIDR`)
    /// via its first InternalIP of the CIDR's family. Nodes without either are skipped. When two Nodes
    /// claim the same CIDR, the Node whose name sorts first wins, so the answer is deterministic.
    public static func desired(nodes: [Node], localNodeName: String) -> [NodeRoute] {
        var byDestination: [CIDR: NodeRoute] = [:]
        for node in nodes.sorted(by: { $0.name < $1.name }) where node.name != localNodeName {
            let internalIPs = (node.status.addresses ?? [])
                .filter { $0.type == .internalIP }
                .compactMap { IPAddress($0.address) }
            for cidr in podCIDRs(of: node) where byDestination[cidr] == nil {
                guard let gateway = internalIPs.first(where: { $0.family == cidr.family }) else { continue }
                byDestination[cidr] = NodeRoute(destination: cidr, gateway: gateway)
            }
        }
        return byDestination.values.sorted()
    }

    /// A Node's pod CIDRs: `spec.podCIDRs` when set, else `spec.podCIDR`; unparsable entries dropped.
    public static func podCIDRs(of node: Node) -> [CIDR] {
        let texts = node.spec.podCIDRs.flatMap { $0.isEmpty ? nil : $0 } ?? node.spec.podCIDR.map { [$0] } ?? []
        var seen = Set<CIDR>()
        return texts.compactMap { CIDR($0) }.filter { seen.insert($0).inserted }
    }

    /// The changes that turn `installed` (our routes now in the kernel) into `desired`, each list sorted.
    public static func plan(desired: [NodeRoute], installed: [NodeRoute]) -> NodeRoutePlan {
        var current: [CIDR: [NodeRoute]] = [:]
        for route in installed { current[route.destination, default: []].append(route) }
        var plan = NodeRoutePlan()
        var wanted = Set<CIDR>()
        for route in desired {
            wanted.insert(route.destination)
            guard let existing = current[route.destination] else { plan.add.append(route); continue }
            if existing.contains(route) {
                // Duplicates of ours for the same destination beyond the wanted one go.
                plan.delete += existing.filter { $0 != route }
            } else {
                plan.replace.append(route)
                plan.delete += existing.dropFirst()
            }
        }
        for (destination, routes) in current where !wanted.contains(destination) { plan.delete += routes }
        plan.add.sort(); plan.replace.sort(); plan.delete.sort()
        return plan
    }
}

/// Pod routing through a VXLAN tunnel (like flannel's `vxlan` backend), for nodes that share no layer 2:
/// each node's tunnel device holds the network address of its IPv4 pod CIDR (`10.244.1.0/32`), and every
/// other Node's IPv4 pod CIDRs are routed via that peer's network address, on-link through the tunnel. The
/// device learns peers' MACs from what it receives and floods the rest (ARP) to every peer's InternalIP.
/// IPv6 pod CIDRs are not carried. Pure: Nodes in, routes and peers out.
public enum VXLANOverlay {
    public static let device = "kproxy.vxlan"
    public static let vni: UInt32 = 1
    /// IANA's VXLAN port.
    public static let port: UInt16 = 4789
    /// Outer IPv4 + UDP + VXLAN headers and the inner Ethernet header: the tunnel's MTU is the link's minus this.
    public static let overhead = 50

    /// The tunnel device's address on a node with these pod CIDRs (nil: none is IPv4).
    public static func localAddress(podCIDRs: [CIDR]) -> CIDR? {
        podCIDRs.first { $0.family == .ipv4 }.flatMap { CIDR(address: $0.network, prefixLength: 32) }
    }

    /// For each other Node, each IPv4 pod CIDR via its network address (the peer's tunnel address); as
    /// `HostGatewayRoutes.desired`, the first Node by name wins a CIDR two claim.
    public static func desired(nodes: [Node], localNodeName: String) -> [NodeRoute] {
        var byDestination: [CIDR: NodeRoute] = [:]
        for node in nodes.sorted(by: { $0.name < $1.name }) where node.name != localNodeName && internalIPv4(node) != nil {
            for cidr in HostGatewayRoutes.podCIDRs(of: node) where cidr.family == .ipv4 && byDestination[cidr] == nil {
                byDestination[cidr] = NodeRoute(destination: cidr, gateway: cidr.network)
            }
        }
        return byDestination.values.sorted()
    }

    /// The other Nodes' first InternalIPv4 each: where the tunnel floods, sorted and without duplicates.
    public static func floodList(nodes: [Node], localNodeName: String) -> [IPAddress] {
        Array(Set(nodes.filter { $0.name != localNodeName }.compactMap(internalIPv4))).sorted()
    }

    /// A Node's first InternalIP of family IPv4: the tunnel's endpoint on that node.
    public static func internalIPv4(_ node: Node) -> IPAddress? {
        (node.status.addresses ?? []).filter { $0.type == .internalIP }.compactMap { IPAddress($0.address) }.first { $0.family == .ipv4 }
    }
}
