import KubeAPI
import Values

extension RulesetCompiler {
    /// Adds the map elements (and, for shapes that need them, the chains) of one Service port; nothing when it
    /// has no cluster IP of this family. Returns the endpoints in their slot order, which the next compile of
    /// this Service port gets back as `previous`.
    func addService(_ svc: ServicePortInfo, endpoints allEndpoints: [EndpointInfo], previous: ServiceFragment?,
                    to b: inout TableBuilder) -> (cluster: [EndpointInfo], local: [EndpointInfo]) {
        let f = b.family
        guard let clusterIP = svc.clusterIPs.first(where: { $0.family == f.ipFamily }) else { return ([], []) }
        let name = svc.name
        let comment = name.description
        let proto = NFTValue.l4proto(name.protocol)
        let port = NFTValue.port(svc.port)
        let inFamily: (IPAddress) -> Bool = { $0.family == f.ipFamily }
        let externalIPs = svc.externalIPs.filter(inFamily)
        let lbIPs = svc.loadBalancerIPs.filter(inFamily)
        let localCIDRs = config.clusterCIDRs.filter { $0.family == f.ipFamily }

        var sel = EndpointSelection(endpoints: allEndpoints.filter { inFamily($0.address) }, service: svc, nodeName: node.name)
        // Userspace mode: chains hand packets to the listeners; a listener without a port (range exhausted) has
        // nowhere to send traffic, so the Service is compiled as one without endpoints (rejected).
        let ports = listenerPorts(name, f)
        let userspace = listeners != nil
        let clusterPort = ports.first ?? nil, localPort = ports.last ?? nil
        if userspace && ((!sel.cluster.isEmpty && svc.usesClusterEndpoints && clusterPort == nil)
                         || (!sel.local.isEmpty && svc.usesLocalEndpoints && localPort == nil)) {
            sel = EndpointSelection(endpoints: [], service: svc, nodeName: node.name)
        }
        if !userspace && svc.affinityTimeoutSeconds == nil && !svc.externalPolicyLocal
            && sel.cluster.count <= Self.elementLimit && sel.local.count <= Self.elementLimit {
            let cluster = EndpointSlots.assign(previous: previous?.clusterSlots ?? [], current: sel.cluster)
            let local = EndpointSlots.assign(previous: previous?.localSlots ?? [], current: sel.local)
            addBalancedElements(svc, clusterIP: clusterIP, sel: sel, cluster: cluster, local: local, to: &b)
            return (cluster, local)
        }
        let clusterChain = NFTNames.serviceChain(name)
        let localChain = NFTNames.localChain(name)
        let externalChain = NFTNames.externalChain(name)
        let usesClusterChain = !sel.cluster.isEmpty && svc.usesClusterEndpoints
        let usesLocalChain = !sel.local.isEmpty && svc.usesLocalEndpoints

        let internalChain = svc.internalPolicyLocal ? localChain : clusterChain
        let hasInternal = svc.internalPolicyLocal ? !sel.local.isEmpty : sel.hasAny
        let externalPolicyChain = svc.externalPolicyLocal ? localChain : clusterChain
        let hasExternal = svc.externalPolicyLocal ? !sel.local.isEmpty : sel.hasAny
        let usesExternalChain = sel.hasAny && svc.isExternallyAccessible

        let internalFilter = NoEndpointFilter(hasAny: sel.hasAny, hasUsable: hasInternal)
        let externalFilter = NoEndpointFilter(hasAny: sel.hasAny, hasUsable: hasExternal)

        // Map elements.
        b.element(NFTNames.clusterIPs, NFTElement(key: [.address(clusterIP)], comment: name.serviceKey))
        let cipKey: [NFTValue] = [.address(clusterIP), proto, port]
        if let internalFilter {
            b.element(internalFilter.servicesSet, NFTElement(key: cipKey, comment: comment))
        } else {
            b.element(NFTNames.serviceIPs, NFTElement(key: cipKey, data: .verdict(.goto(internalChain)), comment: comment))
            if userspace { b.element(NFTNames.userspaceSteered, NFTElement(key: cipKey, comment: comment)) }
        }
        for ip in externalIPs + lbIPs {
            let key: [NFTValue] = [.address(ip), proto, port]
            if sel.hasAny {
                b.element(NFTNames.serviceIPs, NFTElement(key: key, data: .verdict(.goto(externalChain)), comment: comment))
                if userspace { b.element(NFTNames.userspaceSteered, NFTElement(key: key, comment: comment)) }
            }
            if let externalFilter {
                b.element(externalFilter.servicesSet, NFTElement(key: key, comment: comment))
            }
        }
        addFirewall(svc, lbIPs: lbIPs, to: &b)
        if let nodePort = svc.nodePort {
            let key: [NFTValue] = [proto, .port(nodePort)]
            if sel.hasAny {
                b.element(NFTNames.serviceNodePorts, NFTElement(key: key, data: .verdict(.goto(externalChain)), comment: comment))
            }
            if let externalFilter {
                b.element(externalFilter.nodePortsSet, NFTElement(key: key, comment: comment))
            }
        }

        // Chains.
        let masqJump = NFTExpression.verdict(.jump(NFTNames.markForMasquerade))
        var internalRules: [NFTRule] = []
        if hasInternal && !userspace {
            let dest: [NFTExpression] = [.match(.daddr, .address(clusterIP)), .match(.l4proto, proto), .match(.dport, port)]
            if config.masqueradeAll {
                internalRules.append(NFTRule(dest + [masqJump], comment: "masquerade all ClusterIP traffic"))
            } else if !localCIDRs.isEmpty {
                let notLocal = localCIDRs.map { NFTExpression.match(.saddr, .prefix($0), negated: true) }
                internalRules.append(NFTRule(dest + notLocal + [masqJump], comment: "masquerade off-cluster traffic"))
            }
        }
        // Userspace mode: the chain hands every packet of the flow to its listener, which balances in
        // userspace, and marks it for the policy route to this host. If no listener takes it (`tproxy` finds
        // no socket and ends the rule), it is dropped rather than routed on towards the Service address.
        func toListener(_ port: UInt16?) -> [NFTRule] {
            guard let port else { return [] }
            b.element(NFTNames.userspaceListeners, NFTElement(key: [proto, .port(port)], comment: comment))
            let mark = config.userspaceMark
            return [NFTRule([.match(.l4proto, proto), .tproxy(UserspaceSteering.listenAddress(f.ipFamily), port: port),
                             .setMark(.or(mark)), .verdict(.accept)], comment: "to the userspace listener"),
                    NFTRule([.verdict(.drop)], comment: "no userspace listener")]
        }
        if usesClusterChain {
            let pre = internalChain == clusterChain ? internalRules : []
            b.chain(clusterChain, comment: comment,
                    rules: userspace ? toListener(clusterPort) : pre + balanceRules(svc, sel.cluster, chain: clusterChain, &b))
        }
        if usesLocalChain {
            if userspace && localPort != nil {
                for ep in sel.local {
                    b.element(NFTNames.userspaceLocalEndpoints, NFTElement(key: [.address(ep.address), proto, .port(ep.port)], comment: comment))
                }
            }
            let pre = internalChain == localChain ? internalRules : []
            b.chain(localChain, comment: comment + " (local endpoints)",
                    rules: userspace ? toListener(localPort) : pre + balanceRules(svc, sel.local, chain: localChain, &b))
        }
        if usesExternalChain {
            var rules: [NFTRule] = []
            if !svc.externalPolicyLocal {
                // Proxied connections start anew from the node; nothing to masquerade in userspace mode.
                if !userspace { rules.append(NFTRule([masqJump], comment: "masquerade external traffic")) }
            } else if usesClusterChain {
                for cidr in localCIDRs {
                    rules.append(NFTRule([.match(.saddr, .prefix(cidr)), .verdict(.goto(clusterChain))],
                                         comment: "short-circuit pod traffic"))
                }
                if !userspace { rules.append(NFTRule([.fibLocal(.saddr), masqJump], comment: "masquerade local traffic")) }
                rules.append(NFTRule([.fibLocal(.saddr), .verdict(.goto(clusterChain))], comment: "short-circuit local traffic"))
            }
            if hasExternal {
                rules.append(NFTRule([.verdict(.goto(externalPolicyChain))]))
            }
            b.chain(externalChain, comment: comment + " (external traffic)", rules: rules)
        }
        for ep in sel.allReachable where !userspace {
            let epChain = NFTNames.endpointChain(name, ep)
            if mayHairpin(ep) { b.element(NFTNames.hairpinEndpoints, NFTElement(key: [.address(ep.address), .address(ep.address)])) }
            var rules: [NFTRule] = []
            if let timeout = svc.affinityTimeoutSeconds {
                let set = NFTNames.affinitySet(name, ep)
                b.set(NFTSet(name: set, keyType: [f.addressType], flags: [.dynamic, .timeout], timeoutSeconds: timeout,
                             comment: "\(comment) -> \(ep) affinity"))
                rules.append(NFTRule([.updateSet(set: set, key: [.saddr])]))
            }
            rules.append(NFTRule([.match(.l4proto, proto), .dnat(ep.address, port: ep.port)]))
            b.chain(epChain, comment: "\(comment) -> \(ep)", rules: rules)
        }
        return ([], [])
    }

