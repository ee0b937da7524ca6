/// `core/v1 Endpoints`: the pre-EndpointSlice view of a Service's backends, still read by many tools
/// (`kubectl get endpoints`, Prometheus' `endpoints` discovery role). The control plane mirrors it from
/// the Service's EndpointSlices.
public struct Endpoints: KubeObject, FieldCoded {
    public static let resourceInfo = ResourceInfo(group: "", version: "v1", kind: "Endpoints", resource: "endpoints",
                                                  singular: "endpoints", namespaced: true, shortNames: ["ep"])
    /// Set when more than `maxAddresses` addresses had to be left out (upstream's annotation).
    public static let overCapacityAnnotation = "endpoints.kubernetes.io/over-capacity"
    /// Label upstream puts on the Endpoints of headless Services.
    public static let headlessLabel = "service.kubernetes.io/headless"
    /// Upstream's limit on the addresses of one Endpoints object.
    public static let maxAddresses = 1000

    public var apiVersion: String?
    public var kind: String?
    public var metadata = ObjectMeta()
    public var subsets: [EndpointSubset]?
    public var unknownFields = UnknownFields()

    public init() {}
    public init(metadata: ObjectMeta, subsets: [EndpointSubset]? = nil) {
        apiVersion = Self.resourceInfo.apiVersion; kind = Self.resourceInfo.kind
        self.metadata = metadata; self.subsets = subsets
    }

    public static let codedFields: [CodedField<Endpoints>] = [.optional("apiVersion", \.apiVersion), .optional("kind", \.kind),
        .always("metadata", \.metadata), .optional("subsets", \.subsets)]
}

/// `Endpoints.subsets[]`: addresses that all serve the same ports. The port type is the one
/// EndpointSlices use: the two APIs' ports have the same fields.
public struct EndpointSubset: FieldCoded, Hashable, Sendable {
    public var addresses: [EndpointAddress]?
    public var notReadyAddresses: [EndpointAddress]?
    public var ports: [EndpointPort]?
    public var unknownFields = UnknownFields()

    public init() {}
    public init(addresses: [EndpointAddress]? = nil, notReadyAddresses: [EndpointAddress]? = nil, ports: [EndpointPort]? = nil) {
        self.addresses = addresses; self.notReadyAddresses = notReadyAddresses; self.ports = ports
    }

    public static let codedFields: [CodedField<EndpointSubset>] = [.optional("addresses", \.addresses),
        .optional("notReadyAddresses", \.notReadyAddresses), .optional("ports", \.ports)]
}

/// `Endpoints.subsets[].addresses[]`.
public struct EndpointAddress: FieldCoded, Hashable, Sendable {
    public var ip = ""
    public var hostname: String?
    public var nodeName: String?
    public var targetRef: ObjectReference?
    public var unknownFields = UnknownFields()

    public init() {}
    public init(ip: String, hostname: String? = nil, nodeName: String? = nil, targetRef: ObjectReference? = nil) {
        self.ip = ip; self.hostname = hostname; self.nodeName = nodeName; self.targetRef = targetRef
    }

    public static let codedFields: [CodedField<EndpointAddress>] = [.always("ip", \.ip), .optional("hostname", \.hostname),
        .optional("nodeName", \.nodeName), .optional("targetRef", \.targetRef)]
}
