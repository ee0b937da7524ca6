import Testing
@testable import KubeAPI

@Suite struct ValidationKindsTests {
    static let podCases: [ValidationCase] = [
        .init("valid", []) { ValidObjects.pod().validate() },
        .init("no containers", ["spec.containers:Required"]) { ValidObjects.pod { $0.spec.containers = [] }.validate() },
        .init("container name syntax", ["spec.containers[0].name:Invalid"]) { ValidObjects.pod { $0.spec.containers[0].name = "Nginx" }.validate() },
        .init("container name required", ["spec.containers[0].name:Required"]) { ValidObjects.pod { $0.spec.containers[0].name = "" }.validate() },
        .init("duplicate container", ["spec.containers[1].name:Duplicate"]) {
            ValidObjects.pod { $0.spec.containers.append(Container(name: "nginx", image: "nginx")) }.validate()
        },
        .init("image required", ["spec.containers[0].image:Required"]) { ValidObjects.pod { $0.spec.containers[0].image = nil }.validate() },
        .init("containerPort range", ["spec.containers[0].ports[0].containerPort:Invalid"]) {
            ValidObjects.pod { $0.spec.containers[0].ports?[0].containerPort = 65536 }.validate()
        },
        .init("port protocol", ["spec.containers[0].ports[0].protocol:NotSupported"]) {
            ValidObjects.pod { $0.spec.containers[0].ports?[0].protocol = "ICMP" }.validate()
        },
        .init("port name", ["spec.containers[0].ports[0].name:Invalid"]) {
            ValidObjects.pod { $0.spec.containers[0].ports?[0].name = "http--alt" }.validate()
        },
        .init("restartPolicy", ["spec.restartPolicy:NotSupported"]) { ValidObjects.pod { $0.spec.restartPolicy = "Sometimes" }.validate() },
        .init("hostname and subdomain", ["spec.hostname:Invalid", "spec.subdomain:Invalid"]) {
            ValidObjects.pod { $0.spec.hostname = "a.b"; $0.spec.subdomain = "Web" }.validate()
        },
        .init("name subdomain", ["metadata.name:Invalid"]) { ValidObjects.pod { $0.metadata.name = "web_0" }.validate() },
        .init("image update allowed", []) {
            // As a client sends it: the stored object with the new image (the pull policy defaulted at creation stays).
            ValidObjects.pod { $0.spec.containers[0].image = "nginx:2"; $0.spec.containers[0].imagePullPolicy = "Always" }
                .validateUpdate(from: ValidObjects.pod())
        },
        .init("other spec update forbidden", ["spec:Forbidden"]) {
            ValidObjects.pod { $0.spec.nodeName = "node-2" }.validateUpdate(from: ValidObjects.pod())
        },
    ]

