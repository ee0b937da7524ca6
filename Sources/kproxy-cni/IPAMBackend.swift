import CNICore
import CNIStore
import Values

/// The IPAM half of the plugin: own allocator or a delegated plugin binary.
protocol IPAMBackend {
    func add(_ inv: Invocation) throws(CNIError) -> CNIResult
    func del(_ inv: Invocation) throws(CNIError)
    func check(_ inv: Invocation) throws(CNIError)
    func gc(_ inv: Invocation) throws(CNIError)
    func status(_ inv: Invocation) throws(CNIError)
}

/// This binary's allocator over the on-disk store.
struct LocalIPAM: IPAMBackend {
    let allocator: IPAllocator<DiskAllocationStore>
    let dns: ClusterDNS?

    func add(_ inv: Invocation) throws(CNIError) -> CNIResult {
        let ips = try allocator.allocate(for: inv.key)
        var routes = allocator.config.routes
        for i in routes.indices where routes[i].gw == nil {
            routes[i].gw = ips.first { $0.address.address.isIPv6 == routes[i].dst.address.isIPv6 }?.gateway
        }
        return CNIResult(ips: ips, routes: routes, dns: dns?.result(namespace: inv.env.arg("K8S_POD_NAMESPACE")) ?? CNIResult.DNS())
    }

    func del(_ inv: Invocation) throws(CNIError) { try allocator.release(inv.key) }

    func check(_ inv: Invocation) throws(CNIError) {
        let held = try allocator.addresses(of: inv.key)
        if held.isEmpty { throw CNIError(.unknownContainer, "no address allocated to \(inv.key)") }
        if let prev = try inv.conf.prevResult() {
            let expected = Set(prev.ips.map(\.address.address))
            for ip in held where !expected.contains(ip) { throw CNIError(.internalFailure, "allocated address \(ip) not in prevResult") }
        }
    }

    func gc(_ inv: Invocation) throws(CNIError) { try allocator.collectGarbage(keeping: try inv.conf.validAttachments()) }

    func status(_ inv: Invocation) throws(CNIError) { try allocator.status() }
}

/// Another IPAM plugin found in CNI_PATH, run with the same environment and stdin, as the spec says.
struct DelegateIPAM: IPAMBackend {
    let plugin: String
    let invocation: Invocation

    func add(_ inv: Invocation) throws(CNIError) -> CNIResult {
        guard let out = try DelegatePlugin.run(plugin, command: .add, inv) else { throw CNIError(.decodeFailure, "\(plugin) returned no result") }
        return try CNIResult(json: out)
    }
    func del(_ inv: Invocation) throws(CNIError) { _ = try DelegatePlugin.run(plugin, command: .del, inv) }
    func check(_ inv: Invocation) throws(CNIError) { _ = try DelegatePlugin.run(plugin, command: .check, inv) }
    func gc(_ inv: Invocation) throws(CNIError) { _ = try DelegatePlugin.run(plugin, command: .gc, inv) }
    func status(_ inv: Invocation) throws(CNIError) { _ = try DelegatePlugin.run(plugin, command: .status, inv) }
}

/// IPAM mode: called as the `ipam` plugin of another main plugin (the reference `bridge`).
struct IPAMPlugin {
    let inv: Invocation
    init(_ inv: Invocation) { self.inv = inv }

    func run() throws(CNIError) -> JSONValue? {
        try inv.requireVersionSupports(inv.env.command)
        let backend = try inv.ipamBackend()
        switch inv.env.command {
        case .add: return try backend.add(inv).json(version: inv.conf.cniVersion)
        case .del: try backend.del(inv)
        case .check: try backend.check(inv)
        case .gc: try backend.gc(inv)
        case .status: try backend.status(inv)
        case .version: return CNIVersion.versionInfo()
        }
        return nil
    }
}