    /// The common shape, elements only: each address tuple goes into `lb-N` for its N endpoints, with its
    /// endpoints in `service-endpoints` slots 0..<N (NodePorts: `lb-nodeports-N`, `nodeport-endpoints`);
    /// external addresses and NodePorts are marked for masquerading by set membership; ClusterIP traffic from
    /// outside the pod network is marked by the skeleton's `cluster-ips` rule.
    private func addBalancedElements(_ svc: ServicePortInfo, clusterIP: IPAddress, sel: EndpointSelection,
                                     cluster: [EndpointInfo], local: [EndpointInfo], to b: inout TableBuilder) {
        let f = b.family
        let name = svc.name
        let comment = name.description
        let proto = NFTValue.l4proto(name.protocol)
        let port = NFTValue.port(svc.port)
        b.element(NFTNames.clusterIPs, NFTElement(key: [.address(clusterIP)], comment: name.serviceKey))
        let internalEndpoints = svc.internalPolicyLocal ? local : cluster
        let cipKey: [NFTValue] = [.address(clusterIP), proto, port]
        if let filter = NoEndpointFilter(hasAny: sel.hasAny, hasUsable: !internalEndpoints.isEmpty) {
            b.element(filter.servicesSet, NFTElement(key: cipKey, comment: comment))
        } else {
            b.balance(cipKey, local: svc.internalPolicyLocal, nodePort: false, comment: comment, unique: true)
        }
        let externalFilter = NoEndpointFilter(hasAny: sel.hasAny, hasUsable: !cluster.isEmpty)
        let lbIPs = svc.loadBalancerIPs.filter { $0.family == f.ipFamily }
        for ip in svc.externalIPs.filter({ $0.family == f.ipFamily }) + lbIPs {
            let key: [NFTValue] = [.address(ip), proto, port]
            if let externalFilter {
                b.element(externalFilter.servicesSet, NFTElement(key: key, comment: comment))
                continue
            }
            b.element(NFTNames.masqueradeServices, NFTElement(key: key, comment: comment))
            b.balance(key, local: false, nodePort: false, comment: comment, unique: false)
        }
        addFirewall(svc, lbIPs: lbIPs, to: &b)
        if let nodePort = svc.nodePort {
            let key: [NFTValue] = [proto, .port(nodePort)]
            if let externalFilter {
                b.element(externalFilter.nodePortsSet, NFTElement(key: key, comment: comment))
            } else {
                b.element(NFTNames.masqueradeNodePorts, NFTElement(key: key, comment: comment))
                b.balance(key, local: false, nodePort: true, comment: comment, unique: true)
            }
        }
        for ep in sel.allReachable where mayHairpin(ep) {
            b.element(NFTNames.hairpinEndpoints, NFTElement(key: [.address(ep.address), .address(ep.address)]))
        }
    }

