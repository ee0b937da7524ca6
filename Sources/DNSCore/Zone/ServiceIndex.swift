import KubeAPI
import Values

/// How pod A records (`a-b-c-d.ns.pod.zone`) are answered (CoreDNS's `pods` option).
public enum PodRecordMode: String, Sendable, CaseIterable {
    /// No pod records: names under `pod.zone` are NXDOMAIN.
    case disabled
    /// Any well-formed dashed IP answers with that IP (kube-dns compatible).
    case insecure
    /// Only IPs of pods that exist in that namespace answer.
    case verified
}

/// Zone-wide settings of the answerer.
public struct ZoneOptions: Sendable, Hashable {
    public var zone: DNSName
    /// TTL of every record served from the index (CoreDNS default 5).
    public var ttl: UInt32
    public var pods: PodRecordMode
    /// Name headless endpoints without a hostname after their pod (`targetRef`) instead of their dashed IP.
    public var endpointPodNames: Bool
    /// Addresses answered for `ns.dns.<zone>` (the server's own Service IPs, when known).
    public var nameserverAddresses: [IPAddress]

    public init(zone: DNSName = DNSName("cluster.local") ?? .root, ttl: UInt32 = 5, pods: PodRecordMode = .disabled,
                endpointPodNames: Bool = false, nameserverAddresses: [IPAddress] = []) {
        self.zone = zone; self.ttl = ttl; self.pods = pods
        self.endpointPodNames = endpointPodNames; self.nameserverAddresses = nameserverAddresses
    }
}

/// The records owned by one name. An empty node is an empty non-terminal (NODATA, not NXDOMAIN).
public struct ZoneNode: Sendable, Hashable {
    public var a: [IPAddress] = []
    public var aaaa: [IPAddress] = []
    public var srv: [SRVData] = []
    public var ptr: [DNSName] = []
    public var cname: DNSName?
    public var txt: [[UInt8]] = []

    public init() {}

    public var isEmpty: Bool { a.isEmpty && aaaa.isEmpty && srv.isEmpty && ptr.isEmpty && cname == nil && txt.isEmpty }
}

/// An immutable snapshot of everything the cluster zone answers, keyed by lower-case name
/// (without trailing dot). Built from Services, EndpointSlices and Pods by `ServiceIndex.build`;
/// reverse (`in-addr.arpa`, `ip6.arpa`) names of ClusterIPs and endpoints live here too.
public struct ServiceIndex: Sendable {
    public let options: ZoneOptions
    /// False until the informers have listed everything: the answerer then returns SERVFAIL.
    public let synced: Bool
    /// SOA serial (seconds since the epoch when built, like CoreDNS).
    public let serial: UInt32
    /// Names held as nodes: the apex, namespaces, headless services and their endpoints, ExternalNames, ….
    var nodes: [String: ZoneNode]
    /// ClusterIP Services by their name's key, held compactly (most of a cluster's names): see `node(_:)`.
    var clusterServices: [String: ClusterService]
    /// ClusterIPs → the keys of the Services that have them, for PTR.
    var reverse: [IPAddress: [String]]
    /// Namespaces → pod IPs (only filled in `verified` mode).
    var podIPs: [String: Set<IPAddress>]
    /// Lower-case zone key, cached.
    let zoneKey: String
    /// Number of names (including empty non-terminals and reverse names).
    public let nameCount: Int

    /// A ClusterIP Service: its name (A/AAAA and SRV per distinct port), `_port._proto.` SRV names for
    /// named ports with their `_proto.` parents, and the reverse names of its IPs. Kept as these few fields
    /// instead of four nodes with their keys: a quarter of the memory, the nodes are made on lookup.
    struct ClusterService: Sendable, Hashable {
        struct Port: Sendable, Hashable {
            /// Lower-cased; nil or empty for unnamed ports.
            var name: String?
            /// `tcp`, `udp`, `sctp`.
            var proto: String
            var port: UInt16
            /// Named ports have `_name._proto` SRV names.
            var isNamed: Bool { !(name ?? "").isEmpty }
        }
        var ips: [IPAddress]
        var ports: [Port]
    }

