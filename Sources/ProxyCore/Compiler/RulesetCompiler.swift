import KubeAPI

/// Settings of the compiled ruleset (`kproxy proxy` flags).
public struct ProxyConfig: Hashable, Sendable {
    public var tableName: String
    /// Families to write a table for.
    public var families: [NFTFamily]
    /// Pod network (`--cluster-cidr`): traffic from outside it to a ClusterIP is masqueraded. Empty: unknown.
    public var clusterCIDRs: [CIDR]
    /// Service CIDRs: packets to unallocated addresses in them are dropped. Empty: no such rule.
    public var serviceCIDRs: [CIDR]
    /// `--masquerade-all`: masquerade all ClusterIP traffic.
    public var masqueradeAll: Bool
    /// The packet mark bit meaning "masquerade this".
    public var masqueradeMark: UInt32
    /// `--nodeport-addresses`: NodePorts answer only on local addresses in these; empty means every local address.
    public var nodePortAddresses: [CIDR]
    /// Userspace mode: the packet mark bit of Service traffic steered to a listener; kproxy's policy route
    /// delivers packets carrying it to this host (`UserspaceSteering`).
    public var userspaceMark: UInt32

    public init(tableName: String = NFTNames.defaultTable, families: [NFTFamily] = [.ip, .ip6], clusterCIDRs: [CIDR] = [],
                serviceCIDRs: [CIDR] = [], masqueradeAll: Bool = false, masqueradeMark: UInt32 = 0x4000,
                nodePortAddresses: [CIDR] = [], userspaceMark: UInt32 = UserspaceSteering.defaultMark) {
        self.tableName = tableName; self.families = families; self.clusterCIDRs = clusterCIDRs
        self.serviceCIDRs = serviceCIDRs; self.masqueradeAll = masqueradeAll; self.masqueradeMark = masqueradeMark
        self.nodePortAddresses = nodePortAddresses; self.userspaceMark = userspaceMark
    }
}

/// Compiles services, endpoints and this node into the nftables ruleset, as upstream kube-proxy's nftables mode
/// lays it out: hook chains jumping to shared check chains, verdict maps keyed by address . protocol . port,
/// one chain per service port and per endpoint.
public struct RulesetCompiler: Sendable {
    public var config: ProxyConfig
    public var node: NodeInfo
    /// Fragments of earlier compiles to reuse (a syncer keeps one across syncs); nil compiles everything.
    public var cache: CompileCache?
    /// Userspace mode: the local listener ports Service traffic is handed to by tproxy (instead of DNAT to
    /// endpoints). Nil: nftables mode.
    public var listeners: ListenerPorts?

    public init(config: ProxyConfig, node: NodeInfo, cache: CompileCache? = nil, listeners: ListenerPorts? = nil) {
        self.config = config; self.node = node; self.cache = cache; self.listeners = listeners
    }

    /// One table per configured family.
    public func compile(_ state: ProxyState) -> NFTRuleset {
        cache?.begin(config: config, node: node)
        defer { cache?.end() }
        return NFTRuleset(tables: config.families.map { compileTable(state, family: $0) })
    }

    /// The table of one family (called between the cache's `begin` and `end`).
    func compileTable(_ state: ProxyState, family: NFTFamily) -> NFTTable {
        var b = TableBuilder(family: family)
        addSkeleton(&b)
        let sharedSets = b.currentSets
        let sharedNames = Set(sharedSets.map(\.name))
        for name in state.services.keys.sorted() {
            guard let service = state.services[name] else { continue }
            let endpoints = state.endpoints[name] ?? []
            let key = CompileCache.Key(family: family, name: name)
            let ports = listenerPorts(name, family)
            if let cached = cache?.fragment(key, service: service, endpoints: endpoints, ports: ports) {
                b.append(cached)
                continue
            }
            var own = TableBuilder.forFragment(family: family, sharedSets: sharedSets)
            addService(service, endpoints: endpoints, to: &own)
            let fragment = own.fragment(shared: sharedNames)
            cache?.store(key, service: service, endpoints: endpoints, ports: ports, fragment: fragment)
            b.append(fragment)
        }
        return b.table(name: config.tableName, comment: "rules for kproxy")
    }