    /// Whether a pod behind `endpoint` can reach itself through a Service on this node: only pods of this
    /// node send their Service traffic through this node's rules (a remote pod's is DNATed on its own node),
    /// so `hairpin-endpoints` holds this node's endpoints and those whose node is unknown.
    func mayHairpin(_ endpoint: EndpointInfo) -> Bool {
        endpoint.nodeName == nil || endpoint.isLocal(to: node.name)
    }

    /// loadBalancerSourceRanges: the Service's LoadBalancer IPs go to its own `firewall-…` chain, which
    /// returns for allowed sources and drops the rest.
    private func addFirewall(_ svc: ServicePortInfo, lbIPs: [IPAddress], to b: inout TableBuilder) {
        let f = b.family
        let sourceRanges = svc.loadBalancerSourceRanges.filter { $0.family == f.ipFamily }
        guard !lbIPs.isEmpty, !sourceRanges.isEmpty else { return }
        let name = svc.name
        let firewallChain = NFTNames.firewallChain(name)
        for ip in lbIPs {
            b.element(NFTNames.firewallIPs, NFTElement(key: [.address(ip), .l4proto(name.protocol), .port(svc.port)],
                                                       data: .verdict(.goto(firewallChain)), comment: name.description))
        }
        var sources = sourceRanges.map { NFTValue.prefix($0) }
        if sourceRanges.contains(where: { range in node.nodeIPs.contains { range.contains($0) } }) {
            sources += lbIPs.map { .address($0) }
        }
        var rules = sources.map { NFTRule([.match(.saddr, $0), .verdict(.return)]) }
        rules.append(NFTRule([.verdict(.drop)], comment: "not in loadBalancerSourceRanges"))
        b.chain(firewallChain, comment: name.description + " (loadBalancerSourceRanges)", rules: rules)
    }

