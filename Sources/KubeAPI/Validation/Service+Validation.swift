/// Upstream's `ValidateService` for the fields kproxy stores.
extension Service {
    static let maxClientIPTimeout = 86400
    static let trafficDistributions = ["PreferClose"]

    func validateSpec() -> [StatusCause] {
        var causes: [StatusCause] = []
        if !ServiceType.supported.contains(type) {
            causes.append(.notSupported("spec.type", type.rawValue, ServiceType.supported.map(\.rawValue)))
        }
        let ports = spec.ports ?? []
        if ports.isEmpty && !isHeadless && type != .externalName { causes.append(.required("spec.ports")) }
        causes += validatePorts(ports)
        if type == .externalName {
            causes += validateExternalName()
        } else {
            causes += validateClusterIPs()
        }
        causes += validateSessionAffinity()
        causes += validateExternalAccess()
        causes += validateLoadBalancerFields()
        causes += validateIPFamilies()
        if let policy = spec.internalTrafficPolicy, !ServiceTrafficPolicy.supported.contains(policy) {
            causes.append(.notSupported("spec.internalTrafficPolicy", policy.rawValue, ServiceTrafficPolicy.supported.map(\.rawValue)))
        }
        if let distribution = spec.trafficDistribution, !Self.trafficDistributions.contains(distribution) {
            causes.append(.notSupported("spec.trafficDistribution", distribution, Self.trafficDistributions))
        }
        causes += ObjectMetaValidation.validateLabels(spec.selector ?? [:], field: "spec.selector")
        return causes
    }

    private func validatePorts(_ ports: [ServicePort]) -> [StatusCause] {
        var causes: [StatusCause] = []
        var names: Set<String> = []
        var keys: Set<String> = []
        var nodePorts: Set<String> = []
        for (i, port) in ports.enumerated() {
            let path = "spec.ports[\(i)]"
            let name = port.name ?? ""
            if ports.count > 1 && name.isEmpty {
                causes.append(.required("\(path).name"))
            } else if !name.isEmpty {
                for msg in NameValidation.dns1123LabelErrors(name) { causes.append(.invalid("\(path).name", name, msg)) }
                if !names.insert(name).inserted { causes.append(.duplicate("\(path).name", name)) }
            }
            if !NameValidation.isValidPortNumber(port.port) {
                causes.append(.invalid("\(path).port", port.port, NameValidation.portRangeMessage))
            }
            causes += ServiceProtocol.validate(port.protocol, field: "\(path).protocol")
            switch port.targetPort {
            case .int(let n) where !NameValidation.isValidPortNumber(n):
                causes.append(.invalid("\(path).targetPort", n, NameValidation.portRangeMessage))
            case .string(let s):
                for msg in NameValidation.ianaSvcNameErrors(s) { causes.append(.invalid("\(path).targetPort", s, msg)) }
            default: break
            }
            if let app = port.appProtocol {
                for msg in NameValidation.qualifiedNameErrors(app) { causes.append(.invalid("\(path).appProtocol", app, msg)) }
            }
            let proto = port.protocol?.rawValue ?? ""
            if !keys.insert("\(port.port)/\(proto)").inserted { causes.append(.duplicate(path, "\(port.port)/\(proto)")) }
            if let nodePort = port.nodePort, nodePort != 0 {
                if type == .clusterIP || type == .externalName {
                    causes.append(.forbidden("\(path).nodePort", "may not be used when `type` is '\(type.rawValue)'"))
                } else if !NameValidation.isValidPortNumber(nodePort) {
                    causes.append(.invalid("\(path).nodePort", nodePort, NameValidation.portRangeMessage))
                } else if !nodePorts.insert("\(nodePort)/\(proto)").inserted {
                    causes.append(.duplicate("\(path).nodePort", "\(nodePort)/\(proto)"))
                }
            }
        }
        return causes
    }

