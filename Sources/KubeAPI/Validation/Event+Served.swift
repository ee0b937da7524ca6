extension Event: ServedObject {
    public static var hasStatusSubresource: Bool { false }

    /// Nothing to default for the fields kproxy models.
    public mutating func applyDefaults() {}

    public func validate() -> [StatusCause] {
        var causes = ObjectMetaValidation.validate(metadata, namespaced: true, nameRule: .dns1123Subdomain)
        if let ns = involvedObject.namespace, !ns.isEmpty, let own = metadata.namespace, ns != own {
            causes.append(.invalid("involvedObject.namespace", ns, "does not match event.namespace"))
        }
        return causes
    }

    public func validateUpdate(from old: Event) -> [StatusCause] {
        validate() + validateMetadataUpdate(from: old)
    }

    /// Events have no spec.
    public func specChanged(from old: Event) -> Bool { false }

    /// As upstream: the involved object's fields, reason, source, type, reporting component.
    public var selectableFields: [String: String] {
        var fields = metadataSelectableFields
        fields["involvedObject.kind"] = involvedObject.kind ?? ""
        fields["involvedObject.namespace"] = involvedObject.namespace ?? ""
        fields["involvedObject.name"] = involvedObject.name ?? ""
        fields["involvedObject.uid"] = involvedObject.uid ?? ""
        fields["involvedObject.apiVersion"] = involvedObject.apiVersion ?? ""
        fields["involvedObject.resourceVersion"] = involvedObject.resourceVersion ?? ""
        fields["involvedObject.fieldPath"] = involvedObject.fieldPath ?? ""
        fields["reason"] = reason ?? ""
        fields["reportingComponent"] = unknownFields.values["reportingComponent"]?.stringValue ?? ""
        fields["source"] = source.component ?? ""
        fields["type"] = type ?? ""
        return fields
    }
}