    /// The listener ports (cluster, local) of a Service port in userspace mode; empty in nftables mode.
    func listenerPorts(_ name: ServicePortName, _ family: NFTFamily) -> [UInt16?] {
        guard let listeners else { return [] }
        return ListenerScope.allCases.map { listeners.port(ListenerKey(name: name, scope: $0, family: family.ipFamily)) }
    }

    /// Whether NodePorts answer on every local address (no `--nodeport-addresses` for this family, or 0/0).
    func nodePortsMatchAll(_ family: NFTFamily) -> Bool {
        let cidrs = config.nodePortAddresses.filter { $0.family == family.ipFamily }
        return cidrs.isEmpty || cidrs.contains { $0.prefixLength == 0 }
    }

    /// The base chains, shared chains and shared sets/maps.
    private func addSkeleton(_ b: inout TableBuilder) {
        if listeners != nil {
            addUserspaceBaseChains(&b)
        } else {
            addNATBaseChains(&b)
        }
        addSharedChainsAndSets(&b)
    }

    /// nftables mode: filter chains gated on new connections, DNAT in the nat chains, masquerading.
    private func addNATBaseChains(_ b: inout TableBuilder) {
        typealias Base = NFTBaseChain
        let filterPriority = Base.dstnatPriority - 10
        let newConn = NFTExpression.ctState([.new])
        func jump(_ c: String, new: Bool = true) -> NFTRule {
            NFTRule(new ? [newConn, .verdict(.jump(c))] : [.verdict(.jump(c))])
        }
        b.chain(NFTNames.filterPrerouting, base: Base(type: .filter, hook: .prerouting, priority: filterPriority),
                rules: [jump(NFTNames.firewallCheck)])
        b.chain(NFTNames.filterInput, base: Base(type: .filter, hook: .input, priority: filterPriority),
                rules: [jump(NFTNames.nodePortEndpointsCheck), jump(NFTNames.serviceEndpointsCheck)])
        b.chain(NFTNames.filterForward, base: Base(type: .filter, hook: .forward, priority: filterPriority),
                rules: [jump(NFTNames.serviceEndpointsCheck), jump(NFTNames.clusterIPsCheck)])
        b.chain(NFTNames.filterOutput, base: Base(type: .filter, hook: .output, priority: filterPriority),
                rules: [jump(NFTNames.serviceEndpointsCheck), jump(NFTNames.firewallCheck)])
        b.chain(NFTNames.filterOutputPostDNAT, base: Base(type: .filter, hook: .output, priority: Base.dstnatPriority + 10),
                rules: [jump(NFTNames.clusterIPsCheck)])
        b.chain(NFTNames.natPrerouting, base: Base(type: .nat, hook: .prerouting, priority: Base.dstnatPriority),
                rules: [jump(NFTNames.services, new: false)])
        b.chain(NFTNames.natOutput, base: Base(type: .nat, hook: .output, priority: Base.dstnatPriority),
                rules: [jump(NFTNames.services, new: false)])
        b.chain(NFTNames.natPostrouting, base: Base(type: .nat, hook: .postrouting, priority: Base.srcnatPriority),
                rules: [jump(NFTNames.masquerading, new: false)])

        let mark = config.masqueradeMark
        b.chain(NFTNames.markForMasquerade, comment: "mark packets to masquerade", rules: [NFTRule([.setMark(.or(mark))])])
        b.chain(NFTNames.masquerading, comment: "masquerade marked packets", rules: [
            // Hairpin: one lookup here instead of a rule in every endpoint chain (a third of the rules).
            NFTRule([.ctStatus([.dnat]), .lookup([.saddr, .daddr], set: NFTNames.hairpinEndpoints),
                     .verdict(.jump(NFTNames.markForMasquerade))], comment: "hairpin"),
            NFTRule([.maskedMatch(.mark, mask: mark, value: 0), .verdict(.return)]),
            NFTRule([.setMark(.xor(mark))]),
            NFTRule([.masquerade(fullyRandom: true)]),
        ])
    }

