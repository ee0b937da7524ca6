import Testing
@testable import KubeAPI

@Suite struct ValidationServiceTests {
    static let cases: [ValidationCase] = [
        .init("valid", []) { ValidObjects.service().validate() },
        .init("headless without ports", []) { ValidObjects.service { $0.spec.ports = nil; $0.spec.clusterIP = "None" }.validate() },
        .init("valid ExternalName", []) {
            ValidObjects.service { $0.spec = ServiceSpec(type: .externalName, externalName: "db.example.com.") }.validate()
        },
        .init("valid LoadBalancer Local", []) {
            ValidObjects.service {
                $0.spec.type = .loadBalancer; $0.spec.externalTrafficPolicy = .local; $0.spec.healthCheckNodePort = 32000
                $0.spec.loadBalancerSourceRanges = ["10.0.0.0/8", " 192.168.0.0/16 "]
                $0.spec.ports?[0].nodePort = 30080
            }.validate()
        },
        .init("valid dual-stack", []) {
            ValidObjects.service {
                $0.spec.clusterIPs = ["10.96.0.10", "fd00::10"]; $0.spec.ipFamilies = [.ipv4, .ipv6]; $0.spec.ipFamilyPolicy = .requireDualStack
            }.validate()
        },
        .init("name must be DNS-1035", ["metadata.name:Invalid"]) { ValidObjects.service { $0.metadata.name = "1web" }.validate() },
        .init("name required", ["metadata.name:Required"]) { ValidObjects.service { $0.metadata.name = nil }.validate() },
        .init("generateName suffices", []) {
            ValidObjects.service { $0.metadata.name = nil; $0.metadata.generateName = "web-" }.validate()
        },
        .init("namespace required", ["metadata.namespace:Required"]) { ValidObjects.service { $0.metadata.namespace = nil }.validate() },
        .init("bad label key and value", ["metadata.labels:Invalid", "metadata.labels:Invalid"]) {
            ValidObjects.service { $0.metadata.labels = ["-bad": "ok", "good": "bad value"] }.validate()
        },
        .init("bad annotation key", ["metadata.annotations:Invalid"]) {
            ValidObjects.service { $0.metadata.annotations = ["a/b/c": "x"] }.validate()
        },
        .init("no ports", ["spec.ports:Required"]) { ValidObjects.service { $0.spec.ports = [] }.validate() },
        .init("port name required when several", ["spec.ports[1].name:Required"]) {
            ValidObjects.service { $0.spec.ports?[1].name = nil }.validate()
        },
        .init("single port may be unnamed", []) {
            ValidObjects.service { $0.spec.ports = [ServicePort(port: 80)] }.validate()
        },
        .init("port name syntax", ["spec.ports[0].name:Invalid"]) { ValidObjects.service { $0.spec.ports?[0].name = "HTTP" }.validate() },
        .init("duplicate port name", ["spec.ports[1].name:Duplicate"]) {
            ValidObjects.service { $0.spec.ports?[1].name = "http" }.validate()
        },
        .init("port out of range", ["spec.ports[0].port:Invalid"]) { ValidObjects.service { $0.spec.ports?[0].port = 70000 }.validate() },
        .init("port zero", ["spec.ports[0].port:Invalid"]) {
            ValidObjects.service { $0.spec.ports?[0].port = 0; $0.spec.ports?[0].targetPort = 80 }.validate()
        },
        .init("protocol not supported", ["spec.ports[0].protocol:NotSupported"]) {
            ValidObjects.service { $0.spec.ports?[0].protocol = "QUIC" }.validate()
        },
        .init("duplicate port/protocol", ["spec.ports[1]:Duplicate"]) { ValidObjects.service { $0.spec.ports?[1].port = 80 }.validate() },
        .init("same port other protocol is fine", []) {
            ValidObjects.service { $0.spec.ports?[1].port = 80; $0.spec.ports?[1].protocol = .udp }.validate()
        },
        .init("targetPort out of range", ["spec.ports[1].targetPort:Invalid"]) {
            ValidObjects.service { $0.spec.ports?[1].targetPort = 65536 }.validate()
        },
        .init("targetPort bad name", ["spec.ports[0].targetPort:Invalid"]) {
            ValidObjects.service { $0.spec.ports?[0].targetPort = "way-too-long-port-name" }.validate()
        },
        .init("nodePort on ClusterIP", ["spec.ports[0].nodePort:Forbidden"]) {
            ValidObjects.service { $0.spec.ports?[0].nodePort = 30080 }.validate()
        },
        .init("nodePort out of range", ["spec.ports[0].nodePort:Invalid"]) {
            ValidObjects.service { $0.spec.type = .nodePort; $0.spec.ports?[0].nodePort = 70000 }.validate()
        },
        .init("duplicate nodePort", ["spec.ports[1].nodePort:Duplicate"]) {
            ValidObjects.service { $0.spec.type = .nodePort; $0.spec.ports?[0].nodePort = 30080; $0.spec.ports?[1].nodePort = 30080 }.validate()
        },
        .init("unknown type", ["spec.type:NotSupported"]) { ValidObjects.service { $0.spec.type = "Quantum" }.validate() },
        .init("bad clusterIP", ["spec.clusterIPs[0]:Invalid"]) { ValidObjects.service { $0.spec.clusterIP = "10.96.0.300" }.validate() },
        .init("clusterIPs must start with clusterIP", ["spec.clusterIPs:Invalid"]) {
            ValidObjects.service { $0.spec.clusterIPs = ["10.96.0.11"] }.validate()
        },
        .init("dual-stack same family", ["spec.clusterIPs[1]:Invalid"]) {
            ValidObjects.service { $0.spec.clusterIPs = ["10.96.0.10", "10.96.0.11"] }.validate()
        },
        .init("headless NodePort", ["spec.clusterIPs[0]:Invalid"]) {
            ValidObjects.service { $0.spec.clusterIP = "None"; $0.spec.type = .nodePort }.validate()
        },
        .init("headless LoadBalancer", ["spec.clusterIPs[0]:Invalid"]) {
            ValidObjects.service { $0.spec.clusterIP = "None"; $0.spec.type = .loadBalancer }.validate()
        },
        .init("ExternalName needs externalName", ["spec.externalName:Required"]) {
            ValidObjects.service { $0.spec = ServiceSpec(type: .externalName) }.validate()
        },
        .init("ExternalName bad name", ["spec.externalName:Invalid"]) {
            ValidObjects.service { $0.spec = ServiceSpec(type: .externalName, externalName: "Not_A_Host") }.validate()
        },
        .init("ExternalName with clusterIP", ["spec.clusterIPs:Forbidden"]) {
            ValidObjects.service { $0.spec = ServiceSpec(type: .externalName, clusterIP: "10.96.0.10", externalName: "db.example.com") }.validate()
        },
        .init("sessionAffinity value", ["spec.sessionAffinity:NotSupported"]) {
            ValidObjects.service { $0.spec.sessionAffinity = "Sticky" }.validate()
        },
        .init("ClientIP defaults timeout", []) { ValidObjects.service { $0.spec.sessionAffinity = .clientIP }.validate() },
        .init("timeout too large", ["spec.sessionAffinityConfig.clientIP.timeoutSeconds:Invalid"]) {
            ValidObjects.service {
                $0.spec.sessionAffinity = .clientIP
                $0.spec.sessionAffinityConfig = SessionAffinityConfig(clientIP: ClientIPConfig(timeoutSeconds: 86401))
            }.validate()
        },
        .init("timeout zero", ["spec.sessionAffinityConfig.clientIP.timeoutSeconds:Invalid"]) {
            ValidObjects.service {
                $0.spec.sessionAffinity = .clientIP
                $0.spec.sessionAffinityConfig = SessionAffinityConfig(clientIP: ClientIPConfig(timeoutSeconds: 0))
            }.validate()
        },
        .init("config with None", ["spec.sessionAffinityConfig:Invalid"]) {
            ValidObjects.service { $0.spec.sessionAffinityConfig = SessionAffinityConfig(clientIP: ClientIPConfig(timeoutSeconds: 10)) }.validate()
        },
        .init("bad externalIP", ["spec.externalIPs[1]:Invalid"]) {
            ValidObjects.service { $0.spec.externalIPs = ["192.0.2.1", "nope"] }.validate()
        },
        .init("bad source range", ["spec.loadBalancerSourceRanges[0]:Invalid"]) {
            ValidObjects.service { $0.spec.type = .loadBalancer; $0.spec.loadBalancerSourceRanges = ["10.0.0.0/33"] }.validate()
        },
        .init("source ranges need LoadBalancer", ["spec.loadBalancerSourceRanges:Forbidden"]) {
            ValidObjects.service { $0.spec.loadBalancerSourceRanges = ["10.0.0.0/8"] }.validate()
        },
        .init("externalTrafficPolicy on ClusterIP", ["spec.externalTrafficPolicy:Invalid"]) {
            ValidObjects.service { $0.spec.externalTrafficPolicy = .local }.validate()
        },
        .init("externalTrafficPolicy with externalIPs", []) {
            ValidObjects.service { $0.spec.externalIPs = ["192.0.2.1"]; $0.spec.externalTrafficPolicy = .local }.validate()
        },
        .init("externalTrafficPolicy value", ["spec.externalTrafficPolicy:NotSupported"]) {
            ValidObjects.service { $0.spec.type = .nodePort; $0.spec.externalTrafficPolicy = "Nearby" }.validate()
        },
        .init("healthCheckNodePort needs LB+Local", ["spec.healthCheckNodePort:Invalid"]) {
            ValidObjects.service { $0.spec.type = .loadBalancer; $0.spec.healthCheckNodePort = 32000 }.validate()
        },
        .init("internalTrafficPolicy value", ["spec.internalTrafficPolicy:NotSupported"]) {
            ValidObjects.service { $0.spec.internalTrafficPolicy = "Node" }.validate()
        },
        .init("allocateLoadBalancerNodePorts needs LoadBalancer", ["spec.allocateLoadBalancerNodePorts:Forbidden"]) {
            ValidObjects.service { $0.spec.allocateLoadBalancerNodePorts = false }.validate()
        },
        .init("SingleStack with two families", ["spec.ipFamilies:Invalid"]) {
            ValidObjects.service { $0.spec.ipFamilies = [.ipv4, .ipv6]; $0.spec.ipFamilyPolicy = .singleStack }.validate()
        },
        .init("unknown family", ["spec.ipFamilies[0]:NotSupported"]) { ValidObjects.service { $0.spec.ipFamilies = ["IPv5"] }.validate() },
        .init("trafficDistribution value", ["spec.trafficDistribution:NotSupported"]) {
            ValidObjects.service { $0.spec.trafficDistribution = "Anywhere" }.validate()
        },
        .init("bad selector", ["spec.selector:Invalid"]) { ValidObjects.service { $0.spec.selector = ["app": "-x"] }.validate() },
    ]

