/// `meta.k8s.io/v1 DeleteOptions`: the optional body of a DELETE.
public struct DeleteOptions: FieldCoded, Hashable, Sendable {
    public var kind: String?
    public var apiVersion: String?
    public var gracePeriodSeconds: Int64?
    public var preconditions: Preconditions?
    public var orphanDependents: Bool?
    public var propagationPolicy: DeletionPropagation?
    /// `["All"]` for a dry run.
    public var dryRun: [String]?
    public var unknownFields = UnknownFields()

    public init() {}
    public init(gracePeriodSeconds: Int64? = nil, preconditions: Preconditions? = nil,
                propagationPolicy: DeletionPropagation? = nil, dryRun: [String]? = nil) {
        kind = "DeleteOptions"; apiVersion = "meta.k8s.io/v1"
        self.gracePeriodSeconds = gracePeriodSeconds; self.preconditions = preconditions
        self.propagationPolicy = propagationPolicy; self.dryRun = dryRun
    }

    public static let codedFields: [CodedField<DeleteOptions>] = [.optional("kind", \.kind), .optional("apiVersion", \.apiVersion),
         .optional("gracePeriodSeconds", \.gracePeriodSeconds), .optional("preconditions", \.preconditions),
         .optional("orphanDependents", \.orphanDependents), .optional("propagationPolicy", \.propagationPolicy),
         .optional("dryRun", \.dryRun)]

    /// Whether `dryRun` asks for a dry run.
    public var isDryRun: Bool { dryRun?.contains("All") ?? false }
}

/// `DeleteOptions.preconditions`: delete only if the object still has this uid / resourceVersion.
public struct Preconditions: FieldCoded, Hashable, Sendable {
    public var uid: String?
    public var resourceVersion: String?
    public var unknownFields = UnknownFields()
    public init() {}
    public init(uid: String? = nil, resourceVersion: String? = nil) { self.uid = uid; self.resourceVersion = resourceVersion }
    public static let codedFields: [CodedField<Preconditions>] = [.optional("uid", \.uid), .optional("resourceVersion", \.resourceVersion)]
}

/// `Orphan`, `Background` or `Foreground`.
public struct DeletionPropagation: KubeStringEnum {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public static let orphan: DeletionPropagation = "Orphan"
    public static let background: DeletionPropagation = "Background"
    public static let foreground: DeletionPropagation = "Foreground"
}
