extension Endpoints: ServedObject {
    public static var hasStatusSubresource: Bool { false }

    /// Upstream: each port's protocol defaults to TCP.
    public mutating func applyDefaults() {
        guard var subsets else { return }
        for i in subsets.indices {
            guard var ports = subsets[i].ports else { continue }
            for j in ports.indices where ports[j].protocol == nil { ports[j].protocol = .tcp }
            subsets[i].ports = ports
        }
        self.subsets = subsets
    }

    /// Upstream's `ValidateEndpoints`: valid non-special IPs, hostnames and node names; ports 1–65535 with
    /// a supported protocol, and named when a subset has more than one.
    public func validate() -> [StatusCause] {
        var causes = ObjectMetaValidation.validate(metadata, namespaced: true, nameRule: .dns1123Subdomain)
        for (i, subset) in (subsets ?? []).enumerated() {
            let path = "subsets[\(i)]"
            if (subset.addresses ?? []).isEmpty && (subset.notReadyAddresses ?? []).isEmpty {
                causes.append(.required("\(path)", "must specify `addresses` or `notReadyAddresses`"))
            }
            for (field, list) in [("addresses", subset.addresses ?? []), ("notReadyAddresses", subset.notReadyAddresses ?? [])] {
                for (j, address) in list.enumerated() { causes += validate(address, path: "\(path).\(field)[\(j)]") }
            }
            let ports = subset.ports ?? []
            var names: Set<String> = []
            for (j, port) in ports.enumerated() {
                let portPath = "\(path).ports[\(j)]"
                let name = port.name ?? ""
                if ports.count > 1 && name.isEmpty { causes.append(.required("\(portPath).name")) }
                if !name.isEmpty {
                    for msg in NameValidation.dns1123LabelErrors(name) { causes.append(.invalid("\(portPath).name", name, msg)) }
                    if !names.insert(name).inserted { causes.append(.duplicate("\(portPath).name", name)) }
                }
                if let number = port.port {
                    if !(1...65535).contains(number) { causes.append(.invalid("\(portPath).port", number, "must be between 1 and 65535, inclusive")) }
                } else {
                    causes.append(.required("\(portPath).port"))
                }
                causes += ServiceProtocol.validate(port.protocol, field: "\(portPath).protocol")
                if let app = port.appProtocol {
                    for msg in NameValidation.qualifiedNameErrors(app) { causes.append(.invalid("\(portPath).appProtocol", app, msg)) }
                }
            }
        }
        return causes
    }

    private func validate(_ address: EndpointAddress, path: String) -> [StatusCause] {
        var causes: [StatusCause] = []
        if let bytes = IPSyntax.parse(address.ip) {
            if let problem = EndpointSlice.specialAddressProblem(bytes) { causes.append(.invalid("\(path).ip", address.ip, problem)) }
        } else {
            causes.append(.invalid("\(path).ip", address.ip, "must be a valid IP address"))
        }
        if let hostname = address.hostname, !hostname.isEmpty {
            for msg in NameValidation.dns1123LabelErrors(hostname) { causes.append(.invalid("\(path).hostname", hostname, msg)) }
        }
        if let nodeName = address.nodeName, !nodeName.isEmpty {
            for msg in NameValidation.dns1123SubdomainErrors(nodeName) { causes.append(.invalid("\(path).nodeName", nodeName, msg)) }
        }
        return causes
    }

    public func validateUpdate(from old: Endpoints) -> [StatusCause] { validate() + validateMetadataUpdate(from: old) }

    public func specChanged(from old: Endpoints) -> Bool { subsets != old.subsets }

    public var selectableFields: [String: String] { metadataSelectableFields }
}
