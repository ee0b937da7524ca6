/// `core/v1 PodTemplateSpec`: the pods a workload creates.
public struct PodTemplateSpec: FieldCoded, Hashable, Sendable {
    public var metadata = ObjectMeta()
    public var spec = PodSpec()
    public var unknownFields = UnknownFields()
    public init() {}
    public init(metadata: ObjectMeta, spec: PodSpec) { self.metadata = metadata; self.spec = spec }
    public static let codedFields: [CodedField<PodTemplateSpec>] = [.always("metadata", \.metadata), .always("spec", \.spec)]
}

/// `apps/v1 ReplicaSet`.
public struct ReplicaSet: KubeObject, FieldCoded {
    public static let resourceInfo = ResourceInfo(group: "apps", version: "v1", kind: "ReplicaSet", resource: "replicasets",
                                                  singular: "replicaset", namespaced: true, shortNames: ["rs"], categories: ["all"])
    public var apiVersion: String?
    public var kind: String?
    public var metadata = ObjectMeta()
    public var spec = ReplicaSetSpec()
    public var status = ReplicaSetStatus()
    public var unknownFields = UnknownFields()

    public init() {}
    public init(metadata: ObjectMeta, spec: ReplicaSetSpec) {
        apiVersion = Self.resourceInfo.apiVersion; kind = Self.resourceInfo.kind
        self.metadata = metadata; self.spec = spec
    }

    public static let codedFields: [CodedField<ReplicaSet>] = [.optional("apiVersion", \.apiVersion), .optional("kind", \.kind),
         .always("metadata", \.metadata), .always("spec", \.spec), .always("status", \.status)]
}

public struct ReplicaSetSpec: FieldCoded, Hashable, Sendable {
    public var replicas: Int?
    public var minReadySeconds: Int?
    public var selector: LabelSelectorSpec?
    public var template = PodTemplateSpec()
    public var unknownFields = UnknownFields()
    public init() {}
    public static let codedFields: [CodedField<ReplicaSetSpec>] = [.optional("replicas", \.replicas), .optional("minReadySeconds", \.minReadySeconds),
         .optional("selector", \.selector), .always("template", \.template)]
}

public struct ReplicaSetStatus: FieldCoded, Hashable, Sendable {
    public var replicas = 0
    public var fullyLabeledReplicas: Int?
    public var readyReplicas: Int?
    public var availableReplicas: Int?
    public var observedGeneration: Int64?
    /// `ReplicaFailure` when pods cannot be created.
    public var conditions: [ReplicaSetCondition]?
    public var unknownFields = UnknownFields()
    public init() {}
    public static let codedFields: [CodedField<ReplicaSetStatus>] = [.always("replicas", \.replicas),
         .optional("fullyLabeledReplicas", \.fullyLabeledReplicas), .optional("readyReplicas", \.readyReplicas),
         .optional("availableReplicas", \.availableReplicas), .optional("observedGeneration", \.observedGeneration),
         .optional("conditions", \.conditions)]
}

/// `ReplicaSetCondition`: a Deployment condition's fields without `lastUpdateTime` (left nil).
public typealias ReplicaSetCondition = DeploymentCondition

/// `apps/v1 Deployment`.
public struct Deployment: KubeObject, FieldCoded {
    public static let resourceInfo = ResourceInfo(group: "apps", version: "v1", kind: "Deployment", resource: "deployments",
                                                  singular: "deployment", namespaced: true, shortNames: ["deploy"], categories: ["all"])
    public var apiVersion: String?
    public var kind: String?
    public var metadata = ObjectMeta()
    public var spec = DeploymentSpec()
    public var status = DeploymentStatus()
    public var unknownFields = UnknownFields()

    public init() {}
    public init(metadata: ObjectMeta, spec: DeploymentSpec) {
        apiVersion = Self.resourceInfo.apiVersion; kind = Self.resourceInfo.kind
        self.metadata = metadata; self.spec = spec
    }

    public static let codedFields: [CodedField<Deployment>] = [.optional("apiVersion", \.apiVersion), .optional("kind", \.kind),
         .always("metadata", \.metadata), .always("spec", \.spec), .always("status", \.status)]

    /// The annotation holding a rollout's revision, on the Deployment and on each of its ReplicaSets.
    public static let revisionAnnotation = "deployment.kubernetes.io/revision"
    /// The label a Deployment adds to its ReplicaSets' selectors and pods, from a hash of the template.
    public static let templateHashLabel = "pod-template-hash"
}

