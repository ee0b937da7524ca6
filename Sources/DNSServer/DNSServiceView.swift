import KubeAPI

/// A Service as the DNS server keeps it: the fields its names depend on, stored flat. The informer caches
/// one of these per Service (about a fifth of a decoded `Service`); `service` rebuilds the `Service` the
/// index builder reads, for the moment of a rebuild.
public struct DNSServiceView: KubeObject {
    public static var resourceInfo: ResourceInfo { Service.resourceInfo }

    public struct Port: Codable, Hashable, Sendable {
        public var name: String?
        public var `protocol`: ServiceProtocol?
        public var port: Int
    }

    public var name: String?
    public var namespace: String?
    public var resourceVersion: String?
    public var type: ServiceType?
    public var clusterIPs: [String]
    public var externalName: String?
    public var publishNotReadyAddresses: Bool?
    public var ports: [Port]

    public init(_ service: Service) {
        name = service.metadata.name
        namespace = service.metadata.namespace
        resourceVersion = service.metadata.resourceVersion
        type = service.spec.type
        clusterIPs = service.spec.clusterIPs ?? service.spec.clusterIP.map { [$0] } ?? []
        externalName = service.spec.externalName
        publishNotReadyAddresses = service.spec.publishNotReadyAddresses
        ports = (service.spec.ports ?? []).map { Port(name: $0.name, protocol: $0.protocol, port: $0.port) }
    }

    /// The Service the index builder reads (only these fields set).
    public var service: Service {
        var spec = ServiceSpec()
        spec.type = type
        spec.clusterIP = clusterIPs.first
        spec.clusterIPs = clusterIPs.isEmpty ? nil : clusterIPs
        spec.externalName = externalName
        spec.publishNotReadyAddresses = publishNotReadyAddresses
        spec.ports = ports.map { ServicePort(name: $0.name, protocol: $0.protocol, port: $0.port) }
        return Service(metadata: metadata, spec: spec)
    }

    // MARK: KubeObject

    public var apiVersion: String? {
        get { Self.resourceInfo.apiVersion }
        set {}
    }

    public var kind: String? {
        get { Self.resourceInfo.kind }
        set {}
    }

    public var metadata: ObjectMeta {
        get {
            var m = ObjectMeta()
            m.name = name; m.namespace = namespace; m.resourceVersion = resourceVersion
            return m
        }
        set {
            name = newValue.name; namespace = newValue.namespace; resourceVersion = newValue.resourceVersion
        }
    }

    /// Decodes a Service (its JSON as the API serves it) keeping only the fields above.
    public init(from decoder: any Decoder) throws {
        self.init(try Service(from: decoder))
    }

    public func encode(to encoder: any Encoder) throws { try service.encode(to: encoder) }
}
