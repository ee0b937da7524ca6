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
    public var containerStatuses: [ContainerStatus]?
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
         .optional("podIP", \.podIP), .optional("podIPs", \.podIPs), .optional("startTime", \.startTime),
         .optional("containerStatuses", \.containerStatuses)]
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

/// `core/v1 ContainerStatus`, as the kubelet reports it.
public struct ContainerStatus: FieldCoded, Hashable, Sendable {
    public var name = ""
    public var state: ContainerState?
    public var lastState: ContainerState?
    public var ready = false
    public var restartCount = 0
    public var image = ""
    public var imageID = ""
    public var containerID: String?
    public var started: Bool?
    public var unknownFields = UnknownFields()
    public init() {}
    public init(name: String, state: ContainerState?, ready: Bool, restartCount: Int, image: String) {
        self.name = name; self.state = state; self.ready = ready; self.restartCount = restartCount; self.image = image
    }
    public static let codedFields: [CodedField<ContainerStatus>] = [.always("name", \.name), .optional("state", \.state),
         .optional("lastState", \.lastState), .always("ready", \.ready), .always("restartCount", \.restartCount),
         .always("image", \.image), .always("imageID", \.imageID), .optional("containerID", \.containerID), .optional("started", \.started)]
}

/// One of waiting, running or terminated.
public struct ContainerState: FieldCoded, Hashable, Sendable {
    public var waiting: ContainerStateWaiting?
    public var running: ContainerStateRunning?
    public var terminated: ContainerStateTerminated?
    public var unknownFields = UnknownFields()
    public init() {}
    public static func waiting(_ reason: String, _ message: String? = nil) -> ContainerState {
        var s = ContainerState(); s.waiting = ContainerStateWaiting(reason: reason, message: message); return s
    }
    public static func running(since startedAt: String) -> ContainerState {
        var s = ContainerState(); s.running = ContainerStateRunning(startedAt: startedAt); return s
    }
    public static func terminated(_ t: ContainerStateTerminated) -> ContainerState {
        var s = ContainerState(); s.terminated = t; return s
    }
    public static let codedFields: [CodedField<ContainerState>] = [.optional("waiting", \.waiting), .optional("running", \.running),
         .optional("terminated", \.terminated)]
}

public struct ContainerStateWaiting: FieldCoded, Hashable, Sendable {
    public var reason: String?
    public var message: String?
    public var unknownFields = UnknownFields()
    public init() {}
    public init(reason: String?, message: String? = nil) { self.reason = reason; self.message = message }
    public static let codedFields: [CodedField<ContainerStateWaiting>] = [.optional("reason", \.reason), .optional("message", \.message)]
}

public struct ContainerStateRunning: FieldCoded, Hashable, Sendable {
    public var startedAt: String?
    public var unknownFields = UnknownFields()
    public init() {}
    public init(startedAt: String?) { self.startedAt = startedAt }
    public static let codedFields: [CodedField<ContainerStateRunning>] = [.optional("startedAt", \.startedAt)]
}

public struct ContainerStateTerminated: FieldCoded, Hashable, Sendable {
    public var exitCode = 0
    public var signal: Int?
    public var reason: String?
    public var message: String?
    public var startedAt: String?
    public var finishedAt: String?
    public var containerID: String?
    public var unknownFields = UnknownFields()
    public init() {}
    public init(exitCode: Int, signal: Int? = nil, reason: String?, startedAt: String?, finishedAt: String?) {
        self.exitCode = exitCode; self.signal = signal; self.reason = reason; self.startedAt = startedAt; self.finishedAt = finishedAt
    }
    public static let codedFields: [CodedField<ContainerStateTerminated>] = [.always("exitCode", \.exitCode), .optional("signal", \.signal),
         .optional("reason", \.reason), .optional("message", \.message), .optional("startedAt", \.startedAt),
         .optional("finishedAt", \.finishedAt), .optional("containerID", \.containerID)]
}