    /// Userspace mode, without conntrack or NAT: every packet of a Service flow is handed to its listener by
    /// `tproxy` in prerouting and marked, and kproxy's policy route delivers marked packets to this host;
    /// locally sent Service packets are marked in a route chain, re-routed over `lo` and meet the same
    /// prerouting rules. No rule uses `ct`, so the kernel keeps conntrack off for this namespace (unless
    /// something else turns it on), and the filter checks run on every packet rather than on new flows.
    private func addUserspaceBaseChains(_ b: inout TableBuilder) {
        typealias Base = NFTBaseChain
        let filterPriority = Base.dstnatPriority - 10
        let mark = config.userspaceMark
        let steered = NFTExpression.maskedMatch(.mark, mask: mark, value: mark)
        func jump(_ c: String) -> NFTRule { NFTRule([.verdict(.jump(c))]) }
        b.chain(NFTNames.manglePrerouting, base: Base(type: .filter, hook: .prerouting, priority: Base.manglePriority), rules: [
            // A local endpoint answering a connection the balancer made from the client's address: the reply
            // is addressed to the client, so only the mark brings it to the balancer's socket.
            NFTRule([.lookup([.saddr, .l4proto, .sport], set: NFTNames.userspaceLocalEndpoints), .socketTransparent,
                     .setMark(.or(mark)), .verdict(.accept)], comment: "replies to source-preserving connections"),
            jump(NFTNames.firewallCheck), jump(NFTNames.services),
        ])
        b.chain(NFTNames.routeOutput, base: Base(type: .route, hook: .output, priority: Base.manglePriority), rules: [
            NFTRule([.lookup([.daddr, .l4proto, .dport], set: NFTNames.userspaceSteered), .setMark(.or(mark))],
                    comment: "re-route local Service traffic over lo to the listeners"),
        ])
        b.chain(NFTNames.filterInput, base: Base(type: .filter, hook: .input, priority: filterPriority), rules: [
            NFTRule([steered, .verdict(.accept)], comment: "steered to a userspace listener"),
            // A client connecting to a listener directly would skip the policy above (source ranges, traffic policies).
            NFTRule([.lookup([.l4proto, .dport], set: NFTNames.userspaceListeners), .verdict(.drop)],
                    comment: "userspace listeners only through tproxy"),
            jump(NFTNames.nodePortEndpointsCheck), jump(NFTNames.serviceEndpointsCheck),
        ])
        b.chain(NFTNames.filterForward, base: Base(type: .filter, hook: .forward, priority: filterPriority),
                rules: [jump(NFTNames.serviceEndpointsCheck), jump(NFTNames.clusterIPsCheck)])
        b.chain(NFTNames.filterOutput, base: Base(type: .filter, hook: .output, priority: filterPriority), rules: [
            NFTRule([steered, .verdict(.accept)], comment: "steered to a userspace listener"),
            jump(NFTNames.serviceEndpointsCheck), jump(NFTNames.clusterIPsCheck),
        ])
    }

