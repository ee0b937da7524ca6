import Glibc
import LinuxSystem
import Netlink
import NodeAgent

/// The cluster's network, made and removed through netlink: a namespace per member, all on one bridge in a
/// namespace of its own (the segment). Nothing is created in the caller's namespace and nothing in the
/// cluster has a route out of it.
public enum Topology {
    /// Throws when a namespace of `plan` exists already (another cluster's: nothing of it may be touched).
    public static func checkFree(_ plan: UpPlan) throws(UpError) {
        if let taken = plan.namespaces.first(where: { access(NetnsFiles.path($0), F_OK) == 0 }) {
            throw .failed("network namespace \(taken) exists already (another cluster with run id \(plan.runID)?)")
        }
    }

    /// Creates every namespace and link of `plan` and configures addresses and routes (netlink, off the
    /// cooperative pool).
    public static func create(_ plan: UpPlan) async throws(UpError) {
        for ns in plan.namespaces {
            do throws(SystemError) { try await NetnsFiles.create(NetnsFiles.path(ns)) } catch { throw .failed("\(error)") }
        }
        try await Blocking.run { () throws(UpError) in try configure(plan) }
    }

    private static func configure(_ plan: UpPlan) throws(UpError) {
        do throws(NetlinkError) {
            try NetworkNamespace.run(path: NetnsFiles.path(plan.segmentNetns)) { () throws(NetlinkError) in
                let nl = try NetlinkSocket()
                try nl.setUp(name: "lo")
                // One segment: a bridge. Routed: no bridge; this namespace routes between the members' subnets.
                let bridge = plan.network == .hostGateway ? try nl.ensureBridge(name: plan.segmentBridge, mtu: nil) : nil
                for member in plan.members {
                    let fd = try NetworkNamespace.open(path: NetnsFiles.path(member.netns))
                    defer { Sys.close(fd) }
                    try nl.addVeth(hostName: member.segmentPort, peerName: plan.memberInterface, peerNamespaceFD: fd, mtu: nil, master: bridge?.index)
                    if let gateway = member.gateway.flatMap(plan.segmentAddress), let port = try nl.link(named: member.segmentPort) {
                        try nl.addAddress(gateway, index: port.index)
                    }
                }
                if bridge == nil { try NetworkNamespace.writeSysctl("net/ipv4/ip_forward", "1") }
            }
            for member in plan.members {
                let isNode = plan.nodes.contains(member)
                try NetworkNamespace.run(path: NetnsFiles.path(member.netns)) { () throws(NetlinkError) in
                    let nl = try NetlinkSocket()
                    try nl.setUp(name: "lo")
                    try nl.setUp(name: plan.memberInterface)
                    guard let link = try nl.link(named: plan.memberInterface) else { throw NetlinkError(code: ENODEV, operation: "get link", object: plan.memberInterface) }
                    guard let address = plan.segmentAddress(member.address) else {
                        throw NetlinkError(code: EINVAL, operation: "address of", object: member.role)
                    }
                    try nl.addAddress(address, index: link.index)
                    for route in plan.routes(of: member) { try nl.addRoute(dst: route.dst, gateway: route.gateway, index: link.index) }
                    if isNode { try NetworkNamespace.writeSysctl("net/ipv4/ip_forward", "1") }
                }
            }
        } catch {
            throw .failed("network set-up: \(error)")
        }
    }

    /// Puts back what the kernel removes from a node when its link goes down (its routes), as a host's
    /// network manager re-applies its configuration when the link returns. Blocking (netlink); returns what
    /// it re-added and what failed.
    public static func repairNodes(_ plan: UpPlan) -> (repaired: [String], errors: [String]) {
        var repaired: [String] = [], errors: [String] = []
        for node in plan.nodes {
            do throws(NetlinkError) {
                let added = try NetworkNamespace.run(path: NetnsFiles.path(node.netns)) { () throws(NetlinkError) -> [String] in
                    let nl = try NetlinkSocket()
                    guard let link = try nl.link(named: plan.memberInterface), link.isUp else { return [] }
                    var added: [String] = []
                    for route in plan.routes(of: node) {
                        do throws(NetlinkError) { try nl.addRoute(dst: route.dst, gateway: route.gateway, index: link.index) } catch {
                            if error.isExists { continue }
                            throw error
                        }
                        added.append("route \(route.dst) via \(route.gateway.map(\.description) ?? plan.memberInterface)")
                    }
                    return added
                }
                repaired += added.map { "\(node.role): \($0)" }
            } catch {
                errors.append("\(node.role): \(error)")
            }
        }
        return (repaired, errors)
    }

    /// The network namespaces of the pods the nodes' agents recorded (`kproxy-<uid>`, one per pod dir).
    public static func podNamespaces(_ plan: UpPlan) -> [String] {
        plan.nodes.flatMap { node -> [String] in
            let dir = "\(plan.nodeDir(node.role))/root/pods"
            return Files.list(dir).map { "kproxy-" + $0 }
        }
    }

    /// Kills every process left in the cluster's namespaces (pods, and what they forked) and removes the
    /// namespaces: the links, bridges, addresses, routes and nftables tables inside go with them.
    /// Returns what could not be removed.
    public static func remove(_ plan: UpPlan, extraNamespaces: [String] = []) -> [String] {
        let names = extraNamespaces + podNamespaces(plan) + plan.namespaces
        // A namespace file an agent was creating when it was stopped is still empty (not mounted): no
        // process can be in it, but the file must go too.
        let existing = names.map(NetnsFiles.path).filter { access($0, F_OK) == 0 }
        let paths = existing.filter(NetnsFiles.isMounted)
        var problems: [String] = []
        for attempt in 0..<50 {
            let inside = Processes.inNamespaces(paths)
            if inside.isEmpty { break }
            for pid in inside { kill(pid, SIGKILL) }
            if attempt == 49 { problems.append("processes still running in the cluster's namespaces: \(inside.sorted())") }
            usleep(40_000)
        }
        for path in existing {
            do throws(SystemError) { try NetnsFiles.remove(path) } catch { problems.append("\(error)") }
        }
        problems += existing.filter { access($0, F_OK) == 0 }.map { "\($0) still exists" }
        return problems
    }
}

/// Small /proc and directory helpers.
enum Files {
    static func list(_ dir: String) -> [String] {
        guard let d = opendir(dir) else { return [] }
        defer { closedir(d) }
        var out: [String] = []
        while let entry = readdir(d) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self) }
            if name != "." && name != ".." { out.append(name) }
        }
        return out.sorted()
    }
}

public enum Processes {
    /// Pids whose network namespace is one of the namespace files at `paths`.
    public static func inNamespaces(_ paths: [String]) -> [pid_t] {
        var wanted = Set<UInt64>()
        for path in paths {
            var st = stat()
            if stat(path, &st) == 0 { wanted.insert(UInt64(st.st_ino)) }
        }
        guard !wanted.isEmpty else { return [] }
        let me = getpid()
        return Files.list("/proc").compactMap { entry -> pid_t? in
            guard let pid = pid_t(entry), pid != me else { return nil }
            var st = stat()
            guard stat("/proc/\(pid)/ns/net", &st) == 0, wanted.contains(UInt64(st.st_ino)) else { return nil }
            return pid
        }
    }

}
