/// `Pod.status`.
public struct PodStatus: FieldCoded, Hashable, Sendable {
    public var phase: PodPhase?
    public var conditions: [PodCondition]?
    public var message: String?
    public var reason: String?
    public var hostIP: String?
    public var hostIPs: [HostIP]?
    public var podIP: String?
    public var podIPs: [PodIP]?
    public var startTime: String?
    public var unknownFields = UnknownFields()

    public init() {}
    public init(phase: PodPhase? = nil, conditions: [PodCondition]? = nil, message: String? = nil, reason: String? = nil,
                hostIP: String? = nil, hostIPs: [HostIP]? = nil, podIP: String? = nil, podIPs: [PodIP]? = nil,
                startTime: String? = nil) {
        self.phase = phase; self.conditions = conditions; self.message = message; self.reason = reason
        self.hostIP = hostIP; self.hostIPs = hostIPs; self.podIP = podIP; self.podIPs = podIPs; self.startTime = startTime
    }

    public static let codedFields: [CodedField<PodStatus>] = [.optional("phase", \.phase), .optional("conditions", \.conditions), .optional("message", \.message),
         .optional("reason", \.reason), .optional("hostIP", \.hostIP), .optional("hostIPs", \.hostIPs),
         .optional("podIP", \.podIP), .optional("podIPs", \.podIPs), .optional("startTime", \.startTime)]
}

/// `Pending`, `Running`, `Succeeded`, `Failed`, `Unknown`.
public struct PodPhase: KubeStringEnum {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public static let pending: PodPhase = "Pending"
    public static let running: PodPhase = "Running"
    public static let succeeded: PodPhase = "Succeeded"
    public static let failed: PodPhase = "Failed"
    public static let unknown: PodPhase = "Unknown"
}

/// `Pod.status.podIPs[]`.
public struct PodIP: FieldCoded, Hashable, Sendable {
    public var ip = ""
    public var unknownFields = UnknownFields()
    public init() {}
    public init(ip: String) { self.ip = ip }
    public static let codedFields: [CodedField<PodIP>] = [.always("ip", \.ip)]
}

/// `Pod.status.hostIPs[]`.
public struct HostIP: FieldCoded, Hashable, Sendable {
    public var ip = ""
    public var unknownFields = UnknownFields()
    public init() {}
    public init(ip: String) { self.ip = ip }
    public static let codedFields: [CodedField<HostIP>] = [.always("ip", \.ip)]
}

/// `Pod.status.conditions[]`. (`lastProbeTime`, usually `null`, is kept in `unknownFields`.)
public struct PodCondition: FieldCoded, Hashable, Sendable {
    public var type = PodConditionType(rawValue: "")
    public var status = ConditionStatus.unknown
    public var lastTransitionTime: String?
    public var reason: String?
    public var message: String?
    public var unknownFields = UnknownFields()

    public init() {}
    public init(type: PodConditionType, status: ConditionStatus, lastTransitionTime: String? = nil,
                reason: String? = nil, message: String? = nil) {
        self.type = type; self.status = status; self.lastTransitionTime = lastTransitionTime
        self.reason = reason; self.message = message
    }

    public static let codedFields: [CodedField<PodCondition>] = [.always("type", \.type), .always("status", \.status), .optional("lastTransitionTime", \.lastTransitionTime),
         .optional("reason", \.reason), .optional("message", \.message)]
}

/// `PodScheduled`, `Initialized`, `ContainersReady`, `Ready`, `PodReadyToStartContainers`.
public struct PodConditionType: KubeStringEnum {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public static let podScheduled: PodConditionType = "PodScheduled"
    public static let initialized: PodConditionType = "Initialized"
    public static let containersReady: PodConditionType = "ContainersReady"
    public static let ready: PodConditionType = "Ready"
    public static let podReadyToStartContainers: PodConditionType = "PodReadyToStartContainers"
}
