/// A kind the control plane serves: its upstream defaulting, validation and field selection.
public protocol ServedObject: KubeObject {
    /// Whether the kind has a /status subresource (spec and status written separately).
    static var hasStatusSubresource: Bool { get }
    /// Upstream's defaulting for create and update (e.g. Service: type ClusterIP, sessionAffinity None,
    /// protocol TCP, targetPort = port, traffic policies Cluster; Pod: restartPolicy Always, port protocol TCP;
    /// EndpointSlice ports protocol TCP).
    mutating func applyDefaults()
    /// Field validation on create, as upstream's for the fields kproxy stores.
    func validate() -> [StatusCause]
    /// Validation on update: `validate()` plus immutability rules.
    func validateUpdate(from old: Self) -> [StatusCause]
    /// Whether `self` differs in spec from `old` (`metadata.generation` bumps when it does).
    func specChanged(from old: Self) -> Bool
    /// Fields for field selectors: `metadata.name`, `metadata.namespace` (namespaced kinds) and kind-specific ones.
    var selectableFields: [String: String] { get }
}

extension ServedObject {
    /// `metadata.name`, and `metadata.namespace` for namespaced kinds.
    public var metadataSelectableFields: [String: String] {
        var fields = ["metadata.name": metadata.name ?? ""]
        if Self.resourceInfo.namespaced { fields["metadata.namespace"] = metadata.namespace ?? "" }
        return fields
    }

    /// Metadata checks every kind shares on update: name and namespace are immutable.
    public func validateMetadataUpdate(from old: Self) -> [StatusCause] {
        var causes: [StatusCause] = []
        if metadata.name != old.metadata.name {
            causes.append(.invalid("metadata.name", metadata.name ?? "", "field is immutable"))
        }
        if (metadata.namespace ?? "") != (old.metadata.namespace ?? "") {
            causes.append(.invalid("metadata.namespace", metadata.namespace ?? "", "field is immutable"))
        }
        return causes
    }
}

extension Bool {
    /// "true" / "false", as field selectors compare booleans.
    var selectorValue: String { self ? "true" : "false" }
}
