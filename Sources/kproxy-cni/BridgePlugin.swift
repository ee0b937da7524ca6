import CNICore
import Netlink
import Values
#if canImport(Glibc)
import Glibc
#endif

/// The main plugin: a veth pair from the pod to the node bridge, addresses from the IPAM backend.
/// Config fields: `bridge` (default `kp0`), `mtu`, `hairpinMode` (default true), `clusterDNS`,
/// `clusterDomain`, `ipam`.
struct BridgePlugin {
    let inv: Invocation
    /// `bridge` from the config; a value that is not a string is error 7, never a silent default.
    let bridgeName: String

    init(_ inv: Invocation) throws(CNIError) {
        self.inv = inv
        bridgeName = try inv.conf.string("bridge") ?? "kp0"
    }
    var hostInterface: String { HostInterfaceName.forAttachment(inv.key) }

    func run() throws(CNIError) -> JSONValue? {
        try inv.requireVersionSupports(inv.env.command)
        try CNIEnvironment.validateInterfaceName(bridgeName)
        let ipam = try inv.ipamBackend()
        switch inv.env.command {
        case .add: return try add(ipam).json(version: inv.conf.cniVersion)
        case .del: try del(ipam)
        case .check: try check(ipam)
        case .gc: try gc(ipam)
        case .status: try ipam.status(inv)
        case .version: return CNIVersion.versionInfo()
        }
        return nil
    }

    func add(_ ipam: any IPAMBackend) throws(CNIError) -> CNIResult {
        let mtu = try inv.conf.int("mtu")
        if let mtu, !(68...65535).contains(mtu) { throw CNIError(.invalidConfig, "mtu \(mtu) out of range") }
        // Every config field is read before IPAM allocates: a bad one must not leak an address.
        let hairpin = try inv.conf.bool("hairpinMode") ?? true
        let allocated = try ipam.add(inv)
        guard !allocated.ips.isEmpty else {
            try? ipam.del(inv)
            throw CNIError(.invalidConfig, "IPAM returned no addresses")
        }
        let routes = Self.podRoutes(allocated)
        let attachment = PodAttachment(
            bridge: bridgeName,
            bridgeAddresses: allocated.ips.compactMap { ip in ip.gateway.flatMap { IPPrefix(address: $0, length: ip.address.length) } },
            hostInterface: hostInterface, podInterface: inv.env.ifname, netnsPath: inv.env.netns,
            mtu: mtu, hairpin: hairpin,
            addresses: allocated.ips.map(\.address),
            routes: routes.map { PodAttachment.Route(dst: $0.dst.cidr, gateway: $0.gw) })
        let links: AttachedLinks
        do throws(NetlinkError) { links = try PodNetwork.attach(attachment) } catch {
            try? ipam.del(inv)
            throw Self.cniError(error)
        }
        TestHooks.pauseIfRequested(inv.environment, at: "after-attach")
        var result = try inv.conf.prevResult() ?? CNIResult()
        let base = result.interfaces.count
        result.interfaces += [
            .init(name: links.bridge.name, mac: links.bridge.mac),
            .init(name: links.host.name, mac: links.host.mac),
            .init(name: links.pod.name, mac: links.pod.mac, mtu: links.pod.mtu, sandbox: inv.env.netns),
        ]
        result.ips += allocated.ips.map { CNIResult.IPConfig(address: $0.address, gateway: $0.gateway, interface: base + 2) }
        result.routes += routes
        if let dns = try ClusterDNS(conf: inv.conf) {
            result.dns = dns.result(namespace: inv.env.arg("K8S_POD_NAMESPACE"))
        } else if !allocated.dns.isEmpty {
            result.dns = allocated.dns
        }
        return result
    }

    /// IPAM routes, or a default route per family via that family's gateway.
    static func podRoutes(_ r: CNIResult) -> [CNIResult.Route] {
        if !r.routes.isEmpty { return r.routes }
        var out: [CNIResult.Route] = []
        for ip in r.ips {
            guard let gw = ip.gateway, !out.contains(where: { $0.dst.address.isIPv6 == gw.isIPv6 }) else { continue }
            let any = IPPrefix.any(gw.family)
            out.append(CNIResult.Route(dst: any, gw: gw))
        }
        return out
    }

    /// Idempotent: a missing veth or netns is fine; the address is released either way.
    func del(_ ipam: any IPAMBackend) throws(CNIError) {
        do throws(NetlinkError) { try PodNetwork.detach(hostInterface: hostInterface) } catch {
            throw Self.cniError(error)
        }
        try ipam.del(inv)
    }

    func check(_ ipam: any IPAMBackend) throws(CNIError) {
        guard let prev = try inv.conf.prevResult() else { throw CNIError(.invalidConfig, "CHECK needs prevResult") }
        try ipam.check(inv)
        let mine = prev.ips.filter { ip in ip.interface.map { prev.interfaces.indices.contains($0) && prev.interfaces[$0].name == inv.env.ifname } ?? true }
        let attachment = PodAttachment(bridge: bridgeName, bridgeAddresses: [], hostInterface: hostInterface, podInterface: inv.env.ifname,
                                       netnsPath: inv.env.netns, mtu: nil, hairpin: false, addresses: mine.map(\.address), routes: [])
        let problems: [String]
        do throws(NetlinkError) { problems = try PodNetwork.check(attachment) } catch { throw Self.cniError(error) }
        if !problems.isEmpty { throw CNIError(.internalFailure, "attachment \(inv.key) is broken", details: problems.joined(separator: "; ")) }
    }

    /// Releases addresses and removes host veths of attachments the runtime no longer knows.
    func gc(_ ipam: any IPAMBackend) throws(CNIError) {
        let valid = try inv.conf.validAttachments()
        try ipam.gc(inv)
        do throws(NetlinkError) {
            try PodNetwork.removeStaleHostInterfaces(bridge: bridgeName, prefix: HostInterfaceName.prefix,
                                                     keeping: Set(valid.map(HostInterfaceName.forAttachment)))
        } catch { throw Self.cniError(error) }
    }

    static func cniError(_ e: NetlinkError) -> CNIError {
        if e.operation == "open netns", e.isNotFound { return CNIError(.unknownContainer, "network namespace not found", details: e.description) }
        return CNIError(.internalFailure, e.description)
    }
}

/// Test-only hooks, driven by environment variables the kernel tests set.
enum TestHooks {
    /// With `KPROXY_CNI_TEST_PAUSE=<point>`, prints `paused <point>` on stderr and waits for a signal,
    /// so a test can kill the plugin at a known point of ADD.
    static func pauseIfRequested(_ env: [String: String], at point: String) {
        guard env["KPROXY_CNI_TEST_PAUSE"] == point else { return }
        ProcessIO.writeLine("paused \(point)", fd: 2)
        while true { pause() }
    }
}
