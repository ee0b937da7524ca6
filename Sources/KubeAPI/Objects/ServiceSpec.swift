/// `Service.spec`: every field kube-proxy and CoreDNS read.
public struct ServiceSpec: FieldCoded, Hashable, Sendable {
    /// The `clusterIP` value of a headless Service.
    public static let clusterIPNone = "None"

    public var ports: [ServicePort]?
    public var selector: [String: String]?
    public var clusterIP: String?
    public var clusterIPs: [String]?
    public var type: ServiceType?
    public var externalIPs: [String]?
    public var sessionAffinity: SessionAffinity?
    public var loadBalancerIP: String?
    public var loadBalancerSourceRanges: [String]?
    public var externalName: String?
    public var externalTrafficPolicy: ServiceTrafficPolicy?
    public var healthCheckNodePort: Int?
    public var publishNotReadyAddresses: Bool?
    public var sessionAffinityConfig: SessionAffinityConfig?
    public var ipFamilies: [IPFamily]?
    public var ipFamilyPolicy: IPFamilyPolicy?
    public var allocateLoadBalancerNodePorts: Bool?
    public var loadBalancerClass: String?
    public var internalTrafficPolicy: ServiceTrafficPolicy?
    public var trafficDistribution: String?
    public var unknownFields = UnknownFields()

    public init() {}
    public init(type: ServiceType? = nil, ports: [ServicePort]? = nil, selector: [String: String]? = nil,
                clusterIP: String? = nil, clusterIPs: [String]? = nil, ipFamilies: [IPFamily]? = nil,
                ipFamilyPolicy: IPFamilyPolicy? = nil, externalIPs: [String]? = nil,
                sessionAffinity: SessionAffinity? = nil, sessionAffinityConfig: SessionAffinityConfig? = nil,
                loadBalancerIP: String? = nil, loadBalancerSourceRanges: [String]? = nil, loadBalancerClass: String? = nil,
                allocateLoadBalancerNodePorts: Bool? = nil, externalName: String? = nil,
                externalTrafficPolicy: ServiceTrafficPolicy? = nil, internalTrafficPolicy: ServiceTrafficPolicy? = nil,
                healthCheckNodePort: Int? = nil, publishNotReadyAddresses: Bool? = nil, trafficDistribution: String? = nil) {
        self.type = type; self.ports = ports; self.selector = selector; self.clusterIP = clusterIP
        self.clusterIPs = clusterIPs; self.ipFamilies = ipFamilies; self.ipFamilyPolicy = ipFamilyPolicy
        self.externalIPs = externalIPs; self.sessionAffinity = sessionAffinity
        self.sessionAffinityConfig = sessionAffinityConfig; self.loadBalancerIP = loadBalancerIP
        self.loadBalancerSourceRanges = loadBalancerSourceRanges; self.loadBalancerClass = loadBalancerClass
        self.allocateLoadBalancerNodePorts = allocateLoadBalancerNodePorts; self.externalName = externalName
        self.externalTrafficPolicy = externalTrafficPolicy; self.internalTrafficPolicy = internalTrafficPolicy
        self.healthCheckNodePort = healthCheckNodePort; self.publishNotReadyAddresses = publishNotReadyAddresses
        self.trafficDistribution = trafficDistribution
    }

    public static let codedFields: [CodedField<ServiceSpec>] = [.optional("ports", \.ports), .optional("selector", \.selector), .optional("clusterIP", \.clusterIP),
         .optional("clusterIPs", \.clusterIPs), .optional("type", \.type), .optional("externalIPs", \.externalIPs),
         .optional("sessionAffinity", \.sessionAffinity), .optional("loadBalancerIP", \.loadBalancerIP),
         .optional("loadBalancerSourceRanges", \.loadBalancerSourceRanges), .optional("externalName", \.externalName),
         .optional("externalTrafficPolicy", \.externalTrafficPolicy), .optional("healthCheckNodePort", \.healthCheckNodePort),
         .optional("publishNotReadyAddresses", \.publishNotReadyAddresses),
         .optional("sessionAffinityConfig", \.sessionAffinityConfig), .optional("ipFamilies", \.ipFamilies),
         .optional("ipFamilyPolicy", \.ipFamilyPolicy),
         .optional("allocateLoadBalancerNodePorts", \.allocateLoadBalancerNodePorts),
         .optional("loadBalancerClass", \.loadBalancerClass), .optional("internalTrafficPolicy", \.internalTrafficPolicy),
         .optional("trafficDistribution", \.trafficDistribution)]
}
