import KubeAPI
@testable import ProxyCore
import Values

/// Small builders for API objects and a representative cluster used across ProxyCore tests.
enum Fixtures {
    static let nodeName = "node-a"
    static let nodeIP = ip("192.168.0.10")
    static let nodeIP6 = ip("fd00::10")

    static func ip(_ s: String) -> IPAddress {
        guard let a = IPAddress(s) else { preconditionFailure("bad IP \(s)") }
        return a
    }

    static func cidr(_ s: String) -> CIDR {
        guard let c = CIDR(s) else { preconditionFailure("bad CIDR \(s)") }
        return c
    }

    static func service(_ ns: String, _ name: String, type: ServiceType = .clusterIP, clusterIPs: [String],
                        ports: [ServicePort], externalIPs: [String]? = nil, lbIPs: [String] = [],
                        sourceRanges: [String]? = nil, affinity: Int? = nil, etpLocal: Bool = false, itpLocal: Bool = false,
                        labels: [String: String]? = nil) -> Service {
        var spec = ServiceSpec(type: type, ports: ports, clusterIP: clusterIPs.first, clusterIPs: clusterIPs,
                               externalIPs: externalIPs, loadBalancerSourceRanges: sourceRanges)
        if let affinity {
            spec.sessionAffinity = .clientIP
            spec.sessionAffinityConfig = SessionAffinityConfig(clientIP: ClientIPConfig(timeoutSeconds: affinity))
        }
        if etpLocal { spec.externalTrafficPolicy = .local; spec.healthCheckNodePort = 32000 }
        if itpLocal { spec.internalTrafficPolicy = .local }
        let status = ServiceStatus(loadBalancer: LoadBalancerStatus(ingress: lbIPs.isEmpty ? nil : lbIPs.map { LoadBalancerIngress(ip: $0) }))
        return Service(metadata: ObjectMeta(name: name, namespace: ns, labels: labels), spec: spec, status: status)
    }

    /// An endpoint: `(address, node, ready, serving, terminating)`.
    struct EP { var ip: String; var node: String?; var ready = true; var serving: Bool? = nil; var terminating = false }

    static func slice(_ ns: String, _ service: String, _ suffix: String = "1", family: AddressType = .ipv4,
                      ports: [(String?, Int, ServiceProtocol)], endpoints: [EP], labels: [String: String] = [:]) -> EndpointSlice {
        var allLabels = labels
        allLabels[EndpointSlice.serviceNameLabel] = service
        let eps = endpoints.map { e in
            Endpoint(addresses: [e.ip], conditions: EndpointConditions(ready: e.ready, serving: e.serving, terminating: e.terminating),
                     nodeName: e.node)
        }
        return EndpointSlice(metadata: ObjectMeta(name: "\(service)-\(suffix)", namespace: ns, labels: allLabels),
                             addressType: family, endpoints: eps,
                             ports: ports.map { EndpointPort(name: $0.0, protocol: $0.2, port: $0.1) })
    }

    static let node = NodeInfo(name: nodeName, nodeIPs: [nodeIP, nodeIP6])
    static let config = ProxyConfig(clusterCIDRs: [cidr("10.244.0.0/16"), cidr("fd00:244::/64")],
                                    serviceCIDRs: [cidr("10.96.0.0/16"), cidr("fd00:96::/112")])

