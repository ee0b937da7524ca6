extension Pod: ServedObject {
    public static var hasStatusSubresource: Bool { true }

    /// Upstream's `SetDefaults_Pod`/`PodSpec` for the modelled fields.
    public mutating func applyDefaults() {
        if spec.restartPolicy == nil || spec.restartPolicy?.rawValue == "" { spec.restartPolicy = .always }
        if spec.dnsPolicy == nil || spec.dnsPolicy == "" { spec.dnsPolicy = "ClusterFirst" }
        if spec.terminationGracePeriodSeconds == nil { spec.terminationGracePeriodSeconds = 30 }
        for c in spec.containers.indices {
            guard var ports = spec.containers[c].ports else { continue }
            for p in ports.indices {
                if ports[p].protocol == nil || ports[p].protocol?.rawValue == "" { ports[p].protocol = .tcp }
                if spec.hostNetwork == true && (ports[p].hostPort ?? 0) == 0 { ports[p].hostPort = ports[p].containerPort }
            }
            spec.containers[c].ports = ports
        }
    }

    public func validate() -> [StatusCause] {
        var causes = ObjectMetaValidation.validate(metadata, namespaced: true, nameRule: .dns1123Subdomain)
        causes += validateContainers()
        let policies: [RestartPolicy] = [.always, .onFailure, .never]
        if let policy = spec.restartPolicy, !policies.contains(policy) {
            causes.append(.notSupported("spec.restartPolicy", policy.rawValue, policies.map(\.rawValue)))
        }
        if let hostname = spec.hostname, !hostname.isEmpty {
            for msg in NameValidation.dns1123LabelErrors(hostname) { causes.append(.invalid("spec.hostname", hostname, msg)) }
        }
        if let subdomain = spec.subdomain, !subdomain.isEmpty {
            for msg in NameValidation.dns1123LabelErrors(subdomain) { causes.append(.invalid("spec.subdomain", subdomain, msg)) }
        }
        if let nodeName = spec.nodeName, !nodeName.isEmpty {
            for msg in NameValidation.dns1123SubdomainErrors(nodeName) { causes.append(.invalid("spec.nodeName", nodeName, msg)) }
        }
        if let grace = spec.terminationGracePeriodSeconds, grace < 0 {
            causes.append(.invalid("spec.terminationGracePeriodSeconds", Int(grace), "must be greater than or equal to 0"))
        }
        return causes
    }

    private func validateContainers() -> [StatusCause] {
        guard !spec.containers.isEmpty else { return [.required("spec.containers")] }
        var causes: [StatusCause] = []
        var names: Set<String> = []
        for (i, container) in spec.containers.enumerated() {
            let path = "spec.containers[\(i)]"
            if container.name.isEmpty {
                causes.append(.required("\(path).name"))
            } else {
                for msg in NameValidation.dns1123LabelErrors(container.name) { causes.append(.invalid("\(path).name", container.name, msg)) }
                if !names.insert(container.name).inserted { causes.append(.duplicate("\(path).name", container.name)) }
            }
            if (container.image ?? "").isEmpty { causes.append(.required("\(path).image")) }
            causes += validatePorts(container.ports ?? [], path: "\(path).ports")
        }
        return causes
    }

    private func validatePorts(_ ports: [ContainerPort], path: String) -> [StatusCause] {
        var causes: [StatusCause] = []
        var names: Set<String> = []
        for (i, port) in ports.enumerated() {
            let p = "\(path)[\(i)]"
            if let name = port.name, !name.isEmpty {
                for msg in NameValidation.ianaSvcNameErrors(name) { causes.append(.invalid("\(p).name", name, msg)) }
                if !names.insert(name).inserted { causes.append(.duplicate("\(p).name", name)) }
            }
            if port.containerPort == 0 {
                causes.append(.required("\(p).containerPort"))
            } else if !NameValidation.isValidPortNumber(port.containerPort) {
                causes.append(.invalid("\(p).containerPort", port.containerPort, NameValidation.portRangeMessage))
            }
            if let hostPort = port.hostPort, hostPort != 0, !NameValidation.isValidPortNumber(hostPort) {
                causes.append(.invalid("\(p).hostPort", hostPort, NameValidation.portRangeMessage))
            }
            causes += ServiceProtocol.validate(port.protocol, field: "\(p).protocol")
            if let hostIP = port.hostIP, !hostIP.isEmpty, !NameValidation.isValidIP(hostIP) {
                causes.append(.invalid("\(p).hostIP", hostIP, NameValidation.ipMessage))
            }
        }
        return causes
    }

    /// Upstream: a pod's spec is immutable except container images, `activeDeadlineSeconds`,
    /// added tolerations and `terminationGracePeriodSeconds`.
    public func validateUpdate(from old: Pod) -> [StatusCause] {
        var causes = validate() + validateMetadataUpdate(from: old)
        var comparable = spec
        comparable.terminationGracePeriodSeconds = old.spec.terminationGracePeriodSeconds
        for key in ["activeDeadlineSeconds", "tolerations"] { comparable.unknownFields.values[key] = old.spec.unknownFields.values[key] }
        if comparable.containers.count == old.spec.containers.count {
            for i in comparable.containers.indices { comparable.containers[i].image = old.spec.containers[i].image }
        }
        if comparable != old.spec {
            causes.append(.forbidden("spec", "pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)"))
        }
        return causes
    }

    public func specChanged(from old: Pod) -> Bool { spec != old.spec }

    /// As upstream's `PodToSelectableFields`.
    public var selectableFields: [String: String] {
        var fields = metadataSelectableFields
        fields["spec.nodeName"] = spec.nodeName ?? ""
        fields["spec.restartPolicy"] = spec.restartPolicy?.rawValue ?? ""
        fields["spec.schedulerName"] = spec.unknownFields.values["schedulerName"]?.stringValue ?? ""
        fields["spec.serviceAccountName"] = spec.serviceAccountName ?? ""
        fields["spec.hostNetwork"] = (spec.hostNetwork ?? false).selectorValue
        fields["status.phase"] = status.phase?.rawValue ?? ""
        fields["status.podIP"] = status.podIPs?.first?.ip ?? status.podIP ?? ""
        fields["status.nominatedNodeName"] = status.unknownFields.values["nominatedNodeName"]?.stringValue ?? ""
        return fields
    }
}

extension ServiceProtocol {
    /// Required, and one of TCP/UDP/SCTP.
    static func validate(_ value: ServiceProtocol?, field: String) -> [StatusCause] {
        guard let value, !value.rawValue.isEmpty else { return [.required(field)] }
        if !supported.contains(value) { return [.notSupported(field, value.rawValue, supported.map(\.rawValue))] }
        return []
    }
}
