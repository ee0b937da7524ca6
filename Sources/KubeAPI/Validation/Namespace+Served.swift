extension Namespace: ServedObject {
    public static var hasStatusSubresource: Bool { true }

    /// The label upstream puts on every namespace, holding its name.
    public static let nameLabel = "kubernetes.io/metadata.name"

    /// Phase `Active` when unset, and the `kubernetes.io/metadata.name` label. (Upstream's create-time
    /// `spec.finalizers: [kubernetes]` is left to the registry, which must also run namespace finalization.)
    public mutating func applyDefaults() {
        if status.phase == nil { status.phase = .active }
        if let name = metadata.name, !name.isEmpty {
            var labels = metadata.labels ?? [:]
            labels[Self.nameLabel] = name
            metadata.labels = labels
        }
    }

    public func validate() -> [StatusCause] {
        var causes = ObjectMetaValidation.validate(metadata, namespaced: false, nameRule: .dns1123Label)
        for (i, finalizer) in (spec.finalizers ?? []).enumerated() {
            for msg in NameValidation.qualifiedNameErrors(finalizer) {
                causes.append(.invalid("spec.finalizers[\(i)]", finalizer, msg))
            }
        }
        return causes
    }

    public func validateUpdate(from old: Namespace) -> [StatusCause] {
        validate() + validateMetadataUpdate(from: old)
    }

    public func specChanged(from old: Namespace) -> Bool { spec != old.spec }

    public var selectableFields: [String: String] {
        var fields = metadataSelectableFields
        fields["status.phase"] = status.phase?.rawValue ?? ""
        return fields
    }
}
