import KubeAPI
import Values

/// What the proxy needs to know about one Service port (both IP families; the compiler picks one).
public struct ServicePortInfo: Hashable, Sendable {
    public var name: ServicePortName
    /// Cluster IPs (one per family at most).
    public var clusterIPs: [IPAddress]
    public var port: UInt16
    /// Node port, if any.
    public var nodePort: UInt16?
    public var externalIPs: [IPAddress]
    /// Load-balancer ingress IPs (excluding `ipMode: Proxy`).
    public var loadBalancerIPs: [IPAddress]
    public var loadBalancerSourceRanges: [CIDR]
    /// ClientIP affinity timeout in seconds, or nil without session affinity.
    public var affinityTimeoutSeconds: Int?
    /// `externalTrafficPolicy: Local` (only meaningful for NodePort/LoadBalancer Services).
    public var externalPolicyLocal: Bool
    /// `internalTrafficPolicy: Local`.
    public var internalPolicyLocal: Bool
    public var healthCheckNodePort: Int?

    public init(name: ServicePortName, clusterIPs: [IPAddress], port: UInt16, nodePort: UInt16? = nil,
                externalIPs: [IPAddress] = [], loadBalancerIPs: [IPAddress] = [], loadBalancerSourceRanges: [CIDR] = [],
                affinityTimeoutSeconds: Int? = nil, externalPolicyLocal: Bool = false, internalPolicyLocal: Bool = false,
                healthCheckNodePort: Int? = nil) {
        self.name = name; self.clusterIPs = clusterIPs; self.port = port; self.nodePort = nodePort
        self.externalIPs = externalIPs; self.loadBalancerIPs = loadBalancerIPs
        self.loadBalancerSourceRanges = loadBalancerSourceRanges; self.affinityTimeoutSeconds = affinityTimeoutSeconds
        self.externalPolicyLocal = externalPolicyLocal; self.internalPolicyLocal = internalPolicyLocal
        self.healthCheckNodePort = healthCheckNodePort
    }

    /// Whether NodePort, externalIP or load-balancer traffic reaches this port.
    public var isExternallyAccessible: Bool { nodePort != nil || !externalIPs.isEmpty || !loadBalancerIPs.isEmpty }

    /// Whether some traffic uses endpoints on any node (upstream `UsesClusterEndpoints`).
    public var usesClusterEndpoints: Bool { !internalPolicyLocal || (isExternallyAccessible && !externalPolicyLocal) }

    /// Whether some traffic uses only this node's endpoints (upstream `UsesLocalEndpoints`).
    public var usesLocalEndpoints: Bool { internalPolicyLocal || (isExternallyAccessible && externalPolicyLocal) }

    /// The ports of `service` the proxy handles; empty for headless, ExternalName and unallocated Services.
    public static func ports(of service: Service) -> [ServicePortInfo] {
        guard service.type != .externalName, !service.isHeadless else { return [] }
        let clusterIPs = service.allocatedClusterIPs.compactMap { IPAddress($0) }
        guard !clusterIPs.isEmpty else { return [] }
        let spec = service.spec
        let isExternalType = service.type == .nodePort || service.type == .loadBalancer
        let externalIPs = (spec.externalIPs ?? []).compactMap { IPAddress($0) }
        var lbIPs: [IPAddress] = []
        if service.type == .loadBalancer {
            for ingress in service.status.loadBalancer.ingress ?? [] where ingress.ipMode != .proxy {
                if let ip = ingress.ip.flatMap({ IPAddress($0) }) { lbIPs.append(ip) }
            }
        }
        let ranges = (spec.loadBalancerSourceRanges ?? []).compactMap { CIDR($0.trimmingSpaces) }
        let affinity = spec.sessionAffinity == .clientIP
            ? (spec.sessionAffinityConfig?.clientIP?.timeoutSeconds ?? ClientIPConfig.defaultTimeoutSeconds) : nil
        let etpLocal = isExternalType && spec.externalTrafficPolicy == .local
        return (spec.ports ?? []).compactMap { port in
            guard let proto = NFTL4Proto(port.protocol), let number = UInt16(exactly: port.port), number > 0 else { return nil }
            let name = ServicePortName(namespace: service.metadata.namespace ?? "default", name: service.metadata.name ?? "",
                                       port: port.name ?? "", protocol: proto)
            let nodePort = isExternalType ? port.nodePort.flatMap { UInt16(exactly: $0) }.flatMap { $0 > 0 ? $0 : nil } : nil
            return ServicePortInfo(name: name, clusterIPs: clusterIPs, port: number, nodePort: nodePort,
                                   externalIPs: externalIPs, loadBalancerIPs: lbIPs,
                                   loadBalancerSourceRanges: lbIPs.isEmpty ? [] : ranges,
                                   affinityTimeoutSeconds: affinity, externalPolicyLocal: etpLocal,
                                   internalPolicyLocal: spec.internalTrafficPolicy == .local,
                                   healthCheckNodePort: etpLocal ? spec.healthCheckNodePort : nil)
        }
    }
}

extension String {
    var trimmingSpaces: String {
        String(drop { $0 == " " }.reversed().drop { $0 == " " }.reversed())
    }
}