    private func validateExternalName() -> [StatusCause] {
        var causes: [StatusCause] = []
        if !(spec.clusterIPs ?? []).isEmpty || !(spec.clusterIP ?? "").isEmpty {
            causes.append(.forbidden("spec.clusterIPs", "may not be set for ExternalName services"))
        }
        if !(spec.ipFamilies ?? []).isEmpty { causes.append(.forbidden("spec.ipFamilies", "may not be set for ExternalName services")) }
        if spec.ipFamilyPolicy != nil { causes.append(.forbidden("spec.ipFamilyPolicy", "may not be set for ExternalName services")) }
        let raw = spec.externalName ?? ""
        let cname = raw.hasSuffix(".") ? String(raw.dropLast()) : raw
        if cname.isEmpty {
            causes.append(.required("spec.externalName"))
        } else {
            for msg in NameValidation.dns1123SubdomainErrors(cname) { causes.append(.invalid("spec.externalName", cname, msg)) }
        }
        return causes
    }

    private func validateClusterIPs() -> [StatusCause] {
        var causes: [StatusCause] = []
        let ips = spec.clusterIPs ?? []
        let single = spec.clusterIP ?? ""
        if !single.isEmpty, let first = ips.first, first != single {
            causes.append(.invalid("spec.clusterIPs", first, "first value must match `clusterIP`"))
        }
        let all = ips.isEmpty ? (single.isEmpty ? [] : [single]) : ips
        let field = ips.isEmpty ? { (_: Int) in "spec.clusterIP" } : { (i: Int) in "spec.clusterIPs[\(i)]" }
        if all.first == ServiceSpec.clusterIPNone {
            if all.count > 1 { causes.append(.invalid("spec.clusterIPs", all.joined(separator: ","), "must be a single value when the first value is 'None'")) }
            if type == .nodePort || type == .loadBalancer {
                causes.append(.invalid(field(0), ServiceSpec.clusterIPNone, "may not be set to 'None' for \(type.rawValue) services"))
            }
            return causes
        }
        if all.count > 2 { causes.append(.invalid("spec.clusterIPs", all.joined(separator: ","), "may only hold up to 2 values")) }
        var families: [Int] = []
        for (i, ip) in all.enumerated() {
            if ip == ServiceSpec.clusterIPNone {
                causes.append(.invalid(field(i), ip, "'None' must be the first and only value"))
            } else if let bytes = IPSyntax.parse(ip) {
                families.append(bytes.count)
            } else {
                causes.append(.invalid(field(i), ip, NameValidation.ipMessage))
            }
        }
        if families.count == 2 && families[0] == families[1] {
            causes.append(.invalid("spec.clusterIPs[1]", all[1], "may not have the same IP family as the first value"))
        }
        return causes
    }

    private func validateSessionAffinity() -> [StatusCause] {
        var causes: [StatusCause] = []
        let affinity = spec.sessionAffinity ?? SessionAffinity.none
        if !SessionAffinity.supported.contains(affinity) {
            causes.append(.notSupported("spec.sessionAffinity", affinity.rawValue, SessionAffinity.supported.map(\.rawValue)))
        }
        if affinity == .clientIP {
            let timeout = spec.sessionAffinityConfig?.clientIP?.timeoutSeconds ?? 0
            if !(1...Self.maxClientIPTimeout).contains(timeout) {
                causes.append(.invalid("spec.sessionAffinityConfig.clientIP.timeoutSeconds", timeout,
                                       "must be greater than 0 and less than \(Self.maxClientIPTimeout)"))
            }
        } else if affinity == .none, spec.sessionAffinityConfig != nil {
            causes.append(.invalid("spec.sessionAffinityConfig", "{}", "must not be set when session affinity is None"))
        }
        return causes
    }