    @Test(arguments: cases)
    func validate(_ c: ValidationCase) {
        #expect(ValidationCase.summary(c.run()) == c.expected.sorted())
    }

    static let updateCases: [ValidationCase] = [
        .init("unchanged", []) { ValidObjects.service().validateUpdate(from: ValidObjects.service()) },
        .init("clusterIP immutable", ["spec.clusterIPs[0]:Invalid"]) {
            ValidObjects.service { $0.spec.clusterIP = "10.96.0.11" }.validateUpdate(from: ValidObjects.service())
        },
        .init("to ExternalName drops clusterIP", []) {
            ValidObjects.service { $0.spec = ServiceSpec(type: .externalName, externalName: "db.example.com") }
                .validateUpdate(from: ValidObjects.service())
        },
        .init("from ExternalName gains clusterIP", []) {
            ValidObjects.service().validateUpdate(from: ValidObjects.service { $0.spec = ServiceSpec(type: .externalName, externalName: "db.example.com") })
        },
        .init("name immutable", ["metadata.name:Invalid"]) {
            ValidObjects.service { $0.metadata.name = "web2" }.validateUpdate(from: ValidObjects.service())
        },
    ]

    @Test(arguments: updateCases)
    func validateUpdate(_ c: ValidationCase) {
        #expect(ValidationCase.summary(c.run()) == c.expected.sorted())
    }

