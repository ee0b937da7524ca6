/// What `kproxy up` builds, decided before anything is touched (pure, unit-tested): the namespaces, the
/// shared segment and its addresses, and the command line of every process. A cluster is named by a short
/// run id so that several can coexist; all addresses live inside its own namespaces, so two clusters
/// may use the same ones.
public struct UpPlan: Sendable, Equatable, Codable {
    public enum ProxyMode: String, Sendable, Codable, CaseIterable { case nftables, userspace }

    /// One namespace attached to the segment: its name, its address there, and the name of its end of the
    /// veth inside the segment's namespace.
    public struct Member: Sendable, Equatable, Codable {
        public var role: String          // "controlplane", "node-a", "external"
        public var netns: String
        public var address: String       // on the segment, without prefix length
        public var segmentPort: String   // the veth end on the segment's bridge
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
    public var segmentNetns: String
    public var segmentBridge = "seg0"
    public var segmentPrefix = 24
    public var memberInterface = "eth0"
    public var controlPlane: Member
    public var nodes: [Member]
    public var external: Member
    public var serviceCIDR = "10.96.0.0/12"
    public var clusterCIDR = "10.244.0.0/16"
    public var clusterDNS = "10.96.0.10"
    public var apiPort = 6443

    public static let nodeNames = (0..<26).map { "node-" + String(UnicodeScalar(UInt8(97 + $0))) }

    public init(runID: String, stateDir: String, nodes count: Int, proxyMode: ProxyMode) throws(UpError) {
        guard (1...UpPlan.nodeNames.count).contains(count) else { throw .usage("--nodes must be between 1 and \(UpPlan.nodeNames.count)") }
        guard !runID.isEmpty, runID.utf8.allSatisfy({ (48...57).contains($0) || (97...122).contains($0) }), runID.utf8.count <= 8 else {
            throw .usage("run id must be 1-8 characters of [0-9a-z]")
        }
        guard stateDir.hasPrefix("/") else { throw .usage("--state-dir must be an absolute path") }
        self.runID = runID
        self.stateDir = stateDir.count > 1 && stateDir.hasSuffix("/") ? String(stateDir.dropLast()) : stateDir
        self.proxyMode = proxyMode
        let prefix = "kpup-\(runID)"
        segmentNetns = "\(prefix)-seg"
        controlPlane = Member(role: "controlplane", netns: "\(prefix)-cp", address: "192.168.50.2", segmentPort: "cp")
        nodes = UpPlan.nodeNames.prefix(count).enumerated().map { i, name in
            Member(role: name, netns: "\(prefix)-\(name)", address: "192.168.50.\(11 + i)", segmentPort: name)
        }
        external = Member(role: "external", netns: "\(prefix)-ext", address: "192.168.50.100", segmentPort: "ext")
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
            "--advertise-address", controlPlane.address, "--service-cidr", serviceCIDR, "--cluster-cidr", clusterCIDR,
            "--write-kubeconfig", generatedKubeconfig,
        ], log: logFile("controlplane"), pidFile: pidFile("controlplane"))]
        for node in nodes {
            let dir = nodeDir(node.role)
            out.append(Process(name: "\(node.role)/node", netns: node.netns, argv: [
                kproxy, "node", "--kubeconfig", nodeKubeconfig, "--node", node.role, "--node-ip", node.address,
                "--cluster-dns", clusterDNS, "--cni-conf-dir", "\(dir)/net.d", "--cni-bin-dir", "\(dir)/cni-bin",
                "--cni-cache-dir", "\(dir)/cni-cache", "--ipam-data-dir", "\(dir)/ipam", "--root-dir", "\(dir)/root",
                "--resolv-conf", "/dev/null",
            ], log: logFile("\(node.role)/node"), pidFile: pidFile("\(node.role)/node")))
            out.append(Process(name: "\(node.role)/proxy", netns: node.netns, argv: [
                kproxy, "proxy", "--kubeconfig", nodeKubeconfig, "--node", node.role, "--mode", proxyMode.rawValue,
                "--cluster-cidr", clusterCIDR, "--service-cidr", serviceCIDR, "--node-routes",
            ], log: logFile("\(node.role)/proxy"), pidFile: pidFile("\(node.role)/proxy")))
        }
        return out
    }

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
