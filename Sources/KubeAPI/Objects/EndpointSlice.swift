/// `discovery.k8s.io/v1 EndpointSlice`.
public struct EndpointSlice: KubeObject, FieldCoded {
    public static let resourceInfo = ResourceInfo(group: "discovery.k8s.io", version: "v1", kind: "EndpointSlice",
                                                  resource: "endpointslices", singular: "endpointslice", namespaced: true)
    /// The label naming the Service a slice belongs to.
    public static let serviceNameLabel = "kubernetes.io/service-name"
    /// The label naming the controller that manages a slice.
    public static let managedByLabel = "endpointslice.kubernetes.io/managed-by"

    public var apiVersion: String?
    public var kind: String?
    public var metadata = ObjectMeta()
    public var addressType = AddressType(rawValue: "")
    public var endpoints: [Endpoint] = []
    public var ports: [EndpointPort]?
    public var unknownFields = UnknownFields()

    public init() {}
    public init(metadata: ObjectMeta = ObjectMeta(), addressType: AddressType, endpoints: [Endpoint] = [], ports: [EndpointPort]? = nil) {
        apiVersion = Self.resourceInfo.apiVersion; kind = Self.resourceInfo.kind
        self.metadata = metadata; self.addressType = addressType; self.endpoints = endpoints; self.ports = ports
    }

    public static let codedFields: [CodedField<EndpointSlice>] = [.optional("apiVersion", \.apiVersion), .optional("kind", \.kind), .always("metadata", \.metadata),
         .always("addressType", \.addressType), .always("endpoints", \.endpoints), .optional("ports", \.ports)]
}

/// `IPv4`, `IPv6` or `FQDN`.
public struct AddressType: KubeStringEnum {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public static let ipv4: AddressType = "IPv4"
    public static let ipv6: AddressType = "IPv6"
    public static let fqdn: AddressType = "FQDN"
    public static let supported: [AddressType] = [.fqdn, .ipv4, .ipv6]
}

/// `EndpointSlice.endpoints[]`.
public struct Endpoint: FieldCoded, Hashable, Sendable {
    public var addresses: [String] = []
    public var conditions = EndpointConditions()
    public var hostname: String?
    public var targetRef: ObjectReference?
    public var nodeName: String?
    public var zone: String?
    public var hints: EndpointHints?
    public var unknownFields = UnknownFields()

    public init() {}
    public init(addresses: [String], conditions: EndpointConditions = EndpointConditions(), hostname: String? = nil,
                targetRef: ObjectReference? = nil, nodeName: String? = nil, zone: String? = nil, hints: EndpointHints? = nil) {
        self.addresses = addresses; self.conditions = conditions; self.hostname = hostname; self.targetRef = targetRef
        self.nodeName = nodeName; self.zone = zone; self.hints = hints
    }

    public static let codedFields: [CodedField<Endpoint>] = [.always("addresses", \.addresses), .always("conditions", \.conditions), .optional("hostname", \.hostname),
         .optional("targetRef", \.targetRef), .optional("nodeName", \.nodeName), .optional("zone", \.zone),
         .optional("hints", \.hints)]
}

/// `EndpointSlice.endpoints[].conditions`. Upstream: nil `ready` means ready; nil `serving` means `ready`.
public struct EndpointConditions: FieldCoded, Hashable, Sendable {
    public var ready: Bool?
    public var serving: Bool?
    public var terminating: Bool?
    public var unknownFields = UnknownFields()

    public init() {}
    public init(ready: Bool? = nil, serving: Bool? = nil, terminating: Bool? = nil) {
        self.ready = ready; self.serving = serving; self.terminating = terminating
    }

    public static let codedFields: [CodedField<EndpointConditions>] = [.optional("ready", \.ready), .optional("serving", \.serving), .optional("terminating", \.terminating)]

    /// `ready`, with upstream's nil-means-true rule.
    public var isReady: Bool { ready ?? true }
    /// `serving`, falling back to `ready` when unset.
    public var isServing: Bool { serving ?? isReady }
    public var isTerminating: Bool { terminating ?? false }
}

/// `EndpointSlice.endpoints[].hints`: topology-aware routing.
public struct EndpointHints: FieldCoded, Hashable, Sendable {
    public var forZones: [NamedHint]?
    public var forNodes: [NamedHint]?
    public var unknownFields = UnknownFields()

    public init() {}
    public init(forZones: [NamedHint]? = nil, forNodes: [NamedHint]? = nil) { self.forZones = forZones; self.forNodes = forNodes }

    public static let codedFields: [CodedField<EndpointHints>] = [.optional("forZones", \.forZones), .optional("forNodes", \.forNodes)]
}

/// `ForZone` / `ForNode`: `{"name": …}`.
public struct NamedHint: FieldCoded, Hashable, Sendable {
    public var name = ""
    public var unknownFields = UnknownFields()
    public init() {}
    public init(name: String) { self.name = name }
    public static let codedFields: [CodedField<NamedHint>] = [.always("name", \.name)]
}

/// `EndpointSlice.ports[]`. Every field is optional upstream (nil port means "all ports").
public struct EndpointPort: FieldCoded, Hashable, Sendable {
    public var name: String?
    public var `protocol`: ServiceProtocol?
    public var port: Int?
    public var appProtocol: String?
    public var unknownFields = UnknownFields()

    public init() {}
    public init(name: String? = nil, protocol: ServiceProtocol? = nil, port: Int? = nil, appProtocol: String? = nil) {
        self.name = name; self.protocol = `protocol`; self.port = port; self.appProtocol = appProtocol
    }

    public static let codedFields: [CodedField<EndpointPort>] = [.optional("name", \.name), .optional("protocol", \.protocol), .optional("port", \.port),
         .optional("appProtocol", \.appProtocol)]
}
