import Values

/// What `kproxy up` builds, decided before anything is touched (pure, unit-tested): the namespaces, the
/// shared segment and its addresses, and the command line of every process. A cluster is named by a short
/// run id so that several can coexist; all addresses live inside its own namespaces, so two clusters
/// may use the same ones.
public struct UpPlan: Sendable, Equatable, Codable {
    public enum ProxyMode: String, Sendable, Codable, CaseIterable { case nftables, userspace }
    /// How the members are joined and pods reach each other across nodes: one bridged segment with host-gw
    /// routes, or a subnet per member behind a router (no shared layer 2) with a VXLAN overlay for pods.
    public enum Network: String, Sendable, Codable, CaseIterable { case hostGateway = "host-gw", vxlan }

    /// One namespace attached to the segment: its name, its address there, and the name of its end of the
    /// veth inside the segment's namespace.
    public struct Member: Sendable, Equatable, Codable {
        public var role: String          // "controlplane", "node-a", "external"
        public var netns: String
        public var address: IPAddress    // on the segment
        public var segmentPort: String   // the veth end on the segment's bridge (or router)
        /// Routed network only: the router's address on this member's subnet (its default gateway).
        public var gateway: IPAddress?
    }

    /// A long-running process and the namespace it runs in; restarted by the supervisor when it ends.
    public struct Process: Sendable, Equatable, Codable {
        public var name: String          // "controlplane", "node-a/node", "node-a/proxy"
        public var netns: String
        public var argv: [String]
        public var log: String
        public var pidFile: String
    }

    public var runID: String
    public var stateDir: String
    public var proxyMode: ProxyMode
    public var network: Network
    public var segmentNetns: String
    public var segmentBridge = "seg0"
    public var segmentPrefix = 24
    public var memberInterface = "eth0"
    public var controlPlane: Member
    public var nodes: [Member]
    public var external: Member
    public var serviceCIDR: CIDR
    public var clusterCIDR: CIDR
    public var clusterDNS: IPAddress
    public var apiPort = 6443

    public static let nodeNames = (0..<26).map { "node-" + String(UnicodeScalar(UInt8(97 + $0))) }

    public init(runID: String, stateDir: String, nodes count: Int, proxyMode: ProxyMode, network: Network = .hostGateway) throws(UpError) {
        guard (1...UpPlan.nodeNames.count).contains(count) else { throw .usage("--nodes must be between 1 and \(UpPlan.nodeNames.count)") }
        guard !runID.isEmpty, runID.utf8.allSatisfy({ (48...57).contains($0) || (97...122).contains($0) }), runID.utf8.count <= 8 else {
            throw .usage("run id must be 1-8 characters of [0-9a-z]")
        }
        guard stateDir.hasPrefix("/") else { throw .usage("--state-dir must be an absolute path") }
        guard let serviceCIDR = CIDR("10.96.0.0/12"), let clusterCIDR = CIDR("10.244.0.0/16"), let clusterDNS = IPAddress("10.96.0.10") else {
            throw .failed("kproxy up's own address ranges do not parse")
        }
        self.serviceCIDR = serviceCIDR
        self.clusterCIDR = clusterCIDR
        self.clusterDNS = clusterDNS
        self.runID = runID
        self.stateDir = stateDir.count > 1 && stateDir.hasSuffix("/") ? String(stateDir.dropLast()) : stateDir
        self.proxyMode = proxyMode
        self.network = network
        let prefix = "kpup-\(runID)"
        segmentNetns = "\(prefix)-seg"
        // One segment: 192.168.50.0/24 for all. Routed: a /24 per member (the control plane's 192.168.50.0,
        // node i's 192.168.(51+i).0, the external client's 192.168.49.0), the router at .1 of each.
        let routed = network == .vxlan
        func address(subnet: Int, host: Int) -> IPAddress { IPAddress(ipv4: 0xC0A8_0000 | UInt32(subnet) << 8 | UInt32(host)) }
        func member(_ role: String, _ port: String, subnet: Int, host: Int) -> Member {
            Member(role: role, netns: "\(prefix)-\(port)", address: address(subnet: routed ? subnet : 50, host: host),
                   segmentPort: port, gateway: routed ? address(subnet: subnet, host: 1) : nil)
        }
        controlPlane = member("controlplane", "cp", subnet: 50, host: 2)
        nodes = UpPlan.nodeNames.prefix(count).enumerated().map { i, name in member(name, name, subnet: 51 + i, host: 11 + i) }
        external = member("external", "ext", subnet: 49, host: 100)
    }

