import DNSCore

/// A pod's `/etc/resolv.conf`, as the kubelet writes it for each `dnsPolicy`.
public enum ResolvConf {
    /// `ClusterFirst`: the cluster DNS, the namespace's search path then the host's, `ndots:5`.
    /// With no cluster DNS configured the kubelet falls back to the host's settings (`Default`).
    public static func clusterFirst(namespace: String, clusterDomain: String, clusterDNS: [String], host: ResolverConfig) -> String {
        guard !clusterDNS.isEmpty else { return hostDefault(host) }
        let search = ["\(namespace).svc.\(clusterDomain)", "svc.\(clusterDomain)", clusterDomain] + host.search
        return ResolverConfig(nameservers: clusterDNS, search: search, options: ["ndots:5"]).text
    }

    /// `Default`: the node's resolver settings.
    public static func hostDefault(_ host: ResolverConfig) -> String { host.text }
}

/// The pod's `/etc/hosts`, as the kubelet manages it: localhost entries and the pod's own name.
public enum EtcHosts {
    public static func render(podIPs: [String], hostname: String, subdomain: String?, namespace: String, clusterDomain: String) -> String {
        var text = """
        # Kubernetes-managed hosts file.
        127.0.0.1\tlocalhost
        ::1\tlocalhost ip6-localhost ip6-loopback
        fe00::0\tip6-localnet
        fe00::0\tip6-mcastprefix
        fe00::1\tip6-allnodes
        fe00::2\tip6-allrouters

        """
        for ip in podIPs {
            if let subdomain, !subdomain.isEmpty {
                text += "\(ip)\t\(hostname).\(subdomain).\(namespace).svc.\(clusterDomain)\t\(hostname)\n"
            } else {
                text += "\(ip)\t\(hostname)\n"
            }
        }
        return text
    }
}
