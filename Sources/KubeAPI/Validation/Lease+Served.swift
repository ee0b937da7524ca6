extension Lease: ServedObject {
    public static var hasStatusSubresource: Bool { false }

    public mutating func applyDefaults() {}

    /// As upstream's ValidateLeaseSpec: durations and transitions not negative, times that parse, and
    /// preferredHolder only with a strategy.
    public func validate() -> [StatusCause] {
        var causes = ObjectMetaValidation.validate(metadata, namespaced: true, nameRule: .dns1123Subdomain)
        if let d = spec.leaseDurationSeconds, d <= 0 {
            causes.append(.invalid("spec.leaseDurationSeconds", d, "must be greater than 0"))
        }
        if let t = spec.leaseTransitions, t < 0 {
            causes.append(.invalid("spec.leaseTransitions", t, "must be greater than or equal to 0"))
        }
        for (field, value) in [("spec.acquireTime", spec.acquireTime), ("spec.renewTime", spec.renewTime)] {
            if let value, KubeTime.parse(value) == nil { causes.append(.invalid(field, value, "must be an RFC 3339 time")) }
        }
        if spec.preferredHolder != nil, spec.strategy == nil {
            causes.append(.forbidden("spec.preferredHolder", "may only be specified if `strategy` is defined"))
        }
        return causes
    }

    public func validateUpdate(from old: Lease) -> [StatusCause] {
        validate() + validateMetadataUpdate(from: old)
    }

    /// Leases have no status: every spec write is a generation of its own (upstream leaves generation alone).
    public func specChanged(from old: Lease) -> Bool { false }

    public var selectableFields: [String: String] { metadataSelectableFields }
}