public struct DeploymentSpec: FieldCoded, Hashable, Sendable {
    public var replicas: Int?
    public var selector: LabelSelectorSpec?
    public var template = PodTemplateSpec()
    public var strategy: DeploymentStrategy?
    public var minReadySeconds: Int?
    public var revisionHistoryLimit: Int?
    public var paused: Bool?
    public var progressDeadlineSeconds: Int?
    public var unknownFields = UnknownFields()
    public init() {}
    public static let codedFields: [CodedField<DeploymentSpec>] = [.optional("replicas", \.replicas), .optional("selector", \.selector),
         .always("template", \.template), .optional("strategy", \.strategy), .optional("minReadySeconds", \.minReadySeconds),
         .optional("revisionHistoryLimit", \.revisionHistoryLimit), .optional("paused", \.paused),
         .optional("progressDeadlineSeconds", \.progressDeadlineSeconds)]
}

/// `RollingUpdate` (the default) or `Recreate`.
public struct DeploymentStrategy: FieldCoded, Hashable, Sendable {
    public struct RollingUpdate: FieldCoded, Hashable, Sendable {
        public var maxUnavailable: IntOrString?
        public var maxSurge: IntOrString?
        public var unknownFields = UnknownFields()
        public init() {}
        public init(maxUnavailable: IntOrString?, maxSurge: IntOrString?) { self.maxUnavailable = maxUnavailable; self.maxSurge = maxSurge }
        public static let codedFields: [CodedField<RollingUpdate>] = [.optional("maxUnavailable", \.maxUnavailable), .optional("maxSurge", \.maxSurge)]
    }
    public var type: String?
    public var rollingUpdate: RollingUpdate?
    public var unknownFields = UnknownFields()
    public init() {}
    public init(type: String, rollingUpdate: RollingUpdate? = nil) { self.type = type; self.rollingUpdate = rollingUpdate }
    public static let codedFields: [CodedField<DeploymentStrategy>] = [.optional("type", \.type), .optional("rollingUpdate", \.rollingUpdate)]

    public static let rollingUpdateType = "RollingUpdate"
    public static let recreateType = "Recreate"
}

public struct DeploymentStatus: FieldCoded, Hashable, Sendable {
    public var observedGeneration: Int64?
    public var replicas: Int?
    public var updatedReplicas: Int?
    public var readyReplicas: Int?
    public var availableReplicas: Int?
    public var unavailableReplicas: Int?
    public var conditions: [DeploymentCondition]?
    public var collisionCount: Int?
    public var unknownFields = UnknownFields()
    public init() {}
    public static let codedFields: [CodedField<DeploymentStatus>] = [.optional("observedGeneration", \.observedGeneration),
         .optional("replicas", \.replicas), .optional("updatedReplicas", \.updatedReplicas), .optional("readyReplicas", \.readyReplicas),
         .optional("availableReplicas", \.availableReplicas), .optional("unavailableReplicas", \.unavailableReplicas),
         .optional("conditions", \.conditions), .optional("collisionCount", \.collisionCount)]
}

/// `Available` or `Progressing` (`ReplicaFailure` is not produced here).
public struct DeploymentCondition: FieldCoded, Hashable, Sendable {
    public var type = ""
    public var status = ConditionStatus.unknown
    public var lastUpdateTime: String?
    public var lastTransitionTime: String?
    public var reason: String?
    public var message: String?
    public var unknownFields = UnknownFields()
    public init() {}
    public init(type: String, status: ConditionStatus, reason: String, message: String, now: String) {
        self.type = type; self.status = status; self.reason = reason; self.message = message
        lastUpdateTime = now; lastTransitionTime = now
    }
    public static let codedFields: [CodedField<DeploymentCondition>] = [.always("type", \.type), .always("status", \.status),
         .optional("lastUpdateTime", \.lastUpdateTime), .optional("lastTransitionTime", \.lastTransitionTime),
         .optional("reason", \.reason), .optional("message", \.message)]
}

/// `autoscaling/v1 Scale`: the `scale` subresource of Deployments and ReplicaSets.
public struct Scale: Codable, Hashable, Sendable {
    public struct Spec: Codable, Hashable, Sendable {
        public var replicas: Int?
        public init(replicas: Int?) { self.replicas = replicas }
    }
    public struct Status: Codable, Hashable, Sendable {
        public var replicas: Int
        public var selector: String?
        public init(replicas: Int, selector: String?) { self.replicas = replicas; self.selector = selector }
    }
    public var apiVersion = "autoscaling/v1"
    public var kind = "Scale"
    public var metadata: ObjectMeta
    public var spec: Spec
    public var status: Status?
    public init(metadata: ObjectMeta, spec: Spec, status: Status?) { self.metadata = metadata; self.spec = spec; self.status = status }
}

/// `core/v1 Binding`: the body of `pods/{name}/binding`, naming the node a pod runs on.
public struct Binding: Codable, Hashable, Sendable {
    public var apiVersion: String?
    public var kind: String?
    public var metadata: ObjectMeta
    public var target: ObjectReference
    public init(metadata: ObjectMeta, target: ObjectReference) {
        apiVersion = "v1"; kind = "Binding"; self.metadata = metadata; self.target = target
    }
}