    /// Every namespace of the cluster, the segment last (its bridge outlives the members' links).
    public var namespaces: [String] { [controlPlane.netns] + nodes.map(\.netns) + [external.netns, segmentNetns] }
    public var members: [Member] { [controlPlane] + nodes + [external] }

    // Files under the state dir.
    public var kubeconfig: String { "\(stateDir)/kubeconfig" }             // the host's: the forwarder on loopback
    public var nodeKubeconfig: String { "\(stateDir)/node-kubeconfig" }    // nodes: the control plane on the segment
    public var controlPlaneDataDir: String { "\(stateDir)/controlplane" }
    public var generatedKubeconfig: String { "\(stateDir)/controlplane/admin.kubeconfig" }
    public var stateFile: String { "\(stateDir)/up.json" }
    public func nodeDir(_ node: String) -> String { "\(stateDir)/nodes/\(node)" }
    public func logFile(_ name: String) -> String { "\(stateDir)/logs/\(name.replacingSlashes).log" }
    public func pidFile(_ name: String) -> String { "\(stateDir)/run/\(name.replacingSlashes).pid" }

    /// The processes in start order: the control plane, then each node's agent and proxy.
    public func processes(kproxy: String) -> [Process] {
        var out = [Process(name: "controlplane", netns: controlPlane.netns, argv: [
            kproxy, "controlplane", "--data-dir", controlPlaneDataDir, "--listen", "0.0.0.0:\(apiPort)",
            "--advertise-address", "\(controlPlane.address)", "--service-cidr", "\(serviceCIDR)", "--cluster-cidr", "\(clusterCIDR)",
            "--write-kubeconfig", generatedKubeconfig,
        ], log: logFile("controlplane"), pidFile: pidFile("controlplane"))]
        for node in nodes {
            let dir = nodeDir(node.role)
            out.append(Process(name: "\(node.role)/node", netns: node.netns, argv: [
                kproxy, "node", "--kubeconfig", nodeKubeconfig, "--node", node.role, "--node-ip", "\(node.address)",
                "--cluster-dns", "\(clusterDNS)", "--cni-conf-dir", "\(dir)/net.d", "--cni-bin-dir", "\(dir)/cni-bin",
                "--cni-cache-dir", "\(dir)/cni-cache", "--ipam-data-dir", "\(dir)/ipam", "--root-dir", "\(dir)/root",
                "--resolv-conf", "/dev/null",
            ], log: logFile("\(node.role)/node"), pidFile: pidFile("\(node.role)/node")))
            out.append(Process(name: "\(node.role)/proxy", netns: node.netns, argv: [
                kproxy, "proxy", "--kubeconfig", nodeKubeconfig, "--node", node.role, "--mode", proxyMode.rawValue,
                "--cluster-cidr", "\(clusterCIDR)", "--service-cidr", "\(serviceCIDR)", "--node-routes", "--node-routes-mode", network.rawValue,
            ], log: logFile("\(node.role)/proxy"), pidFile: pidFile("\(node.role)/proxy")))
        }
        return out
    }

    /// A member's routes besides its subnet: routed, the default route via the router; on one segment, a
    /// node's route for the Service range (locally sent packets to a Service address need one before
    /// nftables DNATs them, as a real node's default route gives). Nothing leads out of the cluster.
    public func routes(of member: Member) -> [(dst: CIDR, gateway: IPAddress?)] {
        if let gateway = member.gateway { return [(CIDR.any(.ipv4), gateway)] }
        return nodes.contains(member) ? [(serviceCIDR, nil)] : []
    }

    /// A member's address with the segment's prefix length, as it sits on the member's interface.
    public func segmentAddress(_ address: IPAddress) -> IPPrefix? { IPPrefix(address: address, length: segmentPrefix) }

    /// The API server as each party reaches it.
    public var nodeServer: String { "https://\(controlPlane.address):\(apiPort)" }
}

public enum UpError: Error, Sendable, CustomStringConvertible, Equatable {
    case usage(String)
    case failed(String)
    public var description: String {
        switch self {
        case .usage(let m): return m
        case .failed(let m): return m
        }
    }
}

extension String {
    var replacingSlashes: String { String(map { $0 == "/" ? "." : $0 }) }
}
