import Testing
@testable import KubeAPI

/// One validation table row: a name, the causes produced, and the expected `field:ReasonSuffix` list
/// (reason without the `FieldValue` prefix, e.g. `spec.ports[1].name:Required`).
struct ValidationCase: CustomTestStringConvertible, Sendable {
    let name: String
    let expected: [String]
    let run: @Sendable () -> [StatusCause]
    var testDescription: String { name }

    init(_ name: String, _ expected: [String], _ run: @escaping @Sendable () -> [StatusCause]) {
        self.name = name; self.expected = expected; self.run = run
    }

    /// `field:Reason` of each cause, sorted.
    static func summary(_ causes: [StatusCause]) -> [String] {
        causes.map { "\($0.field ?? ""):\(($0.reason ?? "").replacingOccurrences(of: "FieldValue", with: ""))" }.sorted()
    }
}

/// Valid, defaulted objects that the tables mutate.
enum ValidObjects {
    static func service(_ mutate: (inout Service) -> Void = { _ in }) -> Service {
        var svc = Service(metadata: ObjectMeta(name: "web", namespace: "default", labels: ["app": "web"]),
                          spec: ServiceSpec(ports: [ServicePort(name: "http", port: 80, targetPort: "http"),
                                                    ServicePort(name: "https", port: 443, targetPort: 8443)],
                                            selector: ["app": "web"], clusterIP: "10.96.0.10"))
        mutate(&svc)
        svc.applyDefaults()
        return svc
    }

    static func pod(_ mutate: (inout Pod) -> Void = { _ in }) -> Pod {
        var pod = Pod(metadata: ObjectMeta(name: "web-0", namespace: "default"),
                      spec: PodSpec(containers: [Container(name: "nginx", image: "nginx", ports: [ContainerPort(name: "http", containerPort: 80)])]))
        mutate(&pod)
        pod.applyDefaults()
        return pod
    }

    static func slice(_ mutate: (inout EndpointSlice) -> Void = { _ in }) -> EndpointSlice {
        var slice = EndpointSlice(metadata: ObjectMeta(name: "web-abc", namespace: "default"), addressType: .ipv4,
                                  endpoints: [Endpoint(addresses: ["10.244.1.5"], conditions: EndpointConditions(ready: true))],
                                  ports: [EndpointPort(name: "http", port: 8080)])
        mutate(&slice)
        slice.applyDefaults()
        return slice
    }

    static func node(_ mutate: (inout Node) -> Void = { _ in }) -> Node {
        var node = Node(metadata: ObjectMeta(name: "node-1"), spec: NodeSpec(podCIDR: "10.244.1.0/24"))
        mutate(&node)
        node.applyDefaults()
        return node
    }

    static func namespace(_ mutate: (inout Namespace) -> Void = { _ in }) -> Namespace {
        var ns = Namespace(metadata: ObjectMeta(name: "team-a"))
        mutate(&ns)
        ns.applyDefaults()
        return ns
    }
}
