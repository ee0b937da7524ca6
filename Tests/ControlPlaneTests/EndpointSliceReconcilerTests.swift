import KubeAPI
import Testing
@testable import ControlPlane

/// What goes into a slice: which pods, with which conditions, ports, families and metadata.
@Suite struct EndpointSliceReconcilerTests {
    let reconciler = EndpointSliceReconciler()

    /// The one slice created for a fresh Service (fails the test when there is not exactly one).
    func onlySlice(_ service: Service, _ pods: [Pod]) -> EndpointSlice? {
        let changes = reconciler.reconcile(service: service, pods: pods, existing: [])
        #expect(changes.update.isEmpty && changes.delete.isEmpty)
        #expect(changes.create.count == 1)
        return changes.create.first
    }

    struct SelectionCase: Sendable, CustomTestStringConvertible {
        var label: String
        var pod: Pod
        var included: Bool
        var testDescription: String { label }
    }

    static let selectionCases: [SelectionCase] = [
        .init(label: "matching labels", pod: ESFixture.pod("a", ip: "10.1.0.1"), included: true),
        .init(label: "extra labels", pod: ESFixture.pod("a", ip: "10.1.0.1", labels: ["app": "web", "tier": "x"]), included: true),
        .init(label: "other value", pod: ESFixture.pod("a", ip: "10.1.0.1", labels: ["app": "db"]), included: false),
        .init(label: "no labels", pod: ESFixture.pod("a", ip: "10.1.0.1", labels: [:]), included: false),
        .init(label: "other namespace", pod: ESFixture.pod("a", ip: "10.1.0.1", namespace: "ns2"), included: false),
        .init(label: "no IP yet", pod: ESFixture.pod("a", ip: nil), included: false),
        .init(label: "succeeded", pod: ESFixture.pod("a", ip: "10.1.0.1", phase: .succeeded), included: false),
        .init(label: "failed", pod: ESFixture.pod("a", ip: "10.1.0.1", phase: .failed), included: false),
        .init(label: "pending with IP", pod: ESFixture.pod("a", ip: "10.1.0.1", phase: .pending), included: true),
        .init(label: "terminating", pod: ESFixture.pod("a", ip: "10.1.0.1", terminating: true), included: true),
        .init(label: "not ready", pod: ESFixture.pod("a", ip: "10.1.0.1", ready: false), included: true),
    ]

    @Test(arguments: selectionCases)
    func selectsPods(_ c: SelectionCase) throws {
        let slice = try #require(onlySlice(ESFixture.service(), [c.pod]))
        #expect(slice.addressList == (c.included ? ["10.1.0.1"] : []))
    }

    struct ConditionCase: Sendable, CustomTestStringConvertible {
        var ready: Bool, terminating: Bool, publishNotReady: Bool
        var expected: EndpointConditions
        var testDescription: String { "ready=\(ready) terminating=\(terminating) publish=\(publishNotReady)" }
    }

    static let conditionCases: [ConditionCase] = [
        .init(ready: true, terminating: false, publishNotReady: false, expected: .init(ready: true, serving: true, terminating: false)),
        .init(ready: false, terminating: false, publishNotReady: false, expected: .init(ready: false, serving: false, terminating: false)),
        .init(ready: true, terminating: true, publishNotReady: false, expected: .init(ready: false, serving: true, terminating: true)),
        .init(ready: false, terminating: true, publishNotReady: false, expected: .init(ready: false, serving: false, terminating: true)),
        .init(ready: false, terminating: false, publishNotReady: true, expected: .init(ready: true, serving: false, terminating: false)),
        .init(ready: true, terminating: true, publishNotReady: true, expected: .init(ready: true, serving: true, terminating: true)),
    ]

    @Test(arguments: conditionCases)
    func endpointConditions(_ c: ConditionCase) throws {
        let service = ESFixture.service(publishNotReady: c.publishNotReady)
        let pod = ESFixture.pod("a", ip: "10.1.0.1", ready: c.ready, terminating: c.terminating)
        let slice = try #require(onlySlice(service, [pod]))
        #expect(slice.endpoints.map(\.conditions) == [c.expected])
    }

