import KubeAPI
import Values

/// Services and endpoints as the proxy sees them: the compiler's input.
public struct ProxyState: Hashable, Sendable {
    public var services: [ServicePortName: ServicePortInfo]
    /// Endpoints per Service port, deduplicated by `ip:port`, sorted.
    public var endpoints: [ServicePortName: [EndpointInfo]]

    public init(services: [ServicePortName: ServicePortInfo] = [:], endpoints: [ServicePortName: [EndpointInfo]] = [:]) {
        self.services = services; self.endpoints = endpoints
    }

    /// Services labelled with this are handled by another proxy.
    public static let serviceProxyNameLabel = "service.kubernetes.io/service-proxy-name"
    /// Slices of headless Services carry this label.
    public static let headlessLabel = "service.kubernetes.io/headless"

    /// Builds the state from API objects, skipping what upstream kube-proxy skips (headless and ExternalName
    /// Services, objects labelled `service.kubernetes.io/service-proxy-name`, FQDN slices) and merging the
    /// slices of each Service (the first copy of an `ip:port` wins unless a later one is ready and it is not).
    public init(services: [Service], endpointSlices: [EndpointSlice]) {
        var ports: [ServicePortName: ServicePortInfo] = [:]
        for service in services where service.metadata.labels?[Self.serviceProxyNameLabel] == nil {
            for info in ServicePortInfo.ports(of: service) { ports[info.name] = info }
        }
        struct EndpointKey: Hashable { var address: IPAddress; var port: UInt16 }
        var merged: [ServicePortName: [EndpointKey: EndpointInfo]] = [:]
        for slice in endpointSlices {
            let labels = slice.metadata.labels ?? [:]
            guard labels[Self.serviceProxyNameLabel] == nil, labels[Self.headlessLabel] == nil,
                  let serviceName = labels[EndpointSlice.serviceNameLabel],
                  slice.addressType == .ipv4 || slice.addressType == .ipv6 else { continue }
            for port in slice.ports ?? [] {
                guard let proto = NFTL4Proto(port.protocol), let number = port.port.flatMap({ UInt16(exactly: $0) }),
                      number > 0 else { continue }
                let name = ServicePortName(namespace: slice.metadata.namespace ?? "default", name: serviceName,
                                           port: port.name ?? "", protocol: proto)
                for endpoint in slice.endpoints {
                    guard let first = endpoint.addresses.first, let ip = IPAddress(first) else { continue }
                    let c = endpoint.conditions
                    let info = EndpointInfo(address: ip, port: number, ready: c.isReady, serving: c.isServing,
                                            terminating: c.isTerminating, nodeName: endpoint.nodeName, zone: endpoint.zone)
                    let key = EndpointKey(address: ip, port: number)
                    if let existing = merged[name]?[key], existing.ready || !info.ready { continue }
                    merged[name, default: [:]][key] = info
                }
            }
        }
        self.services = ports
        self.endpoints = merged.mapValues { $0.values.sorted { ($0.address, $0.port) < ($1.address, $1.port) } }
    }
}

/// This node as the proxy sees it.
public struct NodeInfo: Hashable, Sendable {
    public var name: String
    /// The node's primary IPs (one per family), used for loadBalancerSourceRanges from the node.
    public var nodeIPs: [IPAddress]
    /// Every local address that may accept NodePort traffic (matched against `--nodeport-addresses`).
    public var addresses: [IPAddress]
    public var labels: [String: String]

    public init(name: String, nodeIPs: [IPAddress] = [], addresses: [IPAddress]? = nil, labels: [String: String] = [:]) {
        self.name = name; self.nodeIPs = nodeIPs; self.addresses = addresses ?? nodeIPs; self.labels = labels
    }
}
