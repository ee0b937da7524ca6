import Values

/// `core/v1 Service`.
public struct Service: KubeObject, FieldCoded {
    public static let resourceInfo = ResourceInfo(group: "", version: "v1", kind: "Service", resource: "services",
                                                  singular: "service", namespaced: true, shortNames: ["svc"], categories: ["all"])
    public var apiVersion: String?
    public var kind: String?
    public var metadata = ObjectMeta()
    public var spec = ServiceSpec()
    public var status = ServiceStatus()
    public var unknownFields = UnknownFields()

    public init() {}
    public init(metadata: ObjectMeta = ObjectMeta(), spec: ServiceSpec = ServiceSpec(), status: ServiceStatus = ServiceStatus()) {
        apiVersion = Self.resourceInfo.apiVersion; kind = Self.resourceInfo.kind
        self.metadata = metadata; self.spec = spec; self.status = status
    }

    public static let codedFields: [CodedField<Service>] = [.optional("apiVersion", \.apiVersion), .optional("kind", \.kind), .always("metadata", \.metadata),
         .always("spec", \.spec), .always("status", \.status)]

    /// The effective type (`ClusterIP` when unset).
    public var type: ServiceType { spec.type ?? .clusterIP }

    /// Whether the Service is headless (`clusterIP: None`).
    public var isHeadless: Bool { spec.clusterIP == ServiceSpec.clusterIPNone }

    /// The allocated cluster IPs: `clusterIPs`, else `[clusterIP]`; empty for headless and unallocated Services.
    public var allocatedClusterIPs: [String] {
        let ips = spec.clusterIPs ?? spec.clusterIP.map { [$0] } ?? []
        return ips.filter { !$0.isEmpty && $0 != ServiceSpec.clusterIPNone }
    }
}

/// `ClusterIP`, `NodePort`, `LoadBalancer` or `ExternalName`.
public struct ServiceType: KubeStringEnum {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public static let clusterIP: ServiceType = "ClusterIP"
    public static let nodePort: ServiceType = "NodePort"
    public static let loadBalancer: ServiceType = "LoadBalancer"
    public static let externalName: ServiceType = "ExternalName"
    public static let supported: [ServiceType] = [.clusterIP, .externalName, .loadBalancer, .nodePort]
}

/// `None` or `ClientIP`.
public struct SessionAffinity: KubeStringEnum {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public static let none: SessionAffinity = "None"
    public static let clientIP: SessionAffinity = "ClientIP"
    public static let supported: [SessionAffinity] = [.clientIP, .none]
}

/// `Cluster` or `Local`: both `externalTrafficPolicy` and `internalTrafficPolicy`.
public struct ServiceTrafficPolicy: KubeStringEnum {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public static let cluster: ServiceTrafficPolicy = "Cluster"
    public static let local: ServiceTrafficPolicy = "Local"
    public static let supported: [ServiceTrafficPolicy] = [.cluster, .local]
}

/// Upstream's names for the two traffic policy types.
public typealias ServiceExternalTrafficPolicy = ServiceTrafficPolicy
public typealias ServiceInternalTrafficPolicy = ServiceTrafficPolicy

/// `SingleStack`, `PreferDualStack` or `RequireDualStack`.
public struct IPFamilyPolicy: KubeStringEnum {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public static let singleStack: IPFamilyPolicy = "SingleStack"
    public static let preferDualStack: IPFamilyPolicy = "PreferDualStack"
    public static let requireDualStack: IPFamilyPolicy = "RequireDualStack"
    public static let supported: [IPFamilyPolicy] = [.preferDualStack, .requireDualStack, .singleStack]
}

/// `Service.spec.ports[]`.
public struct ServicePort: FieldCoded, Hashable, Sendable {
    public var name: String?
    public var `protocol`: ServiceProtocol?
    public var appProtocol: String?
    public var port = 0
    public var targetPort: IntOrString?
    public var nodePort: Int?
    public var unknownFields = UnknownFields()

    public init() {}
    public init(name: String? = nil, protocol: ServiceProtocol? = nil, port: Int, targetPort: IntOrString? = nil,
                nodePort: Int? = nil, appProtocol: String? = nil) {
        self.name = name; self.protocol = `protocol`; self.port = port; self.targetPort = targetPort
        self.nodePort = nodePort; self.appProtocol = appProtocol
    }