    @Test func endpointFields() throws {
        let pods = [ESFixture.pod("a", ip: "10.1.0.1", hostname: "h1", subdomain: "web"),
                    ESFixture.pod("b", ip: "10.1.0.2", node: nil, hostname: "h2", subdomain: "other")]
        let slice = try #require(onlySlice(ESFixture.service(), pods))
        let expectedA = Endpoint(addresses: ["10.1.0.1"], conditions: .init(ready: true, serving: true, terminating: false),
                                 hostname: "h1", targetRef: ObjectReference(kind: "Pod", namespace: "ns1", name: "a", uid: "uid-a"),
                                 nodeName: "node-1")
        let expectedB = Endpoint(addresses: ["10.1.0.2"], conditions: .init(ready: true, serving: true, terminating: false),
                                 targetRef: ObjectReference(kind: "Pod", namespace: "ns1", name: "b", uid: "uid-b"))
        #expect(slice.endpoints == [expectedA, expectedB])
    }

    @Test func sliceMetadata() throws {
        let service = ESFixture.service(labels: ["team": "blue", EndpointSlice.managedByLabel: "someone-else",
                                                 EndpointSliceReconciler.headlessLabel: "x"])
        let slice = try #require(onlySlice(service, [ESFixture.pod("a", ip: "10.1.0.1")]))
        #expect(slice.metadata.name == nil)
        #expect(slice.metadata.generateName == "web-")
        #expect(slice.metadata.namespace == "ns1")
        #expect(slice.metadata.labels == ["team": "blue", "kubernetes.io/service-name": "web",
                                          "endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io"])
        #expect(slice.metadata.ownerReferences == [OwnerReference(apiVersion: "v1", kind: "Service", name: "web",
                                                                  uid: ESFixture.serviceUID, controller: true, blockOwnerDeletion: true)])
        #expect(slice.addressType == .ipv4)
        #expect(slice.ports == [EndpointPort(name: "http", protocol: .tcp, port: 8080)])
        #expect(slice.apiVersion == "discovery.k8s.io/v1" && slice.kind == "EndpointSlice")
    }

    @Test func headlessLabel() throws {
        let slice = try #require(onlySlice(ESFixture.service(clusterIP: "None"), [ESFixture.pod("a", ip: "10.1.0.1")]))
        #expect(slice.metadata.labels?[EndpointSliceReconciler.headlessLabel] == "")
    }

    struct PortCase: Sendable, CustomTestStringConvertible {
        var label: String
        var servicePort: ServicePort
        var containerPorts: [ContainerPort]?
        var expected: [EndpointPort]
        var testDescription: String { label }
    }

    static let portCases: [PortCase] = [
        .init(label: "numeric target", servicePort: ServicePort(name: "http", protocol: .tcp, port: 80, targetPort: 8080),
              containerPorts: nil, expected: [EndpointPort(name: "http", protocol: .tcp, port: 8080)]),
        .init(label: "unset target means port", servicePort: ServicePort(name: "dns", protocol: .udp, port: 53),
              containerPorts: nil, expected: [EndpointPort(name: "dns", protocol: .udp, port: 53)]),
        .init(label: "unnamed port gets empty name, TCP default", servicePort: ServicePort(port: 80, appProtocol: "http"),
              containerPorts: nil, expected: [EndpointPort(name: "", protocol: .tcp, port: 80, appProtocol: "http")]),
        .init(label: "named target", servicePort: ServicePort(name: "web", protocol: .tcp, port: 80, targetPort: "http"),
              containerPorts: [ContainerPort(name: "http", containerPort: 9376)],
              expected: [EndpointPort(name: "web", protocol: .tcp, port: 9376)]),
        .init(label: "named target with other protocol is unresolved",
              servicePort: ServicePort(name: "web", protocol: .udp, port: 80, targetPort: "http"),
              containerPorts: [ContainerPort(name: "http", containerPort: 9376, protocol: .tcp)], expected: []),
        .init(label: "missing named port is left out", servicePort: ServicePort(name: "web", port: 80, targetPort: "metrics"),
              containerPorts: [ContainerPort(name: "http", containerPort: 9376)], expected: []),
    ]

    @Test(arguments: portCases)
    func resolvesPorts(_ c: PortCase) throws {
        let service = ESFixture.service(ports: [c.servicePort])
        let slice = try #require(onlySlice(service, [ESFixture.pod("a", ip: "10.1.0.1", containerPorts: c.containerPorts)]))
        #expect(slice.ports == c.expected)
        #expect(slice.addressList == ["10.1.0.1"])
    }

    @Test func namedPortsResolvedPerPodSplitSlices() {
        let service = ESFixture.service(ports: [ServicePort(name: "web", protocol: .tcp, port: 80, targetPort: "http")])
        let pods = [ESFixture.pod("a", ip: "10.1.0.1", containerPorts: [ContainerPort(name: "http", containerPort: 8080)]),
                    ESFixture.pod("b", ip: "10.1.0.2", containerPorts: [ContainerPort(name: "http", containerPort: 9090)]),
                    ESFixture.pod("c", ip: "10.1.0.3", containerPorts: [ContainerPort(name: "http", containerPort: 8080)])]
        let changes = reconciler.reconcile(service: service, pods: pods, existing: [])
        let byPort = Dictionary(changes.create.map { ($0.ports?.first?.port ?? 0, $0.addressList) }, uniquingKeysWith: +)
        #expect(changes.create.count == 2)
        #expect(byPort == [8080: ["10.1.0.1", "10.1.0.3"], 9090: ["10.1.0.2"]])
    }

    @Test func ipv6Family() throws {
        let pods = [ESFixture.pod("a", ip: "10.1.0.1", ips: ["10.1.0.1", "fd00::0001"]),
                    ESFixture.pod("b", ip: "10.1.0.2")]
        let slice = try #require(onlySlice(ESFixture.service(clusterIP: "fd00:96::10", families: [.ipv6]), pods))
        #expect(slice.addressType == .ipv6)
        #expect(slice.addressList == ["fd00::1"])
    }

    @Test func dualStackMakesOneSetPerFamily() {
        let pods = [ESFixture.pod("a", ip: "10.1.0.1", ips: ["10.1.0.1", "fd00::1"])]
        let changes = reconciler.reconcile(service: ESFixture.service(families: [.ipv4, .ipv6]), pods: pods, existing: [])
        #expect(changes.create.map(\.addressType) == [.ipv4, .ipv6])
        #expect(changes.create.map(\.addressList) == [["10.1.0.1"], ["fd00::1"]])
    }

    @Test func familyDefaultsToIPv4() throws {
        let slice = try #require(onlySlice(ESFixture.service(clusterIP: nil, families: nil), [ESFixture.pod("a", ip: "10.1.0.1")]))
        #expect(slice.addressType == .ipv4)
    }

    @Test func placeholderForSelectingServiceWithoutPods() throws {
        let slice = try #require(onlySlice(ESFixture.service(), [ESFixture.pod("x", ip: "10.1.0.9", labels: ["app": "db"])]))
        #expect(slice.endpoints.isEmpty)
        #expect(slice.ports == [])
        #expect(slice.metadata.generateName == "web-")
    }

    @Test func sortsEndpointsByAddress() throws {
        let pods = ["10.1.0.10", "10.1.0.9", "10.1.0.100", "10.1.0.2"].enumerated().map { ESFixture.pod("p\($0)", ip: $1) }
        let slice = try #require(onlySlice(ESFixture.service(), pods))
        #expect(slice.addressList == ["10.1.0.2", "10.1.0.9", "10.1.0.10", "10.1.0.100"])
    }
}
