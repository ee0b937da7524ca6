extension Pod: ServedObject {
    public static var hasStatusSubresource: Bool { true }

    /// Upstream's `SetDefaults_Pod`/`PodSpec` for the modelled fields.
    public mutating func applyDefaults() { spec.applyDefaults() }

    public func validate() -> [StatusCause] {
        ObjectMetaValidation.validate(metadata, namespaced: true, nameRule: .dns1123Subdomain) + spec.validate(path: "spec")
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
        fields["spec.schedulerName"] = spec.schedulerName ?? ""
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

extension PodSpec {
    /// Upstream's `SetDefaults_PodSpec` and container defaults, for pods and pod templates alike.
    public mutating func applyDefaults() {
        if restartPolicy == nil || restartPolicy?.rawValue == "" { restartPolicy = .always }
        if dnsPolicy == nil || dnsPolicy == "" { dnsPolicy = "ClusterFirst" }
        if terminationGracePeriodSeconds == nil { terminationGracePeriodSeconds = 30 }
        if schedulerName == nil { schedulerName = "default-scheduler" }
        for c in containers.indices {
            containers[c].applyDefaults()
            guard var ports = containers[c].ports else { continue }
            for p in ports.indices {
                if ports[p].protocol == nil || ports[p].protocol?.rawValue == "" { ports[p].protocol = .tcp }
                if hostNetwork == true && (ports[p].hostPort ?? 0) == 0 { ports[p].hostPort = ports[p].containerPort }
            }
            containers[c].ports = ports
        }
    }

    /// Upstream's `ValidatePodSpec` for the modelled fields; `path` is where the spec sits ("spec",
    /// "spec.template.spec").
    public func validate(path root: String) -> [StatusCause] {
        var causes = validateContainers(root)
        let policies: [RestartPolicy] = [.always, .onFailure, .never]
        if let policy = restartPolicy, !policies.contains(policy) {
            causes.append(.notSupported("\(root).restartPolicy", policy.rawValue, policies.map(\.rawValue)))
        }
        if let hostname = hostname, !hostname.isEmpty {
            for msg in NameValidation.dns1123LabelErrors(hostname) { causes.append(.invalid("\(root).hostname", hostname, msg)) }
        }
        if let subdomain = subdomain, !subdomain.isEmpty {
            for msg in NameValidation.dns1123LabelErrors(subdomain) { causes.append(.invalid("\(root).subdomain", subdomain, msg)) }
        }
        if let nodeName = nodeName, !nodeName.isEmpty {
            for msg in NameValidation.dns1123SubdomainErrors(nodeName) { causes.append(.invalid("\(root).nodeName", nodeName, msg)) }
        }
        if let grace = terminationGracePeriodSeconds, grace < 0 {
            causes.append(.invalid("\(root).terminationGracePeriodSeconds", Int(grace), "must be greater than or equal to 0"))
        }
        return causes
    }

    private func validateContainers(_ root: String) -> [StatusCause] {
        guard !containers.isEmpty else { return [.required("\(root).containers")] }
        var causes: [StatusCause] = []
        var names: Set<String> = []
        for (i, container) in containers.enumerated() {
            let path = "\(root).containers[\(i)]"
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
}
