import Values
#if canImport(Glibc)
import Glibc
#endif

/// What one pod attachment needs on the node: every field a plain value.
public struct PodAttachment: Sendable, Equatable {
    /// A route inside the pod.
    public struct Route: Sendable, Equatable {
        public var dst: CIDR
        /// Nil: on-link.
        public var gateway: IPAddress?
        public init(dst: CIDR, gateway: IPAddress?) { self.dst = dst; self.gateway = gateway }
    }

    public var bridge: String
    /// Gateway addresses the bridge carries (`10.244.1.1/24`).
    public var bridgeAddresses: [IPPrefix]
    public var hostInterface: String
    public var podInterface: String
    public var netnsPath: String
    public var mtu: Int?
    public var hairpin: Bool
    /// The pod's addresses (`10.244.1.5/24`).
    public var addresses: [IPPrefix]
    public var routes: [Route]

    public init(bridge: String, bridgeAddresses: [IPPrefix], hostInterface: String, podInterface: String, netnsPath: String,
                mtu: Int?, hairpin: Bool, addresses: [IPPrefix], routes: [Route]) {
        self.bridge = bridge; self.bridgeAddresses = bridgeAddresses; self.hostInterface = hostInterface
        self.podInterface = podInterface; self.netnsPath = netnsPath; self.mtu = mtu; self.hairpin = hairpin
        self.addresses = addresses; self.routes = routes
    }
}

/// The links an attachment produced, for the CNI result.
public struct AttachedLinks: Sendable, Equatable {
    public var bridge: LinkInfo
    public var host: LinkInfo
    public var pod: LinkInfo
}

/// Bridge + veth pod networking through libnl. Host-side work runs in the caller's namespace;
/// pod-side work runs on a thread that joined the pod's namespace.
public enum PodNetwork {
    /// Creates the bridge if needed, the veth pair (pod end created inside the pod namespace under
    /// its final name), addresses, routes, `lo` up and DAD off. Fails with `EEXIST` when the pod
    /// interface already exists. Removes the veth again when a later step fails.
    public static func attach(_ a: PodAttachment) throws(NetlinkError) -> AttachedLinks {
        let nsfd = try NetworkNamespace.open(path: a.netnsPath)
        defer { close(nsfd) }
        let host = try NetlinkSocket()
        let bridge = try host.ensureBridge(name: a.bridge, mtu: a.mtu)
        for gw in a.bridgeAddresses { try host.addAddress(gw, index: bridge.index, allowExisting: true) }
        do throws(NetlinkError) {
            // The kernel refuses the pair when either name is taken; only then look for which one it was.
            try host.addVeth(hostName: a.hostInterface, peerName: a.podInterface, peerNamespaceFD: nsfd, mtu: a.mtu, master: bridge.index)
        } catch where error.isExists {
            let podSideExists = try NetworkNamespace.run(fd: nsfd, name: a.netnsPath) { () throws(NetlinkError) -> Bool in
                try NetlinkSocket().link(named: a.podInterface) != nil
            }
            if podSideExists {
                throw NetlinkError(code: EEXIST, operation: "interface already exists in \(a.netnsPath)", object: a.podInterface)
            }
            throw NetlinkError(code: EEXIST, operation: "host interface already exists", object: a.hostInterface)
        }
        do throws(NetlinkError) {
            guard let hostLink = try host.link(named: a.hostInterface) else {
                throw NetlinkError.notFound("veth vanished", a.hostInterface)
            }
            if a.hairpin { try host.setHairpin(index: hostLink.index, name: a.hostInterface) }
            let pod = try NetworkNamespace.run(fd: nsfd, name: a.netnsPath) { () throws(NetlinkError) -> LinkInfo in
                try configurePodSide(a)
            }
            let bridgeNow = try host.link(named: a.bridge) ?? bridge
            return AttachedLinks(bridge: bridgeNow, host: hostLink, pod: pod)
        } catch {
            _ = try? host.deleteLink(name: a.hostInterface)
            throw error
        }
    }

    /// Inside the pod namespace: DAD off, addresses, link up, routes, loopback up.
    static func configurePodSide(_ a: PodAttachment) throws(NetlinkError) -> LinkInfo {
        let ns = try NetlinkSocket()
        guard let link = try ns.link(named: a.podInterface) else {
            throw NetlinkError.notFound("pod interface missing after creation", a.podInterface)
        }
        if a.addresses.contains(where: { $0.address.isIPv6 }) {
            try NetworkNamespace.writeSysctl("net/ipv6/conf/\(a.podInterface)/accept_dad", "0")
        }
        for address in a.addresses { try ns.addAddress(address, index: link.index) }
        try ns.setUp(name: a.podInterface)
        try ns.setUp(name: "lo")
        for r in a.routes { try ns.addRoute(dst: r.dst, gateway: r.gateway, index: link.index) }
        return try ns.link(named: a.podInterface) ?? link
    }

    /// Deletes the host end of the veth (the kernel removes the pod end with it). Succeeds when it
    /// is already gone, including after the pod namespace was deleted.
    @discardableResult
    public static func detach(hostInterface: String) throws(NetlinkError) -> Bool {
        try NetlinkSocket().deleteLink(name: hostInterface)
    }

    /// Problems with an existing attachment (empty when all is in place), for CHECK.
    public static func check(_ a: PodAttachment) throws(NetlinkError) -> [String] {
        var problems: [String] = []
        let host = try NetlinkSocket()
        guard let bridge = try host.link(named: a.bridge) else { return ["bridge \(a.bridge) missing"] }
        if let h = try host.link(named: a.hostInterface) {
            if h.master != bridge.index { problems.append("\(a.hostInterface) is not a port of \(a.bridge)") }
        } else {
            problems.append("host interface \(a.hostInterface) missing")
        }
        let podProblems = try NetworkNamespace.run(path: a.netnsPath) { () throws(NetlinkError) -> [String] in
            let ns = try NetlinkSocket()
            guard let link = try ns.link(named: a.podInterface) else { return ["interface \(a.podInterface) missing in \(a.netnsPath)"] }
            let have = try ns.addresses(index: link.index)
            return a.addresses.filter { !have.contains($0) }.map { "address \($0) missing on \(a.podInterface)" }
                + (link.isUp ? [] : ["\(a.podInterface) is down"])
        }
        return problems + podProblems
    }

    /// Deletes host interfaces named `prefix…` that are ports of `bridge` and not in `keeping` (GC).
    @discardableResult
    public static func removeStaleHostInterfaces(bridge: String, prefix: String, keeping: Set<String>) throws(NetlinkError) -> [String] {
        let host = try NetlinkSocket()
        guard let br = try host.link(named: bridge) else { return [] }
        var removed: [String] = []
        for l in try host.links() where l.master == br.index && l.name.hasPrefix(prefix) && !keeping.contains(l.name) {
            if try host.deleteLink(name: l.name) { removed.append(l.name) }
        }
        return removed
    }
}
