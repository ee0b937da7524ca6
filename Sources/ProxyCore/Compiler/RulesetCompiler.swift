import KubeAPI
import Values

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

/// Compiles services, endpoints and this node into the nftables ruleset.
///
/// The nftables mode's layout is a constant skeleton: base chains, a fixed set of dispatch chains and named
/// sets and maps, whose elements carry everything per Service and per endpoint. A Service port of the common
/// shape (no session affinity, Cluster external policy, at most `elementLimit` endpoints per policy) adds
/// only elements: its address tuples to `lb-N` (N its endpoint count), its endpoints to `service-endpoints`
/// keyed by address . protocol . port . slot, and the dispatch rule `… @lb-N dnat to … numgen random mod N
/// map @service-endpoints` picks one. So adding, changing and removing such Services are element-only
/// batches, which the kernel commits without re-validating the table. Shapes that need per-Service logic
/// (ClientIP affinity, externalTrafficPolicy Local, more endpoints, the userspace mode's listeners) keep
/// chains of their own, reached from the `service-ips` / `service-nodeports` verdict maps.
public struct RulesetCompiler: Sendable {
    public var config: ProxyConfig
    public var node: NodeInfo
    /// Userspace mode: the local listener ports Service traffic is handed to by tproxy (instead of DNAT to
    /// endpoints). Nil: nftables mode.
    public var listeners: ListenerPorts?

    public init(config: ProxyConfig, node: NodeInfo, listeners: ListenerPorts? = nil) {
        self.config = config; self.node = node; self.listeners = listeners
    }

    /// Endpoint counts up to this are balanced by elements; more, by a chain of the Service's own.
    public static let elementLimit = 32

    /// One table per configured family.
    public func compile(_ state: ProxyState) -> NFTRuleset {
        compile(state, previous: nil).ruleset
    }

