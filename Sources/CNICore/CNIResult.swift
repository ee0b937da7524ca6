import Values

/// A plugin's success result, held in the 1.1.0 shape and written in whatever version the caller asked for.
public struct CNIResult: Sendable, Equatable {
    /// An interface the plugin created or configured.
    public struct Interface: Sendable, Equatable {
        public var name: String
        public var mac: String
        /// MTU (1.1.0 and later).
        public var mtu: Int?
        /// The netns path for container-side interfaces; empty for host-side ones.
        public var sandbox: String
        public init(name: String, mac: String = "", mtu: Int? = nil, sandbox: String = "") {
            self.name = name; self.mac = mac; self.mtu = mtu; self.sandbox = sandbox
        }
    }

    /// An address assigned to an interface (`interface` indexes `interfaces`).
    public struct IPConfig: Sendable, Equatable {
        public var address: IPPrefix
        public var gateway: IPAddress?
        public var interface: Int?
        public init(address: IPPrefix, gateway: IPAddress? = nil, interface: Int? = nil) {
            self.address = address; self.gateway = gateway; self.interface = interface
        }
    }

    /// A route to add in the container.
    public struct Route: Sendable, Equatable {
        public var dst: IPPrefix
        public var gw: IPAddress?
        /// 1.1.0 extensions, dropped when writing older versions.
        public var mtu: Int?, advmss: Int?, priority: Int?, table: Int?, scope: Int?
        public init(dst: IPPrefix, gw: IPAddress? = nil, mtu: Int? = nil, advmss: Int? = nil, priority: Int? = nil,
                    table: Int? = nil, scope: Int? = nil) {
            self.dst = dst; self.gw = gw; self.mtu = mtu; self.advmss = advmss
            self.priority = priority; self.table = table; self.scope = scope
        }
    }

    /// Resolver settings for the container.
    public struct DNS: Sendable, Equatable {
        public var nameservers: [String], domain: String, search: [String], options: [String]
        public init(nameservers: [String] = [], domain: String = "", search: [String] = [], options: [String] = []) {
            self.nameservers = nameservers; self.domain = domain; self.search = search; self.options = options
        }
        public var isEmpty: Bool { nameservers.isEmpty && domain.isEmpty && search.isEmpty && options.isEmpty }
    }

    public var interfaces: [Interface]
    public var ips: [IPConfig]
    public var routes: [Route]
    public var dns: DNS

    public init(interfaces: [Interface] = [], ips: [IPConfig] = [], routes: [Route] = [], dns: DNS = DNS()) {
        self.interfaces = interfaces; self.ips = ips; self.routes = routes; self.dns = dns
    }
}

extension CNIResult {
    /// Reads a result (or `prevResult`) of any supported version; `version` on IPs is accepted and ignored.
    public init(json: JSONValue) throws(CNIError) {
        guard case .object = json else { throw CNIError(.decodeFailure, "result is not a JSON object") }
        func bad(_ what: String) -> CNIError { CNIError(.decodeFailure, "invalid result: \(what)") }
        var r = CNIResult()
        for i in json["interfaces"]?.arrayValue ?? [] {
            guard let name = i["name"]?.stringValue else { throw bad("interface without name") }
            r.interfaces.append(Interface(name: name, mac: i["mac"]?.stringValue ?? "", mtu: i["mtu"]?.intValue.map(Int.init),
                                          sandbox: i["sandbox"]?.stringValue ?? ""))
        }
        for ip in json["ips"]?.arrayValue ?? [] {
            guard let a = ip["address"]?.stringValue, let address = IPPrefix(a) else { throw bad("ip address") }
            var gw: IPAddress?
            if let g = ip["gateway"]?.stringValue, !g.isEmpty {
                guard let p = IPAddress(g) else { throw bad("gateway \(g)") }
                gw = p
            }
            r.ips.append(IPConfig(address: address, gateway: gw, interface: ip["interface"]?.intValue.map(Int.init)))
        }
        for rt in json["routes"]?.arrayValue ?? [] {
            guard let d = rt["dst"]?.stringValue, let dst = IPPrefix(d) else { throw bad("route dst") }
            var gw: IPAddress?
            if let g = rt["gw"]?.stringValue, !g.isEmpty {
                guard let p = IPAddress(g) else { throw bad("route gw \(g)") }
                gw = p
            }
            r.routes.append(Route(dst: dst, gw: gw, mtu: rt["mtu"]?.intValue.map(Int.init), advmss: rt["advmss"]?.intValue.map(Int.init),
                                  priority: rt["priority"]?.intValue.map(Int.init), table: rt["table"]?.intValue.map(Int.init), scope: rt["scope"]?.intValue.map(Int.init)))
        }
        if let d = json["dns"] {
            let strings: (String) -> [String] = { d[$0]?.arrayValue?.compactMap(\.stringValue) ?? [] }
            r.dns = DNS(nameservers: strings("nameservers"), domain: d["domain"]?.stringValue ?? "",
                        search: strings("search"), options: strings("options"))
        }
        self = r
    }

    /// The result in the shape of `version`: 0.x adds `"version"` to IPs; fields newer than `version` are dropped.
    public func json(version: CNIVersion) -> JSONValue {
        let v11 = version >= CNIVersion(1, 1, 0)
        var o: [String: JSONValue] = ["cniVersion": .string(version.description)]
        if !interfaces.isEmpty {
            o["interfaces"] = .array(interfaces.map { i in
                var m: [String: JSONValue] = ["name": .string(i.name)]
                if !i.mac.isEmpty { m["mac"] = .string(i.mac) }
                if v11, let mtu = i.mtu { m["mtu"] = .int(Int64(mtu)) }
                if !i.sandbox.isEmpty { m["sandbox"] = .string(i.sandbox) }
                return .object(m)
            })
        }
        if !ips.isEmpty {
            o["ips"] = .array(ips.map { ip in
                var m: [String: JSONValue] = ["address": .string(ip.address.description)]
                if let g = ip.gateway { m["gateway"] = .string(g.description) }
                if let n = ip.interface { m["interface"] = .int(Int64(n)) }
                if version.resultHasIPVersion { m["version"] = .string(ip.address.address.isIPv6 ? "6" : "4") }
                return .object(m)
            })
        }
        if !routes.isEmpty {
            o["routes"] = .array(routes.map { r in
                var m: [String: JSONValue] = ["dst": .string(r.dst.description)]
                if let g = r.gw { m["gw"] = .string(g.description) }
                if v11 {
                    for (k, v) in [("mtu", r.mtu), ("advmss", r.advmss), ("priority", r.priority), ("table", r.table), ("scope", r.scope)] {
                        if let v { m[k] = .int(Int64(v)) }
                    }
                }
                return .object(m)
            })
        }
        if !dns.isEmpty {
            var m: [String: JSONValue] = [:]
            if !dns.nameservers.isEmpty { m["nameservers"] = .array(dns.nameservers.map { .string($0) }) }
            if !dns.domain.isEmpty { m["domain"] = .string(dns.domain) }
            if !dns.search.isEmpty { m["search"] = .array(dns.search.map { .string($0) }) }
            if !dns.options.isEmpty { m["options"] = .array(dns.options.map { .string($0) }) }
            o["dns"] = .object(m)
        }
        return .object(o)
    }

    /// Converts a result JSON written in one version to another (through the 1.1.0 model).
    public static func convert(_ json: JSONValue, to version: CNIVersion) throws(CNIError) -> JSONValue {
        try CNIResult(json: json).json(version: version)
    }
}
