import KubeAPI
import Values

extension ServiceIndex {
    /// The version of the Kubernetes DNS specification served at `dns-version.<zone>`.
    public static let specVersion = "1.1.0"

    /// Builds the snapshot from the informers' objects. Pure: the serial is passed in.
    public static func build(options: ZoneOptions, services: some Sequence<Service>, slices: some Sequence<EndpointSlice>,
                             pods: some Sequence<Pod> = [Pod](), serial: UInt32 = 1, synced: Bool = true) -> ServiceIndex {
        var b = Builder(options: options)
        var slicesByService: [String: [EndpointSlice]] = [:]
        for slice in slices {
            guard let svc = slice.metadata.labels?[EndpointSlice.serviceNameLabel], let ns = slice.metadata.namespace else { continue }
            slicesByService["\(ns)/\(svc)", default: []].append(slice)
        }
        b.addApex()
        for service in services {
            guard let name = service.metadata.name, let ns = service.metadata.namespace else { continue }
            b.add(service, name: name, namespace: ns, slices: slicesByService["\(ns)/\(name)"] ?? [])
        }
        var podIPs: [String: Set<IPAddress>] = [:]
        if options.pods == .verified {
            for pod in pods {
                guard let ns = pod.metadata.namespace else { continue }
                let ips = (pod.status.podIPs?.map(\.ip) ?? []) + [pod.status.podIP].compactMap { $0 }
                for ip in ips.compactMap({ IPAddress($0) }) { podIPs[ns, default: []].insert(ip) }
            }
        }
        return ServiceIndex(options: options, synced: synced, serial: serial, nodes: b.nodes, clusterServices: b.clusterServices,
                            reverse: b.reverse, podIPs: podIPs)
    }

    /// `10-244-1-5` for 10.244.1.5, `fd00--5` for fd00::5 (the dashed form CoreDNS uses).
    public static func dashed(_ ip: IPAddress) -> String {
        ip.description.map { $0 == "." || $0 == ":" ? "-" : $0 }.reduce(into: "") { $0.append($1) }
    }

    /// Accumulates nodes; names that are not valid DNS names are skipped.
    struct Builder {
        let options: ZoneOptions
        let zoneKey: String
        var nodes: [String: ZoneNode] = [:]
        var clusterServices: [String: ServiceIndex.ClusterService] = [:]
        var reverse: [IPAddress: [String]] = [:]

        init(options: ZoneOptions) {
            self.options = options
            zoneKey = options.zone.key
        }

        func key(_ relative: String) -> String { zoneKey.isEmpty ? relative : "\(relative).\(zoneKey)" }

        /// Makes sure `key` and its ancestors down to the zone exist (empty non-terminals).
        mutating func touch(_ key: String) {
            guard key == zoneKey || key.hasSuffix("." + zoneKey) || zoneKey.isEmpty else {
                if nodes[key] == nil { nodes[key] = ZoneNode() }  // reverse names: no ancestors outside the zone
                return
            }
            var k = Substring(key)
            while k.count > zoneKey.count {
                if nodes[String(k)] == nil { nodes[String(k)] = ZoneNode() } else if k != key { return }
                guard let dot = k.firstIndex(of: ".") else { return }
                k = k[k.index(after: dot)...]
            }
        }

        mutating func update(_ key: String, _ change: (inout ZoneNode) -> Void) {
            touch(key)
            change(&nodes[key, default: ZoneNode()])
        }

        mutating func addApex() {
            nodes[zoneKey] = ZoneNode()
            update(key("dns-version")) { $0.txt = [Array(ServiceIndex.specVersion.utf8)] }
            touch(key("svc"))
            touch(key("pod"))
            let nameservers = options.nameserverAddresses
            if !nameservers.isEmpty {
                update(key("ns.dns")) { node in
                    for ip in nameservers { ip.isIPv4 ? node.a.append(ip) : node.aaaa.append(ip) }
                }
            }
        }

