/// `core/v1 Pod`: only what networking needs is typed; everything else is kept in `unknownFields`.
public struct Pod: KubeObject, FieldCoded {
    public static let resourceInfo = ResourceInfo(group: "", version: "v1", kind: "Pod", resource: "pods",
                                                  singular: "pod", namespaced: true, shortNames: ["po"], categories: ["all"])
    public var apiVersion: String?
    public var kind: String?
    public var metadata = ObjectMeta()
    public var spec = PodSpec()
    public var status = PodStatus()
    public var unknownFields = UnknownFields()

    public init() {}
    public init(metadata: ObjectMeta = ObjectMeta(), spec: PodSpec = PodSpec(), status: PodStatus = PodStatus()) {
        apiVersion = Self.resourceInfo.apiVersion; kind = Self.resourceInfo.kind
        self.metadata = metadata; self.spec = spec; self.status = status
    }

    public static let codedFields: [CodedField<Pod>] = [.optional("apiVersion", \.apiVersion), .optional("kind", \.kind), .always("metadata", \.metadata),
         .always("spec", \.spec), .always("status", \.status)]

    /// Whether the `Ready` condition is `True`.
    public var isReady: Bool {
        status.conditions?.contains { $0.type == .ready && $0.status == .true } ?? false
    }

    /// Whether deletion has started (`metadata.deletionTimestamp` is set).
    public var isTerminating: Bool { metadata.deletionTimestamp != nil }
}

/// `Pod.spec`.
public struct PodSpec: FieldCoded, Hashable, Sendable {
    public var containers: [Container] = []
    public var restartPolicy: RestartPolicy?
    public var terminationGracePeriodSeconds: Int64?
    public var dnsPolicy: String?
    public var nodeSelector: [String: String]?
    public var serviceAccountName: String?
    public var nodeName: String?
    public var hostNetwork: Bool?
    public var hostname: String?
    public var subdomain: String?
    public var unknownFields = UnknownFields()

    public init() {}
    public init(containers: [Container] = [], restartPolicy: RestartPolicy? = nil, terminationGracePeriodSeconds: Int64? = nil,
                dnsPolicy: String? = nil, nodeSelector: [String: String]? = nil, serviceAccountName: String? = nil,
                nodeName: String? = nil, hostNetwork: Bool? = nil, hostname: String? = nil, subdomain: String? = nil) {
        self.containers = containers; self.restartPolicy = restartPolicy
        self.terminationGracePeriodSeconds = terminationGracePeriodSeconds; self.dnsPolicy = dnsPolicy
        self.nodeSelector = nodeSelector; self.serviceAccountName = serviceAccountName; self.nodeName = nodeName
        self.hostNetwork = hostNetwork; self.hostname = hostname; self.subdomain = subdomain
    }

    public static let codedFields: [CodedField<PodSpec>] = [.always("containers", \.containers), .optional("restartPolicy", \.restartPolicy),
         .optional("terminationGracePeriodSeconds", \.terminationGracePeriodSeconds), .optional("dnsPolicy", \.dnsPolicy),
         .optional("nodeSelector", \.nodeSelector), .optional("serviceAccountName", \.serviceAccountName),
         .optional("nodeName", \.nodeName), .optional("hostNetwork", \.hostNetwork), .optional("hostname", \.hostname),
         .optional("subdomain", \.subdomain)]
}

/// `Always`, `OnFailure` or `Never`.
public struct RestartPolicy: KubeStringEnum {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public static let always: RestartPolicy = "Always"
    public static let onFailure: RestartPolicy = "OnFailure"
    public static let never: RestartPolicy = "Never"
}

/// `Pod.spec.containers[]`.
public struct Container: FieldCoded, Hashable, Sendable {
    public var name = ""
    public var image: String?
    public var command: [String]?
    public var args: [String]?
    public var ports: [ContainerPort]?
    public var unknownFields = UnknownFields()

    public init() {}
    public init(name: String, image: String? = nil, command: [String]? = nil, args: [String]? = nil, ports: [ContainerPort]? = nil) {
        self.name = name; self.image = image; self.command = command; self.args = args; self.ports = ports
    }

    public static let codedFields: [CodedField<Container>] = [.always("name", \.name), .optional("image", \.image), .optional("command", \.command),
         .optional("args", \.args), .optional("ports", \.ports)]
}

/// `Pod.spec.containers[].ports[]`.
public struct ContainerPort: FieldCoded, Hashable, Sendable {
    public var name: String?
    public var hostPort: Int?
    public var containerPort = 0
    public var `protocol`: ServiceProtocol?
    public var hostIP: String?
    public var unknownFields = UnknownFields()

    public init() {}
    public init(name: String? = nil, containerPort: Int, protocol: ServiceProtocol? = nil, hostPort: Int? = nil, hostIP: String? = nil) {
        self.name = name; self.containerPort = containerPort; self.protocol = `protocol`; self.hostPort = hostPort; self.hostIP = hostIP
    }

    public static let codedFields: [CodedField<ContainerPort>] = [.optional("name", \.name), .optional("hostPort", \.hostPort), .always("containerPort", \.containerPort),
         .optional("protocol", \.protocol), .optional("hostIP", \.hostIP)]
}