    public static let codedFields: [CodedField<ServicePort>] = [.optional("name", \.name), .optional("protocol", \.protocol), .optional("appProtocol", \.appProtocol),
         .always("port", \.port), .optional("targetPort", \.targetPort), .optional("nodePort", \.nodePort)]
}

/// `Service.spec.sessionAffinityConfig`.
public struct SessionAffinityConfig: FieldCoded, Hashable, Sendable {
    public var clientIP: ClientIPConfig?
    public var unknownFields = UnknownFields()
    public init() {}
    public init(clientIP: ClientIPConfig? = nil) { self.clientIP = clientIP }
    public static let codedFields: [CodedField<SessionAffinityConfig>] = [.optional("clientIP", \.clientIP)]
}

/// `Service.spec.sessionAffinityConfig.clientIP`.
public struct ClientIPConfig: FieldCoded, Hashable, Sendable {
    /// Seconds of stickiness, 1–86400 (default 10800).
    public var timeoutSeconds: Int?
    public var unknownFields = UnknownFields()
    public init() {}
    public init(timeoutSeconds: Int? = nil) { self.timeoutSeconds = timeoutSeconds }
    public static let codedFields: [CodedField<ClientIPConfig>] = [.optional("timeoutSeconds", \.timeoutSeconds)]
    /// Upstream's default stickiness: 3 hours.
    public static let defaultTimeoutSeconds = 10800
}

/// `Service.status`.
public struct ServiceStatus: FieldCoded, Hashable, Sendable {
    public var loadBalancer = LoadBalancerStatus()
    public var conditions: JSONValue?
    public var unknownFields = UnknownFields()

    public init() {}
    public init(loadBalancer: LoadBalancerStatus = LoadBalancerStatus(), conditions: JSONValue? = nil) {
        self.loadBalancer = loadBalancer; self.conditions = conditions
    }

    public static let codedFields: [CodedField<ServiceStatus>] = [.always("loadBalancer", \.loadBalancer), .optional("conditions", \.conditions)]
}

/// `Service.status.loadBalancer`.
public struct LoadBalancerStatus: FieldCoded, Hashable, Sendable {
    public var ingress: [LoadBalancerIngress]?
    public var unknownFields = UnknownFields()
    public init() {}
    public init(ingress: [LoadBalancerIngress]? = nil) { self.ingress = ingress }
    public static let codedFields: [CodedField<LoadBalancerStatus>] = [.optional("ingress", \.ingress)]
}

/// `Service.status.loadBalancer.ingress[]`.
public struct LoadBalancerIngress: FieldCoded, Hashable, Sendable {
    public var ip: String?
    public var hostname: String?
    public var ipMode: LoadBalancerIPMode?
    public var ports: [PortStatus]?
    public var unknownFields = UnknownFields()

    public init() {}
    public init(ip: String? = nil, hostname: String? = nil, ipMode: LoadBalancerIPMode? = nil, ports: [PortStatus]? = nil) {
        self.ip = ip; self.hostname = hostname; self.ipMode = ipMode; self.ports = ports
    }

    public static let codedFields: [CodedField<LoadBalancerIngress>] = [.optional("ip", \.ip), .optional("hostname", \.hostname), .optional("ipMode", \.ipMode), .optional("ports", \.ports)]
}

/// `VIP` or `Proxy`.
public struct LoadBalancerIPMode: KubeStringEnum {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public static let vip: LoadBalancerIPMode = "VIP"
    public static let proxy: LoadBalancerIPMode = "Proxy"
}

/// `Service.status.loadBalancer.ingress[].ports[]`.
public struct PortStatus: FieldCoded, Hashable, Sendable {
    public var port = 0
    public var `protocol` = ServiceProtocol.tcp
    public var error: String?
    public var unknownFields = UnknownFields()

    public init() {}
    public init(port: Int, protocol: ServiceProtocol, error: String? = nil) {
        self.port = port; self.protocol = `protocol`; self.error = error
    }

    public static let codedFields: [CodedField<PortStatus>] = [.always("port", \.port), .always("protocol", \.protocol), .optional("error", \.error)]
}
