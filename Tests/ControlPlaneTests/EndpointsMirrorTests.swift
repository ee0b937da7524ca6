import KubeAPI
import Testing
@testable import ControlPlane

/// The Endpoints mirrored from a Service's slices, as upstream's Endpoints controller writes them.
@Suite struct EndpointsMirrorTests {
    static func slice(_ name: String, _ endpoints: [Endpoint], ports: [EndpointPort] = [EndpointPort(name: "http", protocol: .tcp, port: 8080)],
                      type: AddressType = .ipv4) -> EndpointSlice {
        EndpointSlice(metadata: ObjectMeta(name: name, namespace: ESFixture.namespace), addressType: type, endpoints: endpoints, ports: ports)
    }

    static func endpoint(_ ip: String, ready: Bool = true, terminating: Bool = false, pod: String? = nil) -> Endpoint {
        Endpoint(addresses: [ip], conditions: EndpointConditions(ready: ready, serving: ready, terminating: terminating),
                 targetRef: ObjectReference(kind: "Pod", namespace: ESFixture.namespace, name: pod ?? "pod-\(ip)"), nodeName: "node-1")
    }

    @Test func readyNotReadyAndTerminatingEndpoints() throws {
        let service = ESFixture.service(labels: ["app": "web", "tier": "front"])
        let e = try #require(EndpointsMirror.desired(for: service, slices: [Self.slice("web-a", [
            Self.endpoint("10.1.0.3"), Self.endpoint("10.1.0.2"),
            Self.endpoint("10.1.0.9", ready: false),                     // starting: not ready
            Self.endpoint("10.1.0.7", ready: false, terminating: true),  // going: left out
        ])]))
        #expect(e.metadata.name == "web" && e.metadata.namespace == ESFixture.namespace)
        #expect(e.metadata.labels == ["app": "web", "tier": "front"])
        let subset = try #require(e.subsets?.first)
        #expect(e.subsets?.count == 1)
        #expect(subset.addresses?.map(\.ip) == ["10.1.0.2", "10.1.0.3"], "sorted by IP")
        #expect(subset.addresses?.first?.targetRef?.name == "pod-10.1.0.2" && subset.addresses?.first?.nodeName == "node-1")
        #expect(subset.notReadyAddresses?.map(\.ip) == ["10.1.0.9"])
        #expect(subset.ports == [EndpointPort(name: "http", protocol: .tcp, port: 8080)])
    }

    @Test func publishNotReadyAddressesPutsEveryoneInAddresses() throws {
        let service = ESFixture.service(publishNotReady: true)
        let e = try #require(EndpointsMirror.desired(for: service, slices: [Self.slice("web-a", [
            Self.endpoint("10.1.0.9", ready: false), Self.endpoint("10.1.0.7", ready: false, terminating: true),
        ])]))
        #expect(e.subsets?.first?.addresses?.map(\.ip) == ["10.1.0.7", "10.1.0.9"])
        #expect(e.subsets?.first?.notReadyAddresses == nil)
    }

    @Test func slicesWithTheSamePortsMergeAndOthersStaySeparate() throws {
        let other = [EndpointPort(name: "http", protocol: .tcp, port: 9090)]
        let e = try #require(EndpointsMirror.desired(for: ESFixture.service(), slices: [
            Self.slice("web-a", [Self.endpoint("10.1.0.1")]), Self.slice("web-b", [Self.endpoint("10.1.0.2")]),
            Self.slice("web-c", [Self.endpoint("10.1.0.3")], ports: other),
            Self.slice("web-fqdn", [Endpoint(addresses: ["example.test"])], type: .fqdn),
        ]))
        #expect(e.subsets?.map { $0.addresses?.map(\.ip) ?? [] } == [["10.1.0.1", "10.1.0.2"], ["10.1.0.3"]])
        #expect(e.subsets?.map { $0.ports?.first?.port } == [8080, 9090])
    }

    @Test func headlessServicesAreLabelledAndEmptyOnesHaveNoSubsets() throws {
        let e = try #require(EndpointsMirror.desired(for: ESFixture.service(clusterIP: "None"), slices: []))
        #expect(e.metadata.labels?[Endpoints.headlessLabel] == "")
        #expect(e.subsets == nil)
        #expect(EndpointsMirror.desired(for: ESFixture.service(selector: nil), slices: []) == nil, "no selector: not ours")
    }

    @Test func moreThanAThousandAddressesAreTruncatedReadyFirst() throws {
        let ready = (0..<990).map { Self.endpoint("10.2.\($0 / 256).\($0 % 256)") }
        let notReady = (0..<20).map { Self.endpoint("10.3.0.\($0)", ready: false) }
        let e = try #require(EndpointsMirror.desired(for: ESFixture.service(), slices: [Self.slice("web-a", ready + notReady)]))
        let subset = try #require(e.subsets?.first)
        #expect(subset.addresses?.count == 990)
        #expect(subset.notReadyAddresses?.count == 10)
        #expect(e.metadata.annotations?[Endpoints.overCapacityAnnotation] == "truncated")
    }

    @Test func invalidEndpointsAreRefused() {
        var e = Endpoints(metadata: ObjectMeta(name: "manual", namespace: "default"), subsets: [
            EndpointSubset(addresses: [EndpointAddress(ip: "127.0.0.1"), EndpointAddress(ip: "not-an-ip")],
                           ports: [EndpointPort(name: "a", port: 80), EndpointPort(port: 70000)]),
        ])
        e.applyDefaults()
        let fields = Set(e.validate().compactMap(\.field))
        #expect(fields == ["subsets[0].addresses[0].ip", "subsets[0].addresses[1].ip", "subsets[0].ports[1].name", "subsets[0].ports[1].port"])
        #expect(e.subsets?.first?.ports?.allSatisfy { $0.protocol == .tcp } == true, "protocol defaults to TCP")
    }
}