    /// The dispatch and check chains and the sets both modes share.
    private func addSharedChainsAndSets(_ b: inout TableBuilder) {
        let f = b.family

        var clusterIPRules = [NFTRule([.lookup([.daddr], set: NFTNames.clusterIPs), .reject(.portUnreachable)],
                                      comment: "Reject traffic to invalid ports of ClusterIPs")]
        for cidr in config.serviceCIDRs where cidr.family == f.ipFamily {
            clusterIPRules.append(NFTRule([.match(.daddr, .prefix(cidr)), .verdict(.drop)],
                                          comment: "Drop traffic to unallocated ClusterIPs"))
        }
        b.chain(NFTNames.clusterIPsCheck, comment: "ClusterIP traffic that was not DNATed", rules: clusterIPRules)
        b.chain(NFTNames.rejectChain, comment: "helper for @no-endpoint-services / @no-endpoint-nodeports",
                rules: [NFTRule([.reject(.portUnreachable)])])

        let addr = f.addressType
        let tuple: [NFTField] = [.daddr, .l4proto, .dport]
        let noLocalhost: NFTExpression = f == .ip
            ? CIDR("127.0.0.0/8").map { .match(.daddr, .prefix($0), negated: true) } ?? .match(.daddr, .address(IPAddress(ipv4: 0x7f00_0001)), negated: true)
            : .match(.daddr, .address(IPAddress(ipv6High: 0, low: 1)), negated: true)
        let matchAll = nodePortsMatchAll(f)
        let nodePortDaddr: [NFTExpression] = matchAll ? [noLocalhost] : [.lookup([.daddr], set: NFTNames.nodePortIPs)]

        b.chain(NFTNames.serviceEndpointsCheck, comment: "services with no usable endpoints",
                rules: [NFTRule([.vmap(tuple, map: NFTNames.noEndpointServices)])])
        b.chain(NFTNames.nodePortEndpointsCheck, comment: "node ports with no usable endpoints",
                rules: [NFTRule(nodePortDaddr + [.vmap([.l4proto, .dport], map: NFTNames.noEndpointNodePorts)])])
        b.chain(NFTNames.firewallCheck, comment: "loadBalancerSourceRanges",
                rules: [NFTRule([.vmap(tuple, map: NFTNames.firewallIPs)])])
        b.chain(NFTNames.services, comment: "service dispatch", rules: [
            NFTRule([.vmap(tuple, map: NFTNames.serviceIPs)]),
            NFTRule((matchAll ? [.fibLocal(.daddr)] : []) + nodePortDaddr + [.vmap([.l4proto, .dport], map: NFTNames.serviceNodePorts)]),
        ])

        let tupleType: [NFTDataType] = [addr, .inetProto, .inetService]
        b.set(NFTSet(name: NFTNames.clusterIPs, keyType: [addr], comment: "Active ClusterIPs"))
        b.set(NFTSet(name: NFTNames.serviceIPs, keyType: tupleType, dataType: .verdict,
                     comment: "ClusterIP, ExternalIP and LoadBalancer IP traffic"))
        b.set(NFTSet(name: NFTNames.serviceNodePorts, keyType: [.inetProto, .inetService], dataType: .verdict,
                     comment: "NodePort traffic"))
        b.set(NFTSet(name: NFTNames.noEndpointServices, keyType: tupleType, dataType: .verdict,
                     comment: "vmap to drop or reject packets to services with no endpoints"))
        b.set(NFTSet(name: NFTNames.noEndpointNodePorts, keyType: [.inetProto, .inetService], dataType: .verdict,
                     comment: "vmap to drop or reject packets to service nodeports with no endpoints"))
        b.set(NFTSet(name: NFTNames.firewallIPs, keyType: tupleType, dataType: .verdict,
                     comment: "destinations that are subject to LoadBalancerSourceRanges"))
        if listeners == nil {
            b.set(NFTSet(name: NFTNames.hairpinEndpoints, keyType: [addr, addr],
                         comment: "endpoint . endpoint: pods reaching themselves through a Service"))
        } else {
            b.set(NFTSet(name: NFTNames.userspaceListeners, keyType: [.inetProto, .inetService], comment: "userspace listener ports"))
            b.set(NFTSet(name: NFTNames.userspaceSteered, keyType: tupleType, comment: "Service addresses with a userspace listener"))
            b.set(NFTSet(name: NFTNames.userspaceLocalEndpoints, keyType: tupleType,
                         comment: "local endpoints of local listeners (connected to from the client's address)"))
        }
        if !matchAll {
            b.set(NFTSet(name: NFTNames.nodePortIPs, keyType: [addr], comment: "IPs that accept NodePort traffic"))
            let cidrs = config.nodePortAddresses.filter { $0.family == f.ipFamily }
            for ip in node.addresses where ip.family == f.ipFamily && !ip.isLoopback && cidrs.contains(where: { $0.contains(ip) }) {
                b.element(NFTNames.nodePortIPs, NFTElement(key: [.address(ip)]))
            }
        }
    }
}