        mutating func add(_ service: Service, name: String, namespace: String, slices: [EndpointSlice]) {
            let serviceKey = key("\(name).\(namespace).svc")
            touch(key("\(namespace).svc"))
            guard DNSName(serviceKey) != nil else { return }
            if service.type == .externalName {
                if let target = service.spec.externalName.flatMap({ DNSName($0) }) {
                    update(serviceKey) { $0.cname = target }
                }
                return
            }
            if service.isHeadless {
                addHeadless(service, serviceKey: serviceKey, slices: slices)
                return
            }
            let ips = service.allocatedClusterIPs.compactMap { IPAddress($0) }
            guard !ips.isEmpty else { return }
            // Compact: ServiceIndex.node(_:) makes the service's names from this record on lookup.
            let ports = (service.spec.ports ?? []).map { port in
                ServiceIndex.ClusterService.Port(name: port.name.map { $0.lowercased() }, proto: (port.protocol ?? .tcp).rawValue.lowercased(),
                                                 port: UInt16(truncatingIfNeeded: port.port))
            }
            clusterServices[serviceKey] = ServiceIndex.ClusterService(ips: ips, ports: ports)
            for ip in ips { reverse[ip, default: []].append(serviceKey) }
        }

        struct EndpointEntry {
            var name: DNSName
            var ip: IPAddress
            var ports: [EndpointPort]
        }

        mutating func addHeadless(_ service: Service, serviceKey: String, slices: [EndpointSlice]) {
            let publishNotReady = service.spec.publishNotReadyAddresses ?? false
            var entries: [EndpointEntry] = []
            for slice in slices where slice.addressType == .ipv4 || slice.addressType == .ipv6 {
                for endpoint in slice.endpoints where publishNotReady || endpoint.conditions.isReady {
                    for ip in endpoint.addresses.compactMap({ IPAddress($0) }) {
                        let label = endpointLabel(endpoint, ip: ip)
                        guard let name = DNSName("\(label).\(serviceKey)") else { continue }
                        entries.append(EndpointEntry(name: name, ip: ip, ports: slice.ports ?? []))
                    }
                }
            }
            guard !entries.isEmpty else { return }  // no ready endpoint: the name does not exist
            // SRV records: one per endpoint × port, deduplicated, with the weight spread over all of them.
            var byPort: [String: [SRVData]] = [:]
            var all: [SRVData] = []
            let totalPairs = entries.reduce(0) { $0 + $1.ports.count(where: { $0.port != nil }) }
            let weight = UInt16(100 / max(1, totalPairs))
            for entry in entries {
                for port in entry.ports {
                    guard let number = port.port else { continue }
                    let srv = SRVData(priority: 0, weight: weight, port: UInt16(truncatingIfNeeded: number), target: entry.name)
                    if !all.contains(srv) { all.append(srv) }
                    if let portName = port.name, !portName.isEmpty {
                        let proto = (port.protocol ?? .tcp).rawValue.lowercased()
                        let k = "_\(portName.lowercased())._\(proto).\(serviceKey)"
                        if byPort[k]?.contains(srv) != true { byPort[k, default: []].append(srv) }
                    }
                }
            }
            update(serviceKey) { node in
                for e in entries where !(e.ip.isIPv4 ? node.a : node.aaaa).contains(e.ip) {
                    e.ip.isIPv4 ? node.a.append(e.ip) : node.aaaa.append(e.ip)
                }
                node.srv = all
            }
            for (k, records) in byPort { update(k) { $0.srv = records } }
            for e in entries {
                update(e.name.key) { node in
                    if !(e.ip.isIPv4 ? node.a : node.aaaa).contains(e.ip) { e.ip.isIPv4 ? node.a.append(e.ip) : node.aaaa.append(e.ip) }
                }
                update(e.ip.reverseDNSName) { node in if !node.ptr.contains(e.name) { node.ptr.append(e.name) } }
            }
        }

        /// The endpoint's own label: its hostname, else (with `endpointPodNames`) its pod's name, else its dashed IP.
        func endpointLabel(_ endpoint: Endpoint, ip: IPAddress) -> String {
            if let h = endpoint.hostname, !h.isEmpty { return h.lowercased() }
            if options.endpointPodNames, let ref = endpoint.targetRef, ref.kind == "Pod", let pod = ref.name, !pod.isEmpty,
               pod.utf8.count <= DNSName.maxLabelLength, !pod.contains(".") {
                return pod.lowercased()
            }
            return ServiceIndex.dashed(ip)
        }
    }
}
