import Values

/// `core/v1 Namespace`.
public struct Namespace: KubeObject, FieldCoded {
    public static let resourceInfo = ResourceInfo(group: "", version: "v1", kind: "Namespace", resource: "namespaces",
                                                  singular: "namespace", namespaced: false, shortNames: ["ns"])
    public var apiVersion: String?
    public var kind: String?
    public var metadata = ObjectMeta()
    public var spec = NamespaceSpec()
    public var status = NamespaceStatus()
    public var unknownFields = UnknownFields()

    public init() {}
    public init(metadata: ObjectMeta = ObjectMeta(), spec: NamespaceSpec = NamespaceSpec(), status: NamespaceStatus = NamespaceStatus()) {
        apiVersion = Self.resourceInfo.apiVersion; kind = Self.resourceInfo.kind
        self.metadata = metadata; self.spec = spec; self.status = status
    }

    public static let codedFields: [CodedField<Namespace>] = [.optional("apiVersion", \.apiVersion), .optional("kind", \.kind), .always("metadata", \.metadata),
         .always("spec", \.spec), .always("status", \.status)]
}

/// `Namespace.spec`.
public struct NamespaceSpec: FieldCoded, Hashable, Sendable {
    /// Finalizers that must be removed before the namespace is deleted (e.g. "kubernetes").
    public var finalizers: [String]?
    public var unknownFields = UnknownFields()

    public init() {}
    public init(finalizers: [String]? = nil) { self.finalizers = finalizers }

    public static let codedFields: [CodedField<NamespaceSpec>] = [.optional("finalizers", \.finalizers)]
}

/// `Namespace.status`.
public struct NamespaceStatus: FieldCoded, Hashable, Sendable {
    public var phase: NamespacePhase?
    public var conditions: JSONValue?
    public var unknownFields = UnknownFields()

    public init() {}
    public init(phase: NamespacePhase? = nil, conditions: JSONValue? = nil) { self.phase = phase; self.conditions = conditions }

    public static let codedFields: [CodedField<NamespaceStatus>] = [.optional("phase", \.phase), .optional("conditions", \.conditions)]
}

/// `Active` or `Terminating`.
public struct NamespacePhase: KubeStringEnum {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public static let active: NamespacePhase = "Active"
    public static let terminating: NamespacePhase = "Terminating"
}
