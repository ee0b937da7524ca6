import Values

extension Node: ServedObject {
    public static var hasStatusSubresource: Bool { true }

    /// Keeps `podCIDR` and `podCIDRs[0]` in step, as upstream's conversion does.
    public mutating func applyDefaults() {
        if let cidr = spec.podCIDR, !cidr.isEmpty, (spec.podCIDRs ?? []).isEmpty { spec.podCIDRs = [cidr] }
        if (spec.podCIDR ?? "").isEmpty, let first = spec.podCIDRs?.first { spec.podCIDR = first }
    }

    public func validate() -> [StatusCause] {
        var causes = ObjectMetaValidation.validate(metadata, namespaced: false, nameRule: .dns1123Subdomain)
        let cidrs = spec.podCIDRs ?? []
        var families: Set<Int> = []
        for (i, cidr) in cidrs.enumerated() {
            guard let parsed = IPSyntax.parseCIDR(cidr) else {
                causes.append(.invalid("spec.podCIDRs[\(i)]", cidr, NameValidation.cidrMessage))
                continue
            }
            families.insert(parsed.bytes.count)
        }
        if cidrs.count > 2 || (cidrs.count == 2 && families.count == 1) {
            causes.append(.invalid("spec.podCIDRs", cidrs.joined(separator: ","), "may specify no more than one CIDR for each IP family"))
        }
        if let cidr = spec.podCIDR, !cidr.isEmpty {
            if !NameValidation.isValidCIDR(cidr) {
                causes.append(.invalid("spec.podCIDR", cidr, NameValidation.cidrMessage))
            } else if let first = cidrs.first, first != cidr {
                causes.append(.invalid("spec.podCIDRs", first, "must match `podCIDR` if specified"))
            }
        }
        var seenTaints: Set<String> = []
        for (i, taint) in (spec.taints ?? []).enumerated() {
            let path = "spec.taints[\(i)]"
            for msg in NameValidation.qualifiedNameErrors(taint.key) { causes.append(.invalid("\(path).key", taint.key, msg)) }
            for msg in NameValidation.labelValueErrors(taint.value ?? "") { causes.append(.invalid("\(path).value", taint.value ?? "", msg)) }
            let effects: [TaintEffect] = [.noSchedule, .preferNoSchedule, .noExecute]
            if taint.effect.rawValue.isEmpty {
                causes.append(.required("\(path).effect"))
            } else if !effects.contains(taint.effect) {
                causes.append(.notSupported("\(path).effect", taint.effect.rawValue, effects.map(\.rawValue)))
            }
            if !seenTaints.insert("\(taint.key):\(taint.effect.rawValue)").inserted {
                causes.append(.duplicate(path, "\(taint.key):\(taint.effect.rawValue)"))
            }
        }
        return causes
    }

    /// Upstream: podCIDR(s) and providerID may only change from unset to set.
    public func validateUpdate(from old: Node) -> [StatusCause] {
        var causes = validate() + validateMetadataUpdate(from: old)
        let oldCIDRs = old.spec.podCIDRs ?? (old.spec.podCIDR.map { [$0] } ?? [])
        let newCIDRs = spec.podCIDRs ?? (spec.podCIDR.map { [$0] } ?? [])
        if !oldCIDRs.filter({ !$0.isEmpty }).isEmpty && oldCIDRs != newCIDRs {
            causes.append(.forbidden("spec.podCIDRs", "node updates may not change podCIDR except from \"\" to valid"))
        }
        if let oldID = old.spec.providerID, !oldID.isEmpty, spec.providerID != oldID {
            causes.append(.forbidden("spec.providerID", "node updates may not change providerID except from \"\" to valid"))
        }
        return causes
    }

    public func specChanged(from old: Node) -> Bool { spec != old.spec }

    public var selectableFields: [String: String] {
        var fields = metadataSelectableFields
        fields["spec.unschedulable"] = (spec.unschedulable ?? false).selectorValue
        return fields
    }
}