    /// Compiles `state`, reusing the fragments of `previous` whose inputs are unchanged. `changed` names the
    /// Service ports whose inputs may differ from `previous` (a syncer knows them from its events); nil checks
    /// every Service port. The result records which fragments changed and what they replaced, so
    /// `RulesetDiff.partialSync` needs nothing else. `previous` is consumed: a caller that gives up its copy
    /// lets the compile update the fragments in place, in time proportional to what changed.
    public func compile(_ state: ProxyState, previous: consuming CompiledRuleset?, changed: Set<ServicePortName>? = nil) -> CompiledRuleset {
        // The skeleton depends only on the configuration, the node and the mode: reused when those are the same.
        let same = previous.map { $0.compiled(config: config, node: node) && $0.userspace == (listeners != nil) } ?? false
        let skeletons = same ? previous?.skeletons ?? [] : config.families.map(skeleton)
        let sharedNames = Dictionary(skeletons.map { ($0.family, Set($0.sets.map(\.name))) }, uniquingKeysWith: { a, _ in a })
        let generation = (previous?.generation ?? 0) &+ 1

        /// The entry for `service`, or nil when `old` has exactly these inputs.
        func build(_ key: CompiledRuleset.Key, _ service: ServicePortInfo, old: CompiledRuleset.Entry?) -> CompiledRuleset.Entry? {
            let endpoints = state.endpoints[key.name] ?? []
            let ports = listenerPorts(key.name, key.family)
            if let old, old.service == service, old.endpoints == endpoints, old.ports == ports { return nil }
            var b = TableBuilder(fragmentOf: key.family, shared: sharedNames[key.family] ?? [])
            let slots = addService(service, endpoints: endpoints, previous: old?.fragment, to: &b)
            var fragment = b.fragment()
            fragment.clusterSlots = slots.cluster
            fragment.localSlots = slots.local
            return CompiledRuleset.Entry(service: service, endpoints: endpoints, ports: ports, fragment: fragment)
        }

        var fresh = CompiledRuleset(config: config, node: node, userspace: listeners != nil, skeletons: skeletons,
                                    entries: [:], sharedCounts: [:], changed: nil)
        fresh.generation = generation
        if var result = consume previous, result.sameSkeleton(as: fresh) {
            result.base = result.generation
            result.generation = generation
            result.beginDelta()
            if let changed {
                // Only the named Service ports: everything else stays as it was, untouched.
                for name in changed {
                    for family in config.families {
                        let key = CompiledRuleset.Key(family: family, name: name)
                        let old = result.entries[key]
                        guard let service = state.services[name] else {
                            if old != nil { result.replace(key, with: nil) }
                            continue
                        }
                        if let new = build(key, service, old: old) { result.replace(key, with: new) }
                    }
                }
                return result
            }
            // Every Service port checked against its previous inputs.
            for key in result.entries.keys where state.services[key.name] == nil { result.replace(key, with: nil) }
            for (name, service) in state.services {
                for family in config.families {
                    let key = CompiledRuleset.Key(family: family, name: name)
                    if let new = build(key, service, old: result.entries[key]) { result.replace(key, with: new) }
                }
            }
            return result
        }
        for (name, service) in state.services {
            for family in config.families {
                let key = CompiledRuleset.Key(family: family, name: name)
                if let entry = build(key, service, old: nil) { fresh.replace(key, with: entry) }
            }
        }
        fresh.changed = nil
        return fresh
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

    /// The table of one family without any Service: base chains, shared chains and shared sets/maps.
    func skeleton(_ family: NFTFamily) -> NFTTable {
        var b = TableBuilder(family: family)
        if listeners != nil {
            addUserspaceBaseChains(&b)
        } else {
            addNATBaseChains(&b)
        }
        addSharedChainsAndSets(&b)
        return b.table(name: config.tableName, comment: "rules for kproxy")
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

    /// nftables mode's dispatch: Services with chains of their own through the verdict maps, the rest by
    /// elements — masquerade marks by set membership, then one rule per endpoint count N doing
    /// `dnat to KEY . numgen random mod N map @…-endpoints` for the keys in `lb-N`.
    private func addBalancingChains(_ b: inout TableBuilder, nodePortEntry: [NFTExpression]) {
        let tuple: [NFTField] = [.daddr, .l4proto, .dport]
        let nodePortKey: [NFTField] = [.l4proto, .dport]
        let mark = NFTExpression.setMark(.or(config.masqueradeMark))
        var services = [NFTRule([.vmap(tuple, map: NFTNames.serviceIPs)])]
        let localCIDRs = config.clusterCIDRs.filter { $0.family == b.family.ipFamily }
        if config.masqueradeAll {
            services.append(NFTRule([.lookup([.daddr], set: NFTNames.clusterIPs), mark], comment: "masquerade all ClusterIP traffic"))
        } else if !localCIDRs.isEmpty {
            let notLocal = localCIDRs.map { NFTExpression.match(.saddr, .prefix($0), negated: true) }
            services.append(NFTRule([.lookup([.daddr], set: NFTNames.clusterIPs)] + notLocal + [mark],
                                    comment: "masquerade off-cluster ClusterIP traffic"))
        }
        services.append(NFTRule([.lookup(tuple, set: NFTNames.masqueradeServices), mark], comment: "masquerade external traffic"))
        for n in 1...Self.elementLimit {
            services.append(NFTRule([.lookup(tuple, set: NFTNames.balancedServices(n)),
                                     .dnatMap(tuple, modulus: n, map: NFTNames.serviceEndpoints)]))
        }
        services.append(NFTRule(nodePortEntry + [.verdict(.goto(NFTNames.nodePorts))]))
        b.chain(NFTNames.services, comment: "service dispatch", rules: services)

        var nodePorts = [NFTRule([.vmap(nodePortKey, map: NFTNames.serviceNodePorts)]),
                         NFTRule([.lookup(nodePortKey, set: NFTNames.masqueradeNodePorts), mark], comment: "masquerade external traffic")]
        for n in 1...Self.elementLimit {
            nodePorts.append(NFTRule([.lookup(nodePortKey, set: NFTNames.balancedNodePorts(n)),
                                      .dnatMap(nodePortKey, modulus: n, map: NFTNames.nodePortEndpoints)]))
        }
        b.chain(NFTNames.nodePorts, comment: "nodeport dispatch", rules: nodePorts)
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
        let addr = f.addressType
        let tuple: [NFTField] = [.daddr, .l4proto, .dport]
        let nodePortKey: [NFTField] = [.l4proto, .dport]
        let noLocalhost: NFTExpression = f == .ip
            ? CIDR("127.0.0.0/8").map { .match(.daddr, .prefix($0), negated: true) } ?? .match(.daddr, .address(IPAddress(ipv4: 0x7f00_0001)), negated: true)
            : .match(.daddr, .address(IPAddress(ipv6High: 0, low: 1)), negated: true)
        let matchAll = nodePortsMatchAll(f)
        let nodePortDaddr: [NFTExpression] = matchAll ? [noLocalhost] : [.lookup([.daddr], set: NFTNames.nodePortIPs)]
        let reject = NFTExpression.reject(.portUnreachable)

        b.chain(NFTNames.serviceEndpointsCheck, comment: "services with no usable endpoints", rules: [
            NFTRule([.lookup(tuple, set: NFTNames.noEndpointServices), reject]),
            NFTRule([.lookup(tuple, set: NFTNames.noLocalEndpointServices), .verdict(.drop)]),
        ])
        b.chain(NFTNames.nodePortEndpointsCheck, comment: "node ports with no usable endpoints", rules: [
            NFTRule(nodePortDaddr + [.lookup(nodePortKey, set: NFTNames.noEndpointNodePorts), reject]),
            NFTRule(nodePortDaddr + [.lookup(nodePortKey, set: NFTNames.noLocalEndpointNodePorts), .verdict(.drop)]),
        ])
        b.chain(NFTNames.firewallCheck, comment: "loadBalancerSourceRanges",
                rules: [NFTRule([.vmap(tuple, map: NFTNames.firewallIPs)])])
        let nodePortEntry = (matchAll ? [NFTExpression.fibLocal(.daddr)] : []) + nodePortDaddr
        if listeners != nil {
            b.chain(NFTNames.services, comment: "service dispatch", rules: [
                NFTRule([.vmap(tuple, map: NFTNames.serviceIPs)]),
                NFTRule(nodePortEntry + [.vmap(nodePortKey, map: NFTNames.serviceNodePorts)]),
            ])
        } else {
            addBalancingChains(&b, nodePortEntry: nodePortEntry)
        }

        let tupleType: [NFTDataType] = [addr, .inetProto, .inetService]
        b.set(NFTSet(name: NFTNames.clusterIPs, keyType: [addr], comment: "Active ClusterIPs"))
        b.set(NFTSet(name: NFTNames.serviceIPs, keyType: tupleType, dataType: .verdict,
                     comment: "ClusterIP, ExternalIP and LoadBalancer IP traffic"))
        b.set(NFTSet(name: NFTNames.serviceNodePorts, keyType: [.inetProto, .inetService], dataType: .verdict,
                     comment: "NodePort traffic"))
        b.set(NFTSet(name: NFTNames.noEndpointServices, keyType: tupleType, comment: "services with no endpoints: rejected"))
        b.set(NFTSet(name: NFTNames.noEndpointNodePorts, keyType: [.inetProto, .inetService],
                     comment: "service nodeports with no endpoints: rejected"))
        b.set(NFTSet(name: NFTNames.noLocalEndpointServices, keyType: tupleType,
                     comment: "services whose traffic policy leaves no endpoint on this node: dropped"))
        b.set(NFTSet(name: NFTNames.noLocalEndpointNodePorts, keyType: [.inetProto, .inetService],
                     comment: "service nodeports whose traffic policy leaves no endpoint on this node: dropped"))
        b.set(NFTSet(name: NFTNames.firewallIPs, keyType: tupleType, dataType: .verdict,
                     comment: "destinations that are subject to LoadBalancerSourceRanges"))
        if listeners == nil {
            b.set(NFTSet(name: NFTNames.hairpinEndpoints, keyType: [addr, addr],
                         comment: "endpoint . endpoint of this node's endpoints: pods reaching themselves through a Service"))
            b.set(NFTSet(name: NFTNames.serviceEndpoints, keyType: tupleType + [.integer], dataTypes: [addr, .inetService],
                         comment: "address . protocol . port . slot: the endpoint in that numgen slot"))
            b.set(NFTSet(name: NFTNames.nodePortEndpoints, keyType: [.inetProto, .inetService, .integer], dataTypes: [addr, .inetService],
                         comment: "protocol . nodeport . slot: the endpoint in that numgen slot"))
            b.set(NFTSet(name: NFTNames.masqueradeServices, keyType: tupleType, comment: "external addresses to masquerade"))
            b.set(NFTSet(name: NFTNames.masqueradeNodePorts, keyType: [.inetProto, .inetService], comment: "nodeports to masquerade"))
            for n in 1...Self.elementLimit {
                b.set(NFTSet(name: NFTNames.balancedServices(n), keyType: tupleType, comment: "service addresses with \(n) endpoints"))
                b.set(NFTSet(name: NFTNames.balancedNodePorts(n), keyType: [.inetProto, .inetService], comment: "nodeports with \(n) endpoints"))
            }
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
