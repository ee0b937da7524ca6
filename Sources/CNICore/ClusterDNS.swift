import Values

/// Kubernetes resolver settings for a pod: cluster DNS servers, the search path of its namespace, `ndots:5`.
public struct ClusterDNS: Sendable, Equatable {
    public var nameservers: [String]
    public var domain: String

    public init(nameservers: [String], domain: String = "cluster.local") {
        self.nameservers = nameservers; self.domain = domain
    }

    /// Reads `clusterDNS` (string or list) and `clusterDomain` from a kproxy-cni config; nil when no DNS is set.
    public init?(conf: NetConf) throws(CNIError) {
        var servers: [String] = []
        switch conf.raw["clusterDNS"] {
        case .string(let s)?: servers = [s]
        case .array(let a)?: servers = a.compactMap(\.stringValue)
        case nil, .null?: break
        default: throw CNIError(.invalidConfig, "clusterDNS must be an address or a list of addresses")
        }
        for s in servers where IPAddress(s) == nil { throw CNIError(.invalidConfig, "invalid clusterDNS address", details: s) }
        guard !servers.isEmpty else { return nil }
        self.init(nameservers: servers, domain: try conf.string("clusterDomain") ?? "cluster.local")
    }

    /// The result's `dns` for a pod in `namespace` (from `K8S_POD_NAMESPACE`).
    public func result(namespace: String?) -> CNIResult.DNS {
        var search = ["svc.\(domain)", domain]
        if let ns = namespace, !ns.isEmpty { search.insert("\(ns).svc.\(domain)", at: 0) }
        return CNIResult.DNS(nameservers: nameservers, domain: "", search: search, options: ["ndots:5"])
    }
}
