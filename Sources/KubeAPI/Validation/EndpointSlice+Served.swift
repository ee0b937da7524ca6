extension EndpointSlice: ServedObject {
    public static var hasStatusSubresource: Bool { false }

    public static let maxEndpoints = 1000
    public static let maxAddresses = 100
    public static let maxPorts = 100

    /// Upstream: each port's protocol defaults to TCP and its name to "".
    public mutating func applyDefaults() {
        guard var ports else { return }
        for i in ports.indices {
            if ports[i].protocol == nil { ports[i].protocol = .tcp }
            if ports[i].name == nil { ports[i].name = "" }
        }
        self.ports = ports
    }

    public func validate() -> [StatusCause] {
        var causes = ObjectMetaValidation.validate(metadata, namespaced: true, nameRule: .dns1123Subdomain)
        if addressType.rawValue.isEmpty {
            causes.append(.required("addressType"))
        } else if !AddressType.supported.contains(addressType) {
            causes.append(.notSupported("addressType", addressType.rawValue, AddressType.supported.map(\.rawValue)))
        }
        if endpoints.count > Self.maxEndpoints {
            causes.append(.tooMany("endpoints", actual: endpoints.count, max: Self.maxEndpoints))
        }
        for (i, endpoint) in endpoints.enumerated() { causes += validate(endpoint, path: "endpoints[\(i)]") }
        causes += validatePorts()
        return causes
    }

    private func validate(_ endpoint: Endpoint, path: String) -> [StatusCause] {
        var causes: [StatusCause] = []
        if endpoint.addresses.isEmpty {
            causes.append(.required("\(path).addresses", "must contain at least 1 address"))
        } else if endpoint.addresses.count > Self.maxAddresses {
            causes.append(.tooMany("\(path).addresses", actual: endpoint.addresses.count, max: Self.maxAddresses))
        }
        for (j, address) in endpoint.addresses.enumerated() {
            causes += validateAddress(address, field: "\(path).addresses[\(j)]")
        }
        if let hostname = endpoint.hostname {
            for msg in NameValidation.dns1123LabelErrors(hostname) { causes.append(.invalid("\(path).hostname", hostname, msg)) }
        }
        if let nodeName = endpoint.nodeName {
            for msg in NameValidation.dns1123SubdomainErrors(nodeName) { causes.append(.invalid("\(path).nodeName", nodeName, msg)) }
        }
        return causes
    }

    /// An address must match the slice's address type; IPs may not be unspecified, loopback or link-local.
    private func validateAddress(_ address: String, field: String) -> [StatusCause] {
        switch addressType {
        case .ipv4, .ipv6:
            let bytes = IPSyntax.parse(address)
            let family = addressType == .ipv4 ? 4 : 16
            guard let bytes, bytes.count == family, addressType == .ipv4 || address.contains(":") else {
                return [.invalid(field, address, "must be a valid \(addressType.rawValue) address")]
            }
            if let problem = Self.specialAddressProblem(bytes) { return [.invalid(field, address, problem)] }
            return []
        case .fqdn:
            let name = address.hasSuffix(".") ? String(address.dropLast()) : address
            let labels = name.split(separator: ".", omittingEmptySubsequences: false)
            if labels.count < 2 { return [.invalid(field, address, "should be a domain with at least two segments separated by dots")] }
            return NameValidation.dns1123SubdomainErrors(name).map { .invalid(field, address, $0) }
        default:
            return []
        }
    }

    /// Upstream's `ValidateEndpointIP` restrictions.
    static func specialAddressProblem(_ b: [UInt8]) -> String? {
        if b.allSatisfy({ $0 == 0 }) { return "may not be unspecified (0.0.0.0)" }
        if b.count == 4 {
            if b[0] == 127 { return "may not be in the loopback range (127.0.0.0/8, ::1/128)" }
            if b[0] == 169 && b[1] == 254 { return "may not be in the link-local range (169.254.0.0/16, fe80::/10)" }
            if b[0] == 224 && b[1] == 0 && b[2] == 0 { return "may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)" }
        } else {
            if b[0..<15].allSatisfy({ $0 == 0 }) && b[15] == 1 { return "may not be in the loopback range (127.0.0.0/8, ::1/128)" }
            if b[0] == 0xfe && (b[1] & 0xc0) == 0x80 { return "may not be in the link-local range (169.254.0.0/16, fe80::/10)" }
            if b[0] == 0xff && (b[1] & 0x0f) == 0x02 { return "may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)" }
        }
        return nil
    }

    private func validatePorts() -> [StatusCause] {
        let ports = self.ports ?? []
        var causes: [StatusCause] = []
        if ports.count > Self.maxPorts { causes.append(.tooMany("ports", actual: ports.count, max: Self.maxPorts)) }
        var names: Set<String> = []
        for (i, port) in ports.enumerated() {
            let path = "ports[\(i)]"
            let name = port.name ?? ""
            if !name.isEmpty {
                for msg in NameValidation.dns1123LabelErrors(name) { causes.append(.invalid("\(path).name", name, msg)) }
            }
            if !names.insert(name).inserted { causes.append(.duplicate("\(path).name", name)) }
            causes += ServiceProtocol.validate(port.protocol, field: "\(path).protocol")
            if let number = port.port, !(0...65535).contains(number) {
                causes.append(.invalid("\(path).port", number, "must be between 0 and 65535, inclusive"))
            }
            if let app = port.appProtocol {
                for msg in NameValidation.qualifiedNameErrors(app) { causes.append(.invalid("\(path).appProtocol", app, msg)) }
            }
        }
        return causes
    }

    /// Upstream: `addressType` is immutable.
    public func validateUpdate(from old: EndpointSlice) -> [StatusCause] {
        var causes = validate() + validateMetadataUpdate(from: old)
        if addressType != old.addressType { causes.append(.invalid("addressType", addressType.rawValue, "field is immutable")) }
        return causes
    }

    /// Slices have no spec; upstream bumps generation when endpoints, ports or address type change.
    public func specChanged(from old: EndpointSlice) -> Bool {
        addressType != old.addressType || endpoints != old.endpoints || ports != old.ports
    }

    public var selectableFields: [String: String] { metadataSelectableFields }
}
