import Values

/// `core/v1 Node`.
public struct Node: KubeObject, FieldCoded {
    public static let resourceInfo = ResourceInfo(group: "", version: "v1", kind: "Node", resource: "nodes",
                                                  singular: "node", namespaced: false, shortNames: ["no"])
    public var apiVersion: String?
    public var kind: String?
    public var metadata = ObjectMeta()
    public var spec = NodeSpec()
    public var status = NodeStatus()
    public var unknownFields = UnknownFields()

    public init() {}
    public init(metadata: ObjectMeta = ObjectMeta(), spec: NodeSpec = NodeSpec(), status: NodeStatus = NodeStatus()) {
        apiVersion = Self.resourceInfo.apiVersion; kind = Self.resourceInfo.kind
        self.metadata = metadata; self.spec = spec; self.status = status
    }

    public static let codedFields: [CodedField<Node>] = [.optional("apiVersion", \.apiVersion), .optional("kind", \.kind), .always("metadata", \.metadata),
         .always("spec", \.spec), .always("status", \.status)]

    /// Whether the `Ready` condition is `True`.
    public var isReady: Bool {
        status.conditions?.contains { $0.type == .ready && $0.status == .true } ?? false
    }

    /// The addresses of the given type, in order.
    public func addresses(ofType type: NodeAddressType) -> [String] {
        (status.addresses ?? []).filter { $0.type == type }.map(\.address)
    }
}

/// `Node.spec`.
public struct NodeSpec: FieldCoded, Hashable, Sendable {
    public var podCIDR: String?
    public var podCIDRs: [String]?
    public var providerID: String?
    public var unschedulable: Bool?
    public var taints: [Taint]?
    public var unknownFields = UnknownFields()

    public init() {}
    public init(podCIDR: String? = nil, podCIDRs: [String]? = nil, providerID: String? = nil,
                unschedulable: Bool? = nil, taints: [Taint]? = nil) {
        self.podCIDR = podCIDR; self.podCIDRs = podCIDRs; self.providerID = providerID
        self.unschedulable = unschedulable; self.taints = taints
    }

    public static let codedFields: [CodedField<NodeSpec>] = [.optional("podCIDR", \.podCIDR), .optional("podCIDRs", \.podCIDRs), .optional("providerID", \.providerID),
         .optional("unschedulable", \.unschedulable), .optional("taints", \.taints)]
}

/// `Node.spec.taints[]`.
public struct Taint: FieldCoded, Hashable, Sendable {
    public var key = ""
    public var value: String?
    public var effect = TaintEffect(rawValue: "")
    public var timeAdded: String?
    public var unknownFields = UnknownFields()

    public init() {}
    public init(key: String, value: String? = nil, effect: TaintEffect, timeAdded: String? = nil) {
        self.key = key; self.value = value; self.effect = effect; self.timeAdded = timeAdded
    }

    public static let codedFields: [CodedField<Taint>] = [.always("key", \.key), .optional("value", \.value), .always("effect", \.effect), .optional("timeAdded", \.timeAdded)]
}

/// `NoSchedule`, `PreferNoSchedule` or `NoExecute`.
public struct TaintEffect: KubeStringEnum {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public static let noSchedule: TaintEffect = "NoSchedule"
    public static let preferNoSchedule: TaintEffect = "PreferNoSchedule"
    public static let noExecute: TaintEffect = "NoExecute"
}

/// `Node.status`.
public struct NodeStatus: FieldCoded, Hashable, Sendable {
    /// Resource quantities as upstream writes them ("4", "8Gi").
    public var capacity: [String: String]?
    public var allocatable: [String: String]?
    public var conditions: [NodeCondition]?
    public var addresses: [NodeAddress]?
    /// `NodeSystemInfo`, kept untyped.
    public var nodeInfo: JSONValue?
    public var unknownFields = UnknownFields()

    public init() {}
    public init(capacity: [String: String]? = nil, allocatable: [String: String]? = nil, conditions: [NodeCondition]? = nil,
                addresses: [NodeAddress]? = nil, nodeInfo: JSONValue? = nil) {
        self.capacity = capacity; self.allocatable = allocatable; self.conditions = conditions
        self.addresses = addresses; self.nodeInfo = nodeInfo
    }

    public static let codedFields: [CodedField<NodeStatus>] = [.optional("capacity", \.capacity), .optional("allocatable", \.allocatable), .optional("conditions", \.conditions),
         .optional("addresses", \.addresses), .optional("nodeInfo", \.nodeInfo)]
}

/// `Node.status.addresses[]`.
public struct NodeAddress: FieldCoded, Hashable, Sendable {
    public var type = NodeAddressType(rawValue: "")
    public var address = ""
    public var unknownFields = UnknownFields()

    public init() {}
    public init(type: NodeAddressType, address: String) { self.type = type; self.address = address }

    public static let codedFields: [CodedField<NodeAddress>] = [.always("type", \.type), .always("address", \.address)]
}

/// `InternalIP`, `ExternalIP`, `Hostname`, …
public struct NodeAddressType: KubeStringEnum {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public static let internalIP: NodeAddressType = "InternalIP"
    public static let externalIP: NodeAddressType = "ExternalIP"
    public static let hostname: NodeAddressType = "Hostname"
    public static let internalDNS: NodeAddressType = "InternalDNS"
    public static let externalDNS: NodeAddressType = "ExternalDNS"
}

/// `Node.status.conditions[]`.
public struct NodeCondition: FieldCoded, Hashable, Sendable {
    public var type = NodeConditionType(rawValue: "")
    public var status = ConditionStatus.unknown
    public var lastHeartbeatTime: String?
    public var lastTransitionTime: String?
    public var reason: String?
    public var message: String?
    public var unknownFields = UnknownFields()

    public init() {}
    public init(type: NodeConditionType, status: ConditionStatus, lastHeartbeatTime: String? = nil,
                lastTransitionTime: String? = nil, reason: String? = nil, message: String? = nil) {
        self.type = type; self.status = status; self.lastHeartbeatTime = lastHeartbeatTime
        self.lastTransitionTime = lastTransitionTime; self.reason = reason; self.message = message
    }

    public static let codedFields: [CodedField<NodeCondition>] = [.always("type", \.type), .always("status", \.status), .optional("lastHeartbeatTime", \.lastHeartbeatTime),
         .optional("lastTransitionTime", \.lastTransitionTime), .optional("reason", \.reason), .optional("message", \.message)]
}

/// `Ready`, `MemoryPressure`, `DiskPressure`, `PIDPressure`, `NetworkUnavailable`.
public struct NodeConditionType: KubeStringEnum {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public static let ready: NodeConditionType = "Ready"
    public static let memoryPressure: NodeConditionType = "MemoryPressure"
    public static let diskPressure: NodeConditionType = "DiskPressure"
    public static let pidPressure: NodeConditionType = "PIDPressure"
    public static let networkUnavailable: NodeConditionType = "NetworkUnavailable"
}
