import KubeAPI

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
    var nodes: [String: ZoneNode]
    /// Namespaces → pod IPs (only filled in `verified` mode).
    var podIPs: [String: Set<IPAddress>]
    /// Lower-case zone key, cached.
    let zoneKey: String

    init(options: ZoneOptions, synced: Bool, serial: UInt32, nodes: [String: ZoneNode], podIPs: [String: Set<IPAddress>]) {
        self.options = options; self.synced = synced; self.serial = serial
        self.nodes = nodes; self.podIPs = podIPs; self.zoneKey = options.zone.key
    }

    /// An index with no data that answers SERVFAIL for the zone until replaced.
    public static func unsynced(_ options: ZoneOptions) -> ServiceIndex {
        ServiceIndex(options: options, synced: false, serial: 0, nodes: [:], podIPs: [:])
    }

    /// The node of a name, nil when the name does not exist in the index.
    public func node(_ key: String) -> ZoneNode? { nodes[key] }

    /// Number of names (including empty non-terminals and reverse names).
    public var nameCount: Int { nodes.count }

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