    private func validateExternalAccess() -> [StatusCause] {
        var causes: [StatusCause] = []
        for (i, ip) in (spec.externalIPs ?? []).enumerated() {
            if let bytes = IPSyntax.parse(ip) {
                if bytes.allSatisfy({ $0 == 0 }) { causes.append(.invalid("spec.externalIPs[\(i)]", ip, "may not be unspecified (0.0.0.0)")) }
            } else {
                causes.append(.invalid("spec.externalIPs[\(i)]", ip, NameValidation.ipMessage))
            }
        }
        if let policy = spec.externalTrafficPolicy, !policy.rawValue.isEmpty {
            if !isExternallyAccessible {
                causes.append(.invalid("spec.externalTrafficPolicy", policy.rawValue, "may only be set for externally-accessible services"))
            } else if !ServiceTrafficPolicy.supported.contains(policy) {
                causes.append(.notSupported("spec.externalTrafficPolicy", policy.rawValue, ServiceTrafficPolicy.supported.map(\.rawValue)))
            }
        }
        // A missing healthCheckNodePort is the allocator's to fill; a stray one is invalid.
        let needsHealthCheck = type == .loadBalancer && spec.externalTrafficPolicy == .local
        if let port = spec.healthCheckNodePort, port != 0 {
            if !needsHealthCheck {
                causes.append(.invalid("spec.healthCheckNodePort", port, "may only be set when `type` is 'LoadBalancer' and `externalTrafficPolicy` is 'Local'"))
            } else if !NameValidation.isValidPortNumber(port) {
                causes.append(.invalid("spec.healthCheckNodePort", port, NameValidation.portRangeMessage))
            }
        }
        return causes
    }

    private func validateLoadBalancerFields() -> [StatusCause] {
        var causes: [StatusCause] = []
        let lbOnly = "may only be used when `type` is 'LoadBalancer'"
        let ranges = spec.loadBalancerSourceRanges ?? []
        if !ranges.isEmpty && type != .loadBalancer { causes.append(.forbidden("spec.loadBalancerSourceRanges", lbOnly)) }
        for (i, range) in ranges.enumerated() where !NameValidation.isValidCIDR(range.trimmingSpaces) {
            causes.append(.invalid("spec.loadBalancerSourceRanges[\(i)]", range, NameValidation.cidrMessage))
        }
        if let ip = spec.loadBalancerIP, !ip.isEmpty {
            if type != .loadBalancer { causes.append(.forbidden("spec.loadBalancerIP", lbOnly)) }
            else if !NameValidation.isValidIP(ip) { causes.append(.invalid("spec.loadBalancerIP", ip, NameValidation.ipMessage)) }
        }
        if let lbClass = spec.loadBalancerClass {
            if type != .loadBalancer { causes.append(.forbidden("spec.loadBalancerClass", lbOnly)) }
            for msg in NameValidation.qualifiedNameErrors(lbClass) { causes.append(.invalid("spec.loadBalancerClass", lbClass, msg)) }
        }
        if spec.allocateLoadBalancerNodePorts != nil && type != .loadBalancer {
            causes.append(.forbidden("spec.allocateLoadBalancerNodePorts", lbOnly))
        }
        return causes
    }

    private func validateIPFamilies() -> [StatusCause] {
        var causes: [StatusCause] = []
        let families = spec.ipFamilies ?? []
        var seen: Set<IPFamily> = []
        for (i, family) in families.enumerated() {
            if family != .ipv4 && family != .ipv6 {
                causes.append(.notSupported("spec.ipFamilies[\(i)]", family.rawValue, [IPFamily.ipv4.rawValue, IPFamily.ipv6.rawValue]))
            } else if !seen.insert(family).inserted {
                causes.append(.duplicate("spec.ipFamilies[\(i)]", family.rawValue))
            }
        }
        if families.count > 2 { causes.append(.invalid("spec.ipFamilies", families.map(\.rawValue).joined(separator: ","), "may specify no more than one IP for each IP family")) }
        if let policy = spec.ipFamilyPolicy {
            if !IPFamilyPolicy.supported.contains(policy) {
                causes.append(.notSupported("spec.ipFamilyPolicy", policy.rawValue, IPFamilyPolicy.supported.map(\.rawValue)))
            } else if policy == .singleStack && families.count > 1 {
                causes.append(.invalid("spec.ipFamilies", families.map(\.rawValue).joined(separator: ","), "must be a single value when `ipFamilyPolicy` is 'SingleStack'"))
            }
        }
        return causes
    }
}

extension String {
    /// Upstream trims spaces around each loadBalancerSourceRanges entry.
    fileprivate var trimmingSpaces: String {
        String(drop(while: { $0 == " " }).reversed().drop(while: { $0 == " " }).reversed())
    }
}
