import KubeAPI
import ProxyCore

/// The ruleset upstream kube-proxy's nftables mode writes for plain ClusterIP Services (its layout as of
/// Kubernetes 1.33: dispatch through `service-ips`, then a chain per Service port that masquerades
/// off-cluster traffic and picks an endpoint with `numgen random mod N vmap { … }`, and a chain per endpoint
/// that masquerades hairpin traffic and DNATs), as `nft -f` input: the peer `kproxy bench nftables` loads.
package enum UpstreamRuleset {
    package static func text(_ state: ProxyState, clusterCIDR: String) -> String {
        var serviceIPs: [String] = []
        var clusterIPs: [String] = []
        var chains: [String] = []
        for name in state.services.keys.sorted() {
            guard let svc = state.services[name], let ip = svc.clusterIPs.first(where: \.isIPv4) else { continue }
            let endpoints = state.endpoints[name] ?? []
            guard !endpoints.isEmpty else { continue }
            let proto = name.protocol.name
            let chain = NFTNames.serviceChain(name)
            clusterIPs.append(ip.description)
            serviceIPs.append("\(ip) . \(proto) . \(svc.port) : goto \(chain)")
            let picks = endpoints.enumerated().map { "\($0.offset) : goto \(NFTNames.endpointChain(name, $0.element))" }
            chains.append("""
                \tchain \(chain) {
                \t\tip daddr \(ip) \(proto) dport \(svc.port) ip saddr != \(clusterCIDR) jump mark-for-masquerade
                \t\tnumgen random mod \(endpoints.count) vmap { \(picks.joined(separator: ", ")) }
                \t}

                """)
            for ep in endpoints {
                chains.append("""
                    \tchain \(NFTNames.endpointChain(name, ep)) {
                    \t\tip saddr \(ep.address) jump mark-for-masquerade
                    \t\tmeta l4proto \(proto) dnat to \(ep.address):\(ep.port)
                    \t}

                    """)
            }
        }
        func elements(_ list: [String]) -> String { list.isEmpty ? "" : "\t\telements = { " + list.joined(separator: ",\n\t\t\t") + " }\n" }
        return """
            table ip kube-proxy {
            \tcomment "rules for kube-proxy"
            \tset cluster-ips {
            \t\ttype ipv4_addr
            \(elements(clusterIPs))\t}
            \tmap service-ips {
            \t\ttype ipv4_addr . inet_proto . inet_service : verdict
            \(elements(serviceIPs))\t}
            \tchain filter-output-post-dnat {
            \t\ttype filter hook output priority -90; policy accept;
            \t\tct state new jump cluster-ips-check
            \t}
            \tchain filter-forward {
            \t\ttype filter hook forward priority -110; policy accept;
            \t\tct state new jump cluster-ips-check
            \t}
            \tchain cluster-ips-check {
            \t\tip daddr @cluster-ips reject comment "Reject traffic to invalid ports of ClusterIPs"
            \t}
            \tchain nat-prerouting {
            \t\ttype nat hook prerouting priority dstnat; policy accept;
            \t\tjump services
            \t}
            \tchain nat-output {
            \t\ttype nat hook output priority -100; policy accept;
            \t\tjump services
            \t}
            \tchain nat-postrouting {
            \t\ttype nat hook postrouting priority srcnat; policy accept;
            \t\tjump masquerading
            \t}
            \tchain mark-for-masquerade {
            \t\tmeta mark set meta mark or 0x4000
            \t}
            \tchain masquerading {
            \t\tmeta mark & 0x4000 == 0 return
            \t\tmeta mark set meta mark xor 0x4000
            \t\tmasquerade fully-random
            \t}
            \tchain services {
            \t\tip daddr . meta l4proto . th dport vmap @service-ips
            \t}
            \(chains.joined())}

            """
    }
}