    @Test func defaults() {
        var svc = Service(metadata: ObjectMeta(name: "a", namespace: "default"),
                          spec: ServiceSpec(type: .loadBalancer, ports: [ServicePort(port: 80), ServicePort(name: "x", port: 81, targetPort: "web")],
                                            clusterIP: "10.96.0.1", sessionAffinity: .clientIP))
        svc.applyDefaults()
        #expect(svc.spec.ports?[0].protocol == .tcp)
        #expect(svc.spec.ports?[0].targetPort == .int(80))
        #expect(svc.spec.ports?[1].targetPort == .string("web"))
        #expect(svc.spec.sessionAffinityConfig?.clientIP?.timeoutSeconds == 10800)
        #expect(svc.spec.externalTrafficPolicy == .cluster)
        #expect(svc.spec.internalTrafficPolicy == .cluster)
        #expect(svc.spec.allocateLoadBalancerNodePorts == true)
        #expect(svc.spec.clusterIPs == ["10.96.0.1"])

        var plain = Service(metadata: ObjectMeta(name: "b", namespace: "default"), spec: ServiceSpec(ports: [ServicePort(protocol: .udp, port: 53)]))
        plain.applyDefaults()
        #expect(plain.spec.type == .clusterIP)
        #expect(plain.spec.sessionAffinity == SessionAffinity.none)
        #expect(plain.spec.externalTrafficPolicy == nil)
        #expect(plain.spec.ports?[0].protocol == .udp)
        #expect(plain.spec.sessionAffinityConfig == nil)
    }

