import KubeAPI

/// Every nftables object name kproxy writes, produced in one place. Names follow upstream kube-proxy's
/// nftables mode: fixed names for the shared chains and maps, and `<prefix>-<HASH>-<ns>/<name>/<proto>/<port>`
/// for per-service-port chains (`__<ip>/<port>` appended for endpoints), where HASH is the first 8 base32
/// characters of the SHA-256 of the readable part.
public enum NFTNames {
    public static let defaultTable = "kproxy"

    // Base chains: "<type>-<hook>".
    public static let filterPrerouting = "filter-prerouting"
    public static let filterInput = "filter-input"
    public static let filterForward = "filter-forward"
    public static let filterOutput = "filter-output"
    public static let filterOutputPostDNAT = "filter-output-post-dnat"
    public static let natPrerouting = "nat-prerouting"
    public static let natOutput = "nat-output"
    public static let natPostrouting = "nat-postrouting"
    /// Userspace mode.
    public static let manglePrerouting = "mangle-prerouting"
    public static let routeOutput = "route-output"

    // Shared regular chains.
    public static let services = "services"
    /// NodePort dispatch (after `services` found no Service address).
    public static let nodePorts = "nodeports"
    public static let serviceEndpointsCheck = "service-endpoints-check"
    public static let nodePortEndpointsCheck = "nodeport-endpoints-check"
    public static let clusterIPsCheck = "cluster-ips-check"
    public static let firewallCheck = "firewall-check"
    public static let markForMasquerade = "mark-for-masquerade"
    public static let masquerading = "masquerading"

    // Sets and maps.
    public static let serviceIPs = "service-ips"
    public static let serviceNodePorts = "service-nodeports"
    public static let clusterIPs = "cluster-ips"
    public static let nodePortIPs = "nodeport-ips"
    /// Address . protocol . port / protocol . port of Services without endpoints: rejected.
    public static let noEndpointServices = "no-endpoint-services"
    public static let noEndpointNodePorts = "no-endpoint-nodeports"
    /// … whose traffic policy (Local) leaves no endpoint on this node: dropped.
    public static let noLocalEndpointServices = "no-local-endpoint-services"
    public static let noLocalEndpointNodePorts = "no-local-endpoint-nodeports"
    /// Address . protocol . port . slot → endpoint address . port, for every Service address balanced by
    /// elements; `nodeport-endpoints` is keyed by protocol . NodePort . slot.
    public static let serviceEndpoints = "service-endpoints"
    public static let nodePortEndpoints = "nodeport-endpoints"
    /// External addresses and NodePorts (Cluster policy) balanced by elements: marked for masquerading.
    public static let masqueradeServices = "masquerade-services"
    public static let masqueradeNodePorts = "masquerade-nodeports"
    /// `lb-N`: Service addresses balanced by elements over N endpoints; `lb-nodeports-N`: NodePorts.
    public static func balancedServices(_ count: Int) -> String { "lb-\(count)" }
    public static func balancedNodePorts(_ count: Int) -> String { "lb-nodeports-\(count)" }
    public static let firewallIPs = "firewall-ips"
    /// `endpoint . endpoint` for every endpoint: a connection whose source is its own (DNAT-ed) destination
    /// is a pod reaching itself through a Service, and is masqueraded.
    public static let hairpinEndpoints = "hairpin-endpoints"
    /// Userspace mode: protocol . port of every listener (reachable only through `tproxy`).
    public static let userspaceListeners = "userspace-listeners"
    /// Userspace mode: address . protocol . port of every Service address steered to a listener (the keys of
    /// `service-ips`), for marking locally sent packets.
    public static let userspaceSteered = "userspace-steered"
    /// Userspace mode: address . protocol . port of the local endpoints of `local` listeners, which the
    /// balancer connects to from the client's own address: their replies come back to its transparent sockets.
    public static let userspaceLocalEndpoints = "userspace-local-endpoints"

    /// Longest name nftables accepts.
    public static let maxNameLength = 256
    private static let maxBaseLength = maxNameLength - 16

    /// `service-HASH-ns/name/proto/port`: the chain balancing over cluster-policy endpoints.
    public static func serviceChain(_ port: ServicePortName) -> String { "service-" + base(port) }
    /// `local-HASH-…`: the chain balancing over node-local endpoints (traffic policy Local).
    public static func localChain(_ port: ServicePortName) -> String { "local-" + base(port) }
    /// `external-HASH-…`: the entry for NodePort, externalIP and load-balancer traffic.
    public static func externalChain(_ port: ServicePortName) -> String { "external-" + base(port) }
    /// `firewall-HASH-…`: loadBalancerSourceRanges filtering.
    public static func firewallChain(_ port: ServicePortName) -> String { "firewall-" + base(port) }
    /// `endpoint-HASH-ns/name/proto/port__ip/port` (IPv6 colons become dots).
    public static func endpointChain(_ port: ServicePortName, _ endpoint: EndpointInfo) -> String {
        "endpoint-" + endpointBase(port, endpoint)
    }
    /// `affinity-HASH-…__ip/port`: the endpoint's sessionAffinity ClientIP set.
    public static func affinitySet(_ port: ServicePortName, _ endpoint: EndpointInfo) -> String {
        "affinity-" + endpointBase(port, endpoint)
    }

    /// `pick-CHAIN`: the numgen verdict map of a load-balancing chain with many endpoints.
    public static func endpointMap(chain: String) -> String { "pick-" + chain }

    /// Whether `chain` is a per-service or per-endpoint chain (only those contain "/").
    public static func isServiceChain(_ chain: String) -> Bool { chain.contains("/") }

    private static func base(_ port: ServicePortName) -> String {
        hashAndTruncate("\(port.namespace)/\(port.name)/\(port.protocol.name)/\(port.port)")
    }

    private static func endpointBase(_ port: ServicePortName, _ endpoint: EndpointInfo) -> String {
        let ip = String(endpoint.address.description.map { $0 == ":" ? "." : $0 })
        return hashAndTruncate("\(port.namespace)/\(port.name)/\(port.protocol.name)/\(port.port)__\(ip)/\(endpoint.port)")
    }

    /// `HASH-name`, cut to fit with "..." when too long.
    static func hashAndTruncate(_ name: String) -> String {
        let hash = SHA256.base32(SHA256.digest(Array(name.utf8))).prefix(8)
        let full = hash + "-" + name
        guard full.utf8.count > maxBaseLength else { return String(full) }
        return String(full.utf8.prefix(maxBaseLength - 3)).map { $0 + "..." } ?? String(full.prefix(maxBaseLength - 3)) + "..."
    }
}
