import Values

/// One allocatable range in a subnet, as in host-local's `ranges` entries.
public struct IPRange: Sendable, Equatable {
    public var subnet: IPPrefix
    public var rangeStart: IPAddress
    public var rangeEnd: IPAddress
    /// The node bridge's address; never handed out.
    public var gateway: IPAddress

    /// Fills host-local's defaults: start = network+1, end = broadcast−1 (IPv4) or last (IPv6), gateway = network+1.
    public init(subnet: IPPrefix, rangeStart: IPAddress? = nil, rangeEnd: IPAddress? = nil, gateway: IPAddress? = nil) throws(CNIError) {
        let net = subnet.masked
        let v6 = net.address.isIPv6
        guard net.length <= (v6 ? 126 : 30) else { throw CNIError(.invalidConfig, "subnet \(subnet) is too small to allocate from") }
        let first = net.network.advanced(by: 1) ?? net.network
        let last = v6 ? net.last : (net.last.advanced(by: -1) ?? net.last)
        let start = rangeStart ?? first
        let end = rangeEnd ?? last
        let gw = gateway ?? first
        for (what, ip) in [("rangeStart", start), ("rangeEnd", end), ("gateway", gw)] where !net.contains(ip) {
            throw CNIError(.invalidConfig, "\(what) \(ip) not in subnet \(net)")
        }
        guard start >= first, end <= last, start <= end else {
            throw CNIError(.invalidConfig, "range \(start)-\(end) is not inside the usable addresses of \(net)")
        }
        self.subnet = net; self.rangeStart = start; self.rangeEnd = end; self.gateway = gw
    }

    /// True when `ip` lies between rangeStart and rangeEnd.
    public func contains(_ ip: IPAddress) -> Bool {
        ip.isIPv6 == rangeStart.isIPv6 && ip >= rangeStart && ip <= rangeEnd
    }

    /// How many addresses the range can hand out (the gateway excluded), saturating.
    public var capacity: UInt128 {
        let n = rangeEnd.value - rangeStart.value
        let total = n == .max ? n : n + 1
        return contains(gateway) ? total - 1 : total
    }
}

/// The IPAM section of a config: range sets (one address is allocated from each), routes, data directory.
public struct IPAMConfig: Sendable, Equatable {
    /// Each inner list is one range set; an attachment gets one address per set (dual stack = two sets).
    public var rangeSets: [[IPRange]]
    public var routes: [CNIResult.Route]
    /// Where the disk store keeps `<network name>/` (host-local's default).
    public var dataDir: String

    public init(rangeSets: [[IPRange]], routes: [CNIResult.Route] = [], dataDir: String = "/var/lib/cni/networks") {
        self.rangeSets = rangeSets; self.routes = routes; self.dataDir = dataDir
    }

    /// Reads `subnet` (+ `rangeStart`/`rangeEnd`/`gateway`) or host-local's `ranges`, `routes`, `dataDir`.
    public init(json ipam: JSONValue) throws(CNIError) {
        guard case .object = ipam else { throw CNIError(.invalidConfig, "ipam must be an object") }
        func addr(_ o: JSONValue, _ key: String) throws(CNIError) -> IPAddress? {
            guard let v = o[key], !v.isNull else { return nil }
            guard let s = v.stringValue, let ip = IPAddress(s) else { throw CNIError(.invalidConfig, "invalid \(key)") }
            return ip
        }
        func range(_ o: JSONValue) throws(CNIError) -> IPRange {
            guard let s = o["subnet"]?.stringValue, let subnet = IPPrefix(s) else {
                throw CNIError(.invalidConfig, "invalid or missing subnet", details: o["subnet"]?.serialized() ?? "")
            }
            return try IPRange(subnet: subnet, rangeStart: addr(o, "rangeStart"), rangeEnd: addr(o, "rangeEnd"), gateway: addr(o, "gateway"))
        }
        var sets: [[IPRange]] = []
        if let list = ipam["ranges"]?.arrayValue {
            for set in list {
                guard let items = set.arrayValue, !items.isEmpty else { throw CNIError(.invalidConfig, "each ranges entry must be a non-empty list") }
                var rs: [IPRange] = []
                for item in items { rs.append(try range(item)) }
                sets.append(rs)
            }
        }
        if ipam["subnet"] != nil { sets.insert([try range(ipam)], at: 0) }
        guard !sets.isEmpty else { throw CNIError(.invalidConfig, "ipam needs subnet or ranges") }
        try Self.validate(sets)
        var routes: [CNIResult.Route] = []
        for r in ipam["routes"]?.arrayValue ?? [] {
            guard let d = r["dst"]?.stringValue, let dst = IPPrefix(d) else { throw CNIError(.invalidConfig, "invalid route dst") }
            routes.append(CNIResult.Route(dst: dst.masked, gw: try addr(r, "gw")))
        }
        var dataDir = "/var/lib/cni/networks"
        if let d = ipam["dataDir"]?.stringValue, !d.isEmpty { dataDir = d }
        self.init(rangeSets: sets, routes: routes, dataDir: dataDir)
    }

    /// Rejects mixed families inside a set and overlapping ranges anywhere.
    static func validate(_ sets: [[IPRange]]) throws(CNIError) {
        let all = sets.flatMap { $0 }
        for set in sets where Set(set.map(\.subnet.address.isIPv6)).count > 1 {
            throw CNIError(.invalidConfig, "a range set mixes IPv4 and IPv6")
        }
        for i in all.indices {
            for j in all.indices where j > i {
                let a = all[i], b = all[j]
                if a.rangeStart.isIPv6 == b.rangeStart.isIPv6, a.rangeStart <= b.rangeEnd, b.rangeStart <= a.rangeEnd {
                    throw CNIError(.invalidConfig, "ranges \(a.rangeStart)-\(a.rangeEnd) and \(b.rangeStart)-\(b.rangeEnd) overlap")
                }
            }
        }
    }
}
