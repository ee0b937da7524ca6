import Values

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
    public var schedulerName: String?
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
         .optional("nodeName", \.nodeName), .optional("schedulerName", \.schedulerName), .optional("hostNetwork", \.hostNetwork), .optional("hostname", \.hostname),
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
    public var workingDir: String?
    public var ports: [ContainerPort]?
    public var env: [EnvVar]?
    /// Requests and limits: not enforced here (no cgroups), kept as given.
    public var resources: JSONValue?
    public var readinessProbe: Probe?
    public var livenessProbe: Probe?
    public var startupProbe: Probe?
    public var terminationMessagePath: String?
    public var terminationMessagePolicy: String?
    public var imagePullPolicy: String?
    public var unknownFields = UnknownFields()

    public init() {}
    public init(name: String, image: String? = nil, command: [String]? = nil, args: [String]? = nil, ports: [ContainerPort]? = nil) {
        self.name = name; self.image = image; self.command = command; self.args = args; self.ports = ports
    }

    public static let codedFields: [CodedField<Container>] = [.always("name", \.name), .optional("image", \.image), .optional("command", \.command),
         .optional("args", \.args), .optional("workingDir", \.workingDir), .optional("ports", \.ports), .optional("env", \.env),
         .optional("resources", \.resources), .optional("livenessProbe", \.livenessProbe), .optional("readinessProbe", \.readinessProbe),
         .optional("startupProbe", \.startupProbe), .optional("terminationMessagePath", \.terminationMessagePath),
         .optional("terminationMessagePolicy", \.terminationMessagePolicy), .optional("imagePullPolicy", \.imagePullPolicy)]

    /// Upstream's container defaults: termination message file and policy, the pull policy from the tag,
    /// and the probes' timing.
    public mutating func applyDefaults() {
        if terminationMessagePath == nil { terminationMessagePath = "/dev/termination-log" }
        if terminationMessagePolicy == nil { terminationMessagePolicy = "File" }
        if imagePullPolicy == nil, let image {
            let tag = image.split(separator: "/").last.flatMap { $0.split(separator: ":", maxSplits: 1).dropFirst().first }
            imagePullPolicy = (tag == nil || tag == "latest") && !image.contains("@") ? "Always" : "IfNotPresent"
        }
        readinessProbe?.applyDefaults()
        livenessProbe?.applyDefaults()
        startupProbe?.applyDefaults()
    }
}

/// `Pod.spec.containers[].env[]`: a literal `value`; `valueFrom` is kept but not resolved.
public struct EnvVar: FieldCoded, Hashable, Sendable {
    public var name = ""
    public var value: String?
    public var unknownFields = UnknownFields()
    public init() {}
    public init(name: String, value: String?) { self.name = name; self.value = value }
    public static let codedFields: [CodedField<EnvVar>] = [.always("name", \.name), .optional("value", \.value)]
}

/// A readiness, liveness or startup probe: one handler and its timing.
public struct Probe: FieldCoded, Hashable, Sendable {
    public struct ExecAction: FieldCoded, Hashable, Sendable {
        public var command: [String]?
        public var unknownFields = UnknownFields()
        public init() {}
        public static let codedFields: [CodedField<ExecAction>] = [.optional("command", \.command)]
    }
    public struct TCPSocketAction: FieldCoded, Hashable, Sendable {
        public var port = IntOrString.int(0)
        public var host: String?
        public var unknownFields = UnknownFields()
        public init() {}
        public static let codedFields: [CodedField<TCPSocketAction>] = [.always("port", \.port), .optional("host", \.host)]
    }
    public struct HTTPGetAction: FieldCoded, Hashable, Sendable {
        public var path: String?
        public var port = IntOrString.int(0)
        public var host: String?
        public var scheme: String?
        public var unknownFields = UnknownFields()
        public init() {}
        public static let codedFields: [CodedField<HTTPGetAction>] = [.optional("path", \.path), .always("port", \.port),
             .optional("host", \.host), .optional("scheme", \.scheme)]
    }

    public var exec: ExecAction?
    public var tcpSocket: TCPSocketAction?
    public var httpGet: HTTPGetAction?
    public var initialDelaySeconds: Int?
    public var timeoutSeconds: Int?
    public var periodSeconds: Int?
    public var successThreshold: Int?
    public var failureThreshold: Int?
    public var unknownFields = UnknownFields()

    public init() {}

    public static let codedFields: [CodedField<Probe>] = [.optional("exec", \.exec), .optional("tcpSocket", \.tcpSocket),
         .optional("httpGet", \.httpGet), .optional("initialDelaySeconds", \.initialDelaySeconds), .optional("timeoutSeconds", \.timeoutSeconds),
         .optional("periodSeconds", \.periodSeconds), .optional("successThreshold", \.successThreshold),
         .optional("failureThreshold", \.failureThreshold)]

    /// Upstream's `SetDefaults_Probe` and `SetDefaults_HTTPGetAction`: 1 s timeout, every 10 s, 1 success, 3 failures.
    public mutating func applyDefaults() {
        if timeoutSeconds == nil || timeoutSeconds == 0 { timeoutSeconds = 1 }
        if periodSeconds == nil || periodSeconds == 0 { periodSeconds = 10 }
        if successThreshold == nil || successThreshold == 0 { successThreshold = 1 }
        if failureThreshold == nil || failureThreshold == 0 { failureThreshold = 3 }
        if httpGet != nil {
            if (httpGet?.path ?? "").isEmpty { httpGet?.path = "/" }
            if (httpGet?.scheme ?? "").isEmpty { httpGet?.scheme = "HTTP" }
        }
    }
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