    /// Endpoint counts up to this pick by a cascade of `numgen` rules; larger ones through a verdict map.
    public static let cascadeLimit = 32

    /// Affinity checks, then a uniformly random pick among `endpoints`.
    ///
    /// Upstream picks with `numgen random mod N vmap { … }`, an anonymous map per chain. On current kernels
    /// (6.5+) binding an anonymous set walks the whole pending transaction, so a full sync of n services costs
    /// O(n²): 100 s for 10,000 services × 10 endpoints here. Up to `cascadeLimit` endpoints kproxy uses no set:
    /// rule i of n is `numgen random mod (n-i) == 0 goto endpoint-i` (each reached with probability
    /// (n-i)/n and taken with 1/(n-i), so every endpoint gets 1/n), the last a plain `goto`. Larger chains,
    /// where a lookup beats walking the rules, get a named map `pick-CHAIN` (named sets cost no transaction
    /// walk, and there are few of them).
    private func balanceRules(_ svc: ServicePortInfo, _ endpoints: [EndpointInfo], chain: String,
                              _ b: inout TableBuilder) -> [NFTRule] {
        var rules: [NFTRule] = []
        if svc.affinityTimeoutSeconds != nil {
            for ep in endpoints {
                rules.append(NFTRule([.lookup([.saddr], set: NFTNames.affinitySet(svc.name, ep)),
                                      .verdict(.goto(NFTNames.endpointChain(svc.name, ep)))]))
            }
        }
        let targets = endpoints.map { NFTVerdict.goto(NFTNames.endpointChain(svc.name, $0)) }
        if targets.count > Self.cascadeLimit {
            let map = NFTNames.endpointMap(chain: chain)
            b.set(NFTSet(name: map, keyType: [.integer], dataType: .verdict, comment: "\(svc.name) endpoints by numgen value"))
            for (i, target) in targets.enumerated() {
                b.element(map, NFTElement(key: [.integer(UInt32(i))], data: .verdict(target)))
            }
            rules.append(NFTRule([.numgenVmap(modulus: targets.count, map: map)]))
            return rules
        }
        for (i, target) in targets.enumerated() {
            let remaining = targets.count - i
            rules.append(NFTRule(remaining > 1 ? [.numgenIs(modulus: remaining, value: 0), .verdict(target)] : [.verdict(target)]))
        }
        return rules
    }
}

/// What the filter chains do with traffic to a Service address that has no endpoint to take it: reject when
/// the Service has no usable endpoint at all, drop when only its traffic policy (Local) leaves none here.
enum NoEndpointFilter {
    case reject, drop

    init?(hasAny: Bool, hasUsable: Bool) {
        if !hasAny { self = .reject } else if !hasUsable { self = .drop } else { return nil }
    }

    var servicesSet: String { self == .reject ? NFTNames.noEndpointServices : NFTNames.noLocalEndpointServices }
    var nodePortsSet: String { self == .reject ? NFTNames.noEndpointNodePorts : NFTNames.noLocalEndpointNodePorts }
}

/// Dense `numgen` slots for a Service's endpoints that move as little as possible between compiles.
enum EndpointSlots {
    /// `current` in slot order: endpoints keep the slot they had in `previous`; a removed endpoint's slot is
    /// refilled by the endpoint in the last slot; new endpoints are appended in their sorted order.
    static func assign(previous: [EndpointInfo], current: [EndpointInfo]) -> [EndpointInfo] {
        guard !previous.isEmpty else { return current }
        func id(_ e: EndpointInfo) -> EndpointID { EndpointID(address: e.address, port: e.port) }
        var byID = Dictionary(current.map { (id($0), $0) }, uniquingKeysWith: { a, _ in a })
        var slots = previous.map(id)
        var i = 0
        while i < slots.count {
            if byID[slots[i]] != nil { i += 1; continue }
            let last = slots.removeLast()
            if i < slots.count { slots[i] = last }
        }
        var result: [EndpointInfo] = []
        result.reserveCapacity(current.count)
        for slot in slots {
            if let e = byID.removeValue(forKey: slot) { result.append(e) }
        }
        for e in current where byID[id(e)] != nil { result.append(e) }
        return result
    }

    struct EndpointID: Hashable {
        var address: IPAddress
        var port: UInt16
    }
}