    init(options: ZoneOptions, synced: Bool, serial: UInt32, nodes: [String: ZoneNode],
         clusterServices: [String: ClusterService] = [:], reverse: [IPAddress: [String]] = [:], podIPs: [String: Set<IPAddress>]) {
        self.options = options; self.synced = synced; self.serial = serial
        self.nodes = nodes; self.clusterServices = clusterServices; self.reverse = reverse
        self.podIPs = podIPs; self.zoneKey = options.zone.key
        var count = nodes.count
        for (key, service) in clusterServices {
            let named = service.ports.filter(\.isNamed)
            count += (nodes[key] == nil ? 1 : 0) + named.count + Set(named.map(\.proto)).count
        }
        count += reverse.keys.count(where: { nodes[$0.reverseDNSName] == nil })
        nameCount = count
    }

    /// An index with no data that answers SERVFAIL for the zone until replaced.
    public static func unsynced(_ options: ZoneOptions) -> ServiceIndex {
        ServiceIndex(options: options, synced: false, serial: 0, nodes: [:], podIPs: [:])
    }

    /// The node of a name, nil when the name does not exist in the index.
    public func node(_ key: String) -> ZoneNode? {
        var node = nodes[key]
        func merge(_ extra: ZoneNode) {
            var n = node ?? ZoneNode()
            n.a += extra.a; n.aaaa += extra.aaaa; n.srv += extra.srv; n.ptr += extra.ptr
            node = n
        }
        if let service = clusterServices[key] {
            merge(Self.serviceNode(key, service))
        } else if key.hasPrefix("_"), let (first, rest) = Self.splitFirstLabel(key) {
            if let service = clusterServices[rest] {
                // `_proto.<service>`: exists when a named port has that protocol.
                if service.ports.contains(where: { $0.isNamed && "_" + $0.proto == first }) { merge(ZoneNode()) }
            } else if rest.hasPrefix("_"), let (second, serviceKey) = Self.splitFirstLabel(rest), let service = clusterServices[serviceKey],
                      let port = service.ports.first(where: { $0.isNamed && "_" + ($0.name ?? "") == first && "_" + $0.proto == second }),
                      let target = DNSName(serviceKey) {
                var n = ZoneNode()
                n.srv = [SRVData(priority: 0, weight: 100, port: port.port, target: target)]
                merge(n)
            }
        }
        if !reverse.isEmpty, key.hasSuffix(".arpa"), let ip = IPAddress(reverseDNSName: key), ip.reverseDNSName == key,
           let owners = reverse[ip] {
            var n = ZoneNode()
            n.ptr = owners.compactMap { DNSName($0) }
            merge(n)
        }
        return node
    }

    /// The node of a ClusterIP Service's own name.
    static func serviceNode(_ key: String, _ service: ClusterService) -> ZoneNode {
        var node = ZoneNode()
        for ip in service.ips { ip.isIPv4 ? node.a.append(ip) : node.aaaa.append(ip) }
        let distinct = Array(Set(service.ports.map(\.port))).sorted()
        let weight = UInt16(100 / max(1, distinct.count))
        if let target = DNSName(key) {
            node.srv = distinct.map { SRVData(priority: 0, weight: weight, port: $0, target: target) }
        }
        return node
    }

    /// `("_http", "_tcp.web.ns.svc.cluster.local")` for `_http._tcp.web.ns.svc.cluster.local`.
    static func splitFirstLabel(_ key: String) -> (Substring, String)? {
        guard let dot = key.firstIndex(of: ".") else { return nil }
        return (key[..<dot], String(key[key.index(after: dot)...]))
    }

    /// The SOA record of the zone.
    public var soa: DNSRecord {
        let zone = options.zone
        let mname = zone.prepending([Array("ns".utf8), Array("dns".utf8)])
        let rname = zone.prepending([Array("hostmaster".utf8)])
        return DNSRecord(name: zone, ttl: options.ttl,
                         data: .soa(SOAData(mname: mname, rname: rname, serial: serial, refresh: 7200, retry: 1800,
                                            expire: 86400, minimum: options.ttl)))
    }

    /// `ns.dns.<zone>`, the name server the apex NS record names.
    public var nameserverName: DNSName {
        options.zone.prepending([Array("ns".utf8), Array("dns".utf8)])
    }

    /// True when pod `ip` exists in `namespace` (verified mode).
    func hasPod(_ ip: IPAddress, in namespace: String) -> Bool { podIPs[namespace]?.contains(ip) ?? false }
}