    /// A cluster exercising every feature: ClusterIP, NodePort, LoadBalancer with source ranges, externalIPs,
    /// affinity, traffic policies, terminating endpoints, UDP, SCTP, dual-stack, and objects the proxy skips.
    static func cluster() -> (services: [Service], slices: [EndpointSlice]) {
        let tcp80 = ServicePort(name: "http", protocol: .tcp, port: 80, targetPort: 8080)
        let services = [
            service("default", "web", clusterIPs: ["10.96.0.10"], ports: [tcp80]),
            service("default", "empty", clusterIPs: ["10.96.0.11"], ports: [tcp80]),
            service("default", "np", type: .nodePort, clusterIPs: ["10.96.0.12"],
                    ports: [ServicePort(name: "http", protocol: .tcp, port: 80, nodePort: 30080)]),
            service("default", "lb", type: .loadBalancer, clusterIPs: ["10.96.0.13"],
                    ports: [ServicePort(name: "https", protocol: .tcp, port: 443, nodePort: 30443)],
                    lbIPs: ["203.0.113.5"], sourceRanges: ["198.51.100.0/24"]),
            service("default", "ext", clusterIPs: ["10.96.0.14"], ports: [tcp80], externalIPs: ["203.0.113.9"]),
            service("default", "sticky", clusterIPs: ["10.96.0.15"], ports: [tcp80], affinity: 600),
            service("default", "local", type: .nodePort, clusterIPs: ["10.96.0.16"],
                    ports: [ServicePort(name: "http", protocol: .tcp, port: 80, nodePort: 30016)], etpLocal: true),
            service("default", "local-none", type: .nodePort, clusterIPs: ["10.96.0.17"],
                    ports: [ServicePort(name: "http", protocol: .tcp, port: 80, nodePort: 30017)], etpLocal: true),
            service("default", "itp", clusterIPs: ["10.96.0.18"], ports: [tcp80], itpLocal: true),
            service("default", "itp-none", clusterIPs: ["10.96.0.19"], ports: [tcp80], itpLocal: true),
            service("default", "term", clusterIPs: ["10.96.0.20"], ports: [tcp80]),
            service("kube-system", "dns", clusterIPs: ["10.96.0.53"],
                    ports: [ServicePort(name: "dns", protocol: .udp, port: 53), ServicePort(name: "dns-tcp", protocol: .tcp, port: 53)]),
            service("default", "sctp", clusterIPs: ["10.96.0.21"], ports: [ServicePort(name: "s", protocol: .sctp, port: 9999)]),
            service("default", "dual", clusterIPs: ["10.96.0.22", "fd00:96::22"], ports: [tcp80]),
            service("default", "big", clusterIPs: ["10.96.0.24"], ports: [tcp80]),
            service("default", "headless", clusterIPs: ["None"], ports: [tcp80]),
            service("default", "other-proxy", clusterIPs: ["10.96.0.23"], ports: [tcp80],
                    labels: [ProxyState.serviceProxyNameLabel: "elsewhere"]),
        ]
        let http: [(String?, Int, ServiceProtocol)] = [("http", 8080, .tcp)]
        let slices = [
            slice("default", "web", ports: http, endpoints: [EP(ip: "10.244.1.5", node: "node-b"), EP(ip: "10.244.0.5", node: nodeName)]),
            slice("default", "web", "2", ports: http, endpoints: [EP(ip: "10.244.2.5", node: "node-c"), EP(ip: "10.244.1.5", node: "node-b")]),
            slice("default", "empty", ports: http, endpoints: []),
            slice("default", "np", ports: http, endpoints: [EP(ip: "10.244.1.6", node: "node-b")]),
            slice("default", "lb", ports: [("https", 8443, .tcp)], endpoints: [EP(ip: "10.244.1.7", node: "node-b")]),
            slice("default", "ext", ports: http, endpoints: [EP(ip: "10.244.1.8", node: "node-b")]),
            slice("default", "sticky", ports: http, endpoints: [EP(ip: "10.244.1.9", node: "node-b"), EP(ip: "10.244.2.9", node: "node-c")]),
            slice("default", "local", ports: http, endpoints: [EP(ip: "10.244.0.16", node: nodeName), EP(ip: "10.244.1.16", node: "node-b")]),
            slice("default", "local-none", ports: http, endpoints: [EP(ip: "10.244.1.17", node: "node-b")]),
            slice("default", "itp", ports: http, endpoints: [EP(ip: "10.244.0.18", node: nodeName), EP(ip: "10.244.1.18", node: "node-b")]),
            slice("default", "itp-none", ports: http, endpoints: [EP(ip: "10.244.1.19", node: "node-b")]),
            slice("default", "term", ports: http, endpoints: [
                EP(ip: "10.244.1.20", node: "node-b", ready: false, serving: true, terminating: true),
                EP(ip: "10.244.2.20", node: "node-c", ready: false, serving: false, terminating: true),
            ]),
            slice("kube-system", "dns", ports: [("dns", 53, .udp), ("dns-tcp", 53, .tcp)],
                  endpoints: [EP(ip: "10.244.0.53", node: nodeName)]),
            slice("default", "sctp", ports: [("s", 9999, .sctp)], endpoints: [EP(ip: "10.244.1.21", node: "node-b")]),
            slice("default", "dual", ports: http, endpoints: [EP(ip: "10.244.1.22", node: "node-b")]),
            slice("default", "dual", "v6", family: .ipv6, ports: http, endpoints: [EP(ip: "fd00:244::22", node: "node-b")]),
            // More endpoints than RulesetCompiler.elementLimit: a chain of its own, picked through a numgen verdict map.
            slice("default", "big", ports: http, endpoints: (1...40).map { EP(ip: "10.244.4.\($0)", node: "node-b") }),
            slice("default", "headless", ports: http, endpoints: [EP(ip: "10.244.1.30", node: "node-b")],
                  labels: [ProxyState.headlessLabel: ""]),
            slice("default", "other-proxy", ports: http, endpoints: [EP(ip: "10.244.1.31", node: "node-b")],
                  labels: [ProxyState.serviceProxyNameLabel: "elsewhere"]),
        ]
        return (services, slices)
    }

    static func clusterState() -> ProxyState {
        let c = cluster()
        return ProxyState(services: c.services, endpointSlices: c.slices)
    }

    static func compile(_ state: ProxyState, config: ProxyConfig = config, node: NodeInfo = node, listeners: ListenerPorts? = nil) -> NFTRuleset {
        RulesetCompiler(config: config, node: node, listeners: listeners).compile(state)
    }

    /// Userspace mode's listener ports for `state` (default range).
    static func listenerPorts(_ state: ProxyState, node: NodeInfo = node) -> ListenerPorts {
        var ports = ListenerPorts(range: 20000...29999)
        ports.update(state.listenerSpecs(node: node).keys)
        return ports
    }
}