    @Test func messagesLookLikeUpstream() throws {
        let causes = ValidObjects.service { $0.spec.ports?[0].port = 70000; $0.spec.sessionAffinity = "Sticky" }.validate()
        let port = try #require(causes.first { $0.field == "spec.ports[0].port" })
        #expect(port.message == "Invalid value: 70000: must be between 1 and 65535, inclusive")
        let affinity = try #require(causes.first { $0.field == "spec.sessionAffinity" })
        #expect(affinity.message == #"Unsupported value: "Sticky": supported values: "ClientIP", "None""#)
        let status = Status.invalid(Service.resourceInfo, name: "web", causes: [port])
        #expect(status.message == "Service \"web\" is invalid: spec.ports[0].port: Invalid value: 70000: must be between 1 and 65535, inclusive")
    }

    @Test func inheritsAllocatedFields() {
        let old = ValidObjects.service {
            $0.spec.type = .nodePort; $0.spec.ports?[0].nodePort = 30080; $0.spec.ports?[1].nodePort = 30443
            $0.spec.ipFamilies = [.ipv4]; $0.spec.ipFamilyPolicy = .singleStack
        }
        var new = ValidObjects.service { $0.spec.type = .nodePort; $0.spec.clusterIP = nil }
        new.spec.clusterIPs = nil
        new.inheritAllocatedFields(from: old)
        #expect(new.spec.clusterIP == "10.96.0.10")
        #expect(new.spec.ports?.map(\.nodePort) == [30080, 30443])
        #expect(new.spec.ipFamilies == [.ipv4])
        #expect(new.validateUpdate(from: old).isEmpty)
    }

    @Test func selectableFieldsAndGeneration() {
        let svc = ValidObjects.service()
        #expect(svc.selectableFields == ["metadata.name": "web", "metadata.namespace": "default",
                                         "spec.clusterIP": "10.96.0.10", "spec.type": "ClusterIP"])
        var changed = svc
        changed.metadata.labels = ["x": "y"]
        #expect(!changed.specChanged(from: svc))
        changed.spec.ports?[0].port = 8080
        #expect(changed.specChanged(from: svc))
        #expect(Service.hasStatusSubresource)
    }
}
