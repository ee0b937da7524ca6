import KubeAPI
@testable import DNSCore

/// A stub cluster like CoreDNS's kubernetes plugin test fixture: services in `testns`, a headless
/// service with IPv4 and IPv6 slices, ExternalName services and one pod.
enum ZoneFixture {
    static func service(_ name: String, _ ns: String = "testns", clusterIPs: [String] = [], type: ServiceType? = nil,
                        externalName: String? = nil, ports: [ServicePort] = [], publishNotReady: Bool? = nil) -> Service {
        var spec = ServiceSpec()
        spec.clusterIP = clusterIPs.first
        spec.clusterIPs = clusterIPs.isEmpty ? nil : clusterIPs
        spec.type = type
        spec.externalName = externalName
        spec.ports = ports
        spec.publishNotReadyAddresses = publishNotReady
        var meta = ObjectMeta()
        meta.name = name; meta.namespace = ns
        return Service(metadata: meta, spec: spec)
    }

    static func port(_ name: String?, _ port: Int, _ proto: ServiceProtocol = .tcp) -> ServicePort {
        var p = ServicePort()
        p.name = name; p.port = port; p.protocol = proto
        return p
    }

    static func slice(_ name: String, service: String, _ ns: String = "testns", type: AddressType,
                      endpoints: [Endpoint], ports: [EndpointPort]?) -> EndpointSlice {
        var meta = ObjectMeta()
        meta.name = name; meta.namespace = ns
        meta.labels = [EndpointSlice.serviceNameLabel: service]
        return EndpointSlice(metadata: meta, addressType: type, endpoints: endpoints, ports: ports)
    }

    static func endpoint(_ ip: String, hostname: String? = nil, ready: Bool? = nil, pod: String? = nil) -> Endpoint {
        var ref: ObjectReference?
        if let pod {
            var r = ObjectReference()
            r.kind = "Pod"; r.name = pod
            ref = r
        }
        return Endpoint(addresses: [ip], conditions: EndpointConditions(ready: ready), hostname: hostname, targetRef: ref)
    }

    static let services: [Service] = [
        service("svc1", clusterIPs: ["10.0.0.1"], ports: [port("http", 80)]),
        service("svcempty", clusterIPs: ["10.0.0.2"], ports: [port(nil, 80)]),
        service("svc6", clusterIPs: ["1234:abcd::1"], ports: [port("http", 80)]),
        service("svc-dual-stack", clusterIPs: ["10.0.0.3", "10::3"], ports: [port("http", 80)]),
        service("dns", "kube-system", clusterIPs: ["10.96.0.10"], ports: [port("dns", 53, .udp), port("dns-tcp", 53)]),
        service("hdls1", clusterIPs: ["None"], ports: [port("http", 80)]),
        service("hdlsprtls", clusterIPs: ["None"]),
        service("hdlsdown", clusterIPs: ["None"], ports: [port("http", 80)]),
        service("hdlsnotready", clusterIPs: ["None"], ports: [port("http", 80)], publishNotReady: true),
        service("external", type: .externalName, externalName: "ext.interwebs.test"),
        service("external-to-service", type: .externalName, externalName: "svc1.testns.svc.cluster.local"),
    ]

    static let httpPort = [EndpointPort(name: "http", protocol: .tcp, port: 80)]

    static let slices: [EndpointSlice] = [
        slice("hdls1-v4", service: "hdls1", type: .ipv4, endpoints: [
            endpoint("172.0.0.2"), endpoint("172.0.0.3", ready: true),
            endpoint("172.0.0.4", hostname: "dup-name"), endpoint("172.0.0.5", hostname: "dup-name"),
            endpoint("172.0.0.9", ready: false),
        ], ports: httpPort),
        slice("hdls1-v6", service: "hdls1", type: .ipv6, endpoints: [endpoint("5678:abcd::1"), endpoint("5678:abcd::2")], ports: httpPort),
        slice("hdlsprtls", service: "hdlsprtls", type: .ipv4, endpoints: [endpoint("172.0.0.20", pod: "web-0")], ports: []),
        slice("hdlsdown", service: "hdlsdown", type: .ipv4, endpoints: [endpoint("172.0.0.30", ready: false)], ports: httpPort),
        slice("hdlsnotready", service: "hdlsnotready", type: .ipv4, endpoints: [endpoint("172.0.0.40", ready: false)], ports: httpPort),
        slice("fqdn", service: "svc1", type: .fqdn, endpoints: [endpoint("example.com")], ports: httpPort),
    ]

    static let pods: [Pod] = {
        var pod = Pod()
        pod.metadata.name = "web-0"; pod.metadata.namespace = "testns"
        pod.status.podIP = "10.244.0.5"
        return [pod]
    }()

    static func index(pods mode: PodRecordMode = .disabled, endpointPodNames: Bool = false, synced: Bool = true) -> ServiceIndex {
        let options = ZoneOptions(ttl: 5, pods: mode, endpointPodNames: endpointPodNames)
        return ServiceIndex.build(options: options, services: services, slices: slices, pods: pods, serial: 1499347823, synced: synced)
    }
}
