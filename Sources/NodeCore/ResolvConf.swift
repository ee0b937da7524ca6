/// A pod's `/etc/resolv.conf`, as the kubelet writes it for each `dnsPolicy`.
public enum ResolvConf {
    /// The host's resolver settings (the kubelet's `--resolv-conf`), parsed.
    public struct Host: Sendable, Equatable {
        public var nameservers: [String] = []
        public var search: [String] = []
        public var options: [String] = []
        public init(nameservers: [String] = [], search: [String] = [], options: [String] = []) {
            self.nameservers = nameservers; self.search = search; self.options = options
        }

        public init(parsing text: String) {
            for line in text.split(whereSeparator: \.isNewline) {
                let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
                guard let key = words.first, !key.hasPrefix("#"), !key.hasPrefix(";") else { continue }
                let rest = Array(words.dropFirst())
                switch key {
                case "nameserver": nameservers += rest.prefix(1)
                case "search", "domain": search = rest  // the last one wins, as in glibc
                case "options": options += rest
                default: continue
                }
            }
        }
    }

    /// glibc reads at most 3 nameservers and 6 search domains (older limits the kubelet still applies: 32 from 1.28 on).
    static let maxNameservers = 3, maxSearch = 32

    /// `ClusterFirst`: the cluster DNS, the namespace's search path then the host's, `ndots:5`.
    /// With no cluster DNS configured the kubelet falls back to the host's settings (`Default`).
    public static func clusterFirst(namespace: String, clusterDomain: String, clusterDNS: [String], host: Host) -> String {
        guard !clusterDNS.isEmpty else { return hostDefault(host) }
        let search = ["\(namespace).svc.\(clusterDomain)", "svc.\(clusterDomain)", clusterDomain] + host.search
        return render(nameservers: clusterDNS, search: search, options: ["ndots:5"])
    }

    /// `Default`: the node's resolver settings.
    public static func hostDefault(_ host: Host) -> String {
        render(nameservers: host.nameservers, search: host.search, options: host.options)
    }

    static func render(nameservers: [String], search: [String], options: [String]) -> String {
        var seen = Set<String>()
        let domains = search.filter { seen.insert($0).inserted }.prefix(maxSearch)
        var text = ""
        for ns in nameservers.prefix(maxNameservers) { text += "nameserver \(ns)\n" }
        if !domains.isEmpty { text += "search \(domains.joined(separator: " "))\n" }
        if !options.isEmpty { text += "options \(options.joined(separator: " "))\n" }
        return text
    }
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