    @Test(arguments: podCases)
    func pod(_ c: ValidationCase) { #expect(ValidationCase.summary(c.run()) == c.expected.sorted()) }

    static let sliceCases: [ValidationCase] = [
        .init("valid", []) { ValidObjects.slice().validate() },
        .init("valid IPv6", []) { ValidObjects.slice { $0.addressType = .ipv6; $0.endpoints[0].addresses = ["fd00::5"] }.validate() },
        .init("valid FQDN", []) { ValidObjects.slice { $0.addressType = .fqdn; $0.endpoints[0].addresses = ["db.example.com"] }.validate() },
        .init("addressType required", ["addressType:Required"]) { ValidObjects.slice { $0.addressType = "" }.validate() },
        .init("addressType value", ["addressType:NotSupported"]) {
            ValidObjects.slice { $0.addressType = "IPv5" }.validate()
        },
        .init("too many endpoints", ["endpoints:TooMany"]) {
            ValidObjects.slice { $0.endpoints = Array(repeating: Endpoint(addresses: ["10.0.0.1"]), count: 1001) }.validate()
        },
        .init("no addresses", ["endpoints[0].addresses:Required"]) { ValidObjects.slice { $0.endpoints[0].addresses = [] }.validate() },
        .init("too many addresses", ["endpoints[0].addresses:TooMany"]) {
            ValidObjects.slice { $0.endpoints[0].addresses = Array(repeating: "10.0.0.1", count: 101) }.validate()
        },
        .init("IPv6 in IPv4 slice", ["endpoints[0].addresses[0]:Invalid"]) {
            ValidObjects.slice { $0.endpoints[0].addresses = ["fd00::1"] }.validate()
        },
        .init("loopback", ["endpoints[0].addresses[0]:Invalid"]) { ValidObjects.slice { $0.endpoints[0].addresses = ["127.0.0.1"] }.validate() },
        .init("link-local v6", ["endpoints[0].addresses[0]:Invalid"]) {
            ValidObjects.slice { $0.addressType = .ipv6; $0.endpoints[0].addresses = ["fe80::1"] }.validate()
        },
        .init("bad FQDN", ["endpoints[0].addresses[0]:Invalid"]) {
            ValidObjects.slice { $0.addressType = .fqdn; $0.endpoints[0].addresses = ["localhost"] }.validate()
        },
        .init("hostname and nodeName", ["endpoints[0].hostname:Invalid", "endpoints[0].nodeName:Invalid"]) {
            ValidObjects.slice { $0.endpoints[0].hostname = "a.b"; $0.endpoints[0].nodeName = "Node_1" }.validate()
        },
        .init("too many ports", ["ports:TooMany", "ports[1].name:Duplicate"]) {
            ValidObjects.slice { $0.ports = (0...100).map { EndpointPort(name: "p\($0)", port: 80) }; $0.ports?[1].name = "p0" }.validate()
        },
        .init("duplicate unnamed ports", ["ports[1].name:Duplicate"]) {
            ValidObjects.slice { $0.ports = [EndpointPort(port: 80), EndpointPort(port: 81)] }.validate()
        },
        .init("port range", ["ports[0].port:Invalid"]) { ValidObjects.slice { $0.ports?[0].port = 65536 }.validate() },
        .init("port zero allowed", []) { ValidObjects.slice { $0.ports?[0].port = 0 }.validate() },
        .init("port name syntax", ["ports[0].name:Invalid"]) { ValidObjects.slice { $0.ports?[0].name = "Http" }.validate() },
        .init("addressType immutable", ["addressType:Invalid"]) {
            ValidObjects.slice { $0.addressType = .fqdn; $0.endpoints[0].addresses = ["a.example.com"] }.validateUpdate(from: ValidObjects.slice())
        },
    ]

    @Test(arguments: sliceCases)
    func endpointSlice(_ c: ValidationCase) { #expect(ValidationCase.summary(c.run()) == c.expected.sorted()) }

    static let nodeAndNamespaceCases: [ValidationCase] = [
        .init("node valid", []) { ValidObjects.node().validate() },
        .init("node namespace forbidden", ["metadata.namespace:Forbidden"]) { ValidObjects.node { $0.metadata.namespace = "default" }.validate() },
        .init("node bad podCIDR", ["spec.podCIDR:Invalid", "spec.podCIDRs[0]:Invalid"]) {
            ValidObjects.node { $0.spec.podCIDR = "10.244.1.0/40" }.validate()
        },
        .init("node dual-stack", []) {
            ValidObjects.node { $0.spec.podCIDRs = ["10.244.1.0/24", "fd00:10:244:1::/64"] }.validate()
        },
        .init("node two v4 CIDRs", ["spec.podCIDRs:Invalid"]) {
            ValidObjects.node { $0.spec.podCIDRs = ["10.244.1.0/24", "10.245.1.0/24"] }.validate()
        },
        .init("node taint effect", ["spec.taints[0].effect:NotSupported"]) {
            ValidObjects.node { $0.spec.taints = [Taint(key: "k", effect: "Sometimes")] }.validate()
        },
        .init("podCIDR set from empty", []) {
            ValidObjects.node().validateUpdate(from: ValidObjects.node { $0.spec.podCIDR = nil })
        },
        .init("podCIDR immutable", ["spec.podCIDRs:Forbidden"]) {
            ValidObjects.node { $0.spec.podCIDR = "10.244.2.0/24"; $0.spec.podCIDRs = nil }.validateUpdate(from: ValidObjects.node())
        },
        .init("namespace valid", []) { ValidObjects.namespace().validate() },
        .init("namespace name is a label", ["metadata.name:Invalid"]) { ValidObjects.namespace { $0.metadata.name = "a.b" }.validate() },
        .init("namespace bad finalizer", ["spec.finalizers[0]:Invalid"]) {
            ValidObjects.namespace { $0.spec.finalizers = ["a/b/c"] }.validate()
        },
        .init("event namespace mismatch", ["involvedObject.namespace:Invalid"]) {
            Event(metadata: ObjectMeta(name: "e.1", namespace: "default"), involvedObject: ObjectReference(kind: "Pod", namespace: "other", name: "p")).validate()
        },
    ]

    @Test(arguments: nodeAndNamespaceCases)
    func nodeNamespaceEvent(_ c: ValidationCase) { #expect(ValidationCase.summary(c.run()) == c.expected.sorted()) }

    @Test func defaultsAndSelectableFields() {
        let pod = ValidObjects.pod { $0.spec.nodeName = "node-1"; $0.status.phase = .running; $0.status.podIPs = [PodIP(ip: "10.244.1.5")] }
        #expect(pod.spec.restartPolicy == .always)
        #expect(pod.spec.containers[0].ports?[0].protocol == .tcp)
        #expect(pod.selectableFields["spec.nodeName"] == "node-1")
        #expect(pod.selectableFields["status.phase"] == "Running")
        #expect(pod.selectableFields["status.podIP"] == "10.244.1.5")
        #expect(pod.selectableFields["metadata.namespace"] == "default")

        let slice = ValidObjects.slice { $0.ports = [EndpointPort(port: 80)] }
        #expect(slice.ports?[0].protocol == .tcp)
        #expect(slice.ports?[0].name == "")
        #expect(!EndpointSlice.hasStatusSubresource)

        let ns = ValidObjects.namespace()
        #expect(ns.status.phase == .active)
        #expect(ns.metadata.labels?[Namespace.nameLabel] == "team-a")
        #expect(ns.selectableFields == ["metadata.name": "team-a", "status.phase": "Active"])

        let node = ValidObjects.node()
        #expect(node.spec.podCIDRs == ["10.244.1.0/24"])
        #expect(node.selectableFields == ["metadata.name": "node-1", "spec.unschedulable": "false"])

        let event = Event(metadata: ObjectMeta(name: "e", namespace: "default"),
                          involvedObject: ObjectReference(kind: "Pod", namespace: "default", name: "web-0", uid: "u1"))
        #expect(event.selectableFields["involvedObject.name"] == "web-0")
        #expect(event.selectableFields["involvedObject.uid"] == "u1")
        #expect(!event.specChanged(from: event))
    }
}
