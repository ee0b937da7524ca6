extension Service: ServedObject {
    public static var hasStatusSubresource: Bool { true }

    /// Whether traffic can reach the Service from outside the cluster (upstream's `ExternallyAccessible`).
    public var isExternallyAccessible: Bool {
        type == .loadBalancer || type == .nodePort || (type == .clusterIP && !(spec.externalIPs ?? []).isEmpty)
    }

    /// Upstream's `SetDefaults_Service` for the modelled fields.
    public mutating func applyDefaults() {
        if spec.type == nil || spec.type?.rawValue == "" { spec.type = .clusterIP }
        if spec.sessionAffinity == nil || spec.sessionAffinity?.rawValue == "" { spec.sessionAffinity = SessionAffinity.none }
        if spec.sessionAffinity == .clientIP && spec.sessionAffinityConfig?.clientIP?.timeoutSeconds == nil {
            var config = spec.sessionAffinityConfig ?? SessionAffinityConfig()
            var clientIP = config.clientIP ?? ClientIPConfig()
            clientIP.timeoutSeconds = ClientIPConfig.defaultTimeoutSeconds
            config.clientIP = clientIP
            spec.sessionAffinityConfig = config
        }
        if var ports = spec.ports {
            for i in ports.indices {
                if ports[i].protocol == nil || ports[i].protocol?.rawValue == "" { ports[i].protocol = .tcp }
                switch ports[i].targetPort {
                case nil, .int(0), .string(""): ports[i].targetPort = .int(ports[i].port)
                default: break
                }
            }
            spec.ports = ports
        }
        if isExternallyAccessible && (spec.externalTrafficPolicy?.rawValue ?? "").isEmpty {
            spec.externalTrafficPolicy = .cluster
        }
        if type != .externalName && spec.internalTrafficPolicy == nil { spec.internalTrafficPolicy = .cluster }
        if type == .loadBalancer && spec.allocateLoadBalancerNodePorts == nil { spec.allocateLoadBalancerNodePorts = true }
        if let ip = spec.clusterIP, !ip.isEmpty, (spec.clusterIPs ?? []).isEmpty { spec.clusterIPs = [ip] }
        if (spec.clusterIP ?? "").isEmpty, let first = spec.clusterIPs?.first { spec.clusterIP = first }
    }

    /// Copies values the allocators assigned (cluster IPs, IP families, node ports, health check port)
    /// into an update that left them out, as upstream's service REST update does (`kubectl replace`/`apply`).
    public mutating func inheritAllocatedFields(from old: Service) {
        let switchingExternalName = (type == .externalName) != (old.type == .externalName)
        if !switchingExternalName {
            if (spec.clusterIP ?? "").isEmpty && (spec.clusterIPs ?? []).isEmpty {
                spec.clusterIP = old.spec.clusterIP
                spec.clusterIPs = old.spec.clusterIPs
            }
            if (spec.ipFamilies ?? []).isEmpty { spec.ipFamilies = old.spec.ipFamilies }
            if spec.ipFamilyPolicy == nil { spec.ipFamilyPolicy = old.spec.ipFamilyPolicy }
        }
        if type == .nodePort || type == .loadBalancer, var ports = spec.ports {
            for i in ports.indices where (ports[i].nodePort ?? 0) == 0 {
                let match = old.spec.ports?.first {
                    $0.port == ports[i].port && ($0.protocol ?? .tcp) == (ports[i].protocol ?? .tcp)
                }
                ports[i].nodePort = match?.nodePort
            }
            spec.ports = ports
        }
        if type == .loadBalancer && spec.externalTrafficPolicy == .local && (spec.healthCheckNodePort ?? 0) == 0 {
            spec.healthCheckNodePort = old.spec.healthCheckNodePort
        }
    }

    public func validate() -> [StatusCause] {
        ObjectMetaValidation.validate(metadata, namespaced: true, nameRule: .dns1035Label) + validateSpec()
    }

    /// Upstream: `clusterIPs[0]` and `ipFamilies[0]` may not change, except when switching to or from ExternalName.
    public func validateUpdate(from old: Service) -> [StatusCause] {
        var causes = validate() + validateMetadataUpdate(from: old)
        guard type != .externalName && old.type != .externalName else { return causes }
        let oldIPs = old.spec.clusterIPs ?? old.spec.clusterIP.map { [$0] } ?? []
        let newIPs = spec.clusterIPs ?? spec.clusterIP.map { [$0] } ?? []
        if let oldFirst = oldIPs.first, !oldFirst.isEmpty, newIPs.first != oldFirst {
            causes.append(.invalid("spec.clusterIPs[0]", newIPs.first ?? "", "may not change once set"))
        }
        if let oldFamily = old.spec.ipFamilies?.first, let newFamily = spec.ipFamilies?.first, oldFamily != newFamily {
            causes.append(.invalid("spec.ipFamilies[0]", newFamily.rawValue, "may not change once set"))
        }
        return causes
    }

    public func specChanged(from old: Service) -> Bool { spec != old.spec }

    public var selectableFields: [String: String] {
        var fields = metadataSelectableFields
        fields["spec.clusterIP"] = spec.clusterIP ?? ""
        fields["spec.type"] = spec.type?.rawValue ?? ""
        return fields
    }
}
