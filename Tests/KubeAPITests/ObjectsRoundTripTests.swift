import Foundation
import Testing
@testable import KubeAPI
import Values

/// Decodes `json` as `T`, re-encodes it, and compares both as untyped documents.
private func roundTrip<T: Codable>(_ type: T.Type, _ json: String) throws -> (original: JSONValue, encoded: JSONValue, value: T) {
    let data = Data(json.utf8)
    let value = try KubeJSON.decode(T.self, from: data)
    let encoded = try KubeJSON.decode(JSONValue.self, from: KubeJSON.encode(value))
    let original = try KubeJSON.decode(JSONValue.self, from: data)
    return (original, encoded, value)
}

/// Decodes and re-encodes one fixture by kind name.
private func reencode(_ kind: String, _ json: String) throws -> (JSONValue, JSONValue) {
    func run<T: Codable>(_ type: T.Type) throws -> (JSONValue, JSONValue) {
        let r = try roundTrip(type, json)
        return (r.original, r.encoded)
    }
    switch kind {
    case "Service": return try run(Service.self)
    case "Pod": return try run(Pod.self)
    case "Node": return try run(Node.self)
    case "Namespace": return try run(Namespace.self)
    case "EndpointSlice": return try run(EndpointSlice.self)
    case "Event": return try run(Event.self)
    case "DeleteOptions": return try run(DeleteOptions.self)
    case "Table": return try run(Table.self)
    case "APIVersions": return try run(APIVersions.self)
    case "APIGroupList": return try run(APIGroupList.self)
    case "APIResourceList": return try run(APIResourceList.self)
    default: throw Status.badRequest("no such kind \(kind)")
    }
}

@Suite struct ObjectsRoundTripTests {
    static let cases: [(String, String)] = [
        ("Service", ObjectsFixtures.service), ("Pod", ObjectsFixtures.pod), ("Node", ObjectsFixtures.node),
        ("Namespace", ObjectsFixtures.namespace), ("EndpointSlice", ObjectsFixtures.endpointSlice),
        ("Event", ObjectsFixtures.event), ("DeleteOptions", ObjectsFixtures.deleteOptions), ("Table", ObjectsFixtures.table),
        ("APIVersions", ObjectsFixtures.apiVersions), ("APIGroupList", ObjectsFixtures.apiGroupList),
        ("APIResourceList", ObjectsFixtures.apiResourceList),
    ]

    @Test(arguments: cases)
    func decodeEncodeKeepsEveryMember(_ kind: String, _ json: String) throws {
        let (original, encoded) = try reencode(kind, json)
        #expect(original == encoded)
    }

    @Test func serviceFieldsAreTyped() throws {
        let svc = try roundTrip(Service.self, ObjectsFixtures.service).value
        #expect(svc.spec.type == .loadBalancer)
        #expect(svc.spec.ports?[0].targetPort == .string("http"))
        #expect(svc.spec.ports?[1].targetPort == .int(8443))
        #expect(svc.spec.ports?[1].protocol == .tcp)
        #expect(svc.spec.ipFamilies == [.ipv4, .ipv6])
        #expect(svc.spec.sessionAffinityConfig?.clientIP?.timeoutSeconds == 600)
        #expect(svc.spec.externalTrafficPolicy == .local)
        #expect(svc.status.loadBalancer.ingress?.first?.ipMode == .vip)
        #expect(svc.allocatedClusterIPs == ["10.96.0.10", "fd00::a"])
        #expect(svc.spec.unknownFields.values["futureField"] == .object(["nested": true]))
        #expect(svc.spec.ports?[0].unknownFields.values["futurePortField"] == "x")
    }

    @Test func podHelpers() throws {
        var pod = try roundTrip(Pod.self, ObjectsFixtures.pod).value
        #expect(pod.isReady)
        #expect(!pod.isTerminating)
        #expect(pod.status.podIPs?.map(\.ip) == ["10.244.1.5"])
        pod.metadata.deletionTimestamp = "2026-11-24T04:19:52Z"
        #expect(pod.isTerminating)
        pod.status.conditions = [PodCondition(type: .ready, status: .false)]
        #expect(!pod.isReady)
    }

    @Test func unknownEnumValuesSurvive() throws {
        let json = #"{"apiVersion":"v1","kind":"Service","metadata":{"creationTimestamp":null,"name":"a"},"spec":{"type":"Quantum","sessionAffinity":"Sticky","ports":[{"port":1,"protocol":"QUIC"}]},"status":{"loadBalancer":{}}}"#
        let r = try roundTrip(Service.self, json)
        #expect(r.value.spec.type == ServiceType(rawValue: "Quantum"))
        #expect(r.value.spec.ports?[0].protocol == "QUIC")
        #expect(r.original == r.encoded)
    }

    @Test func tersObjectsEncodeTypeMetaAndAlwaysFields() throws {
        let svc = Service(metadata: ObjectMeta(name: "web", namespace: "default"),
                          spec: ServiceSpec(ports: [ServicePort(port: 80)]))
        let v = try KubeJSON.toJSONValue(svc)
        #expect(v["apiVersion"] == "v1")
        #expect(v["kind"] == "Service")
        #expect(v["spec"] == ["ports": [["port": 80]]])
        #expect(v["status"] == ["loadBalancer": [:]])
        let slice = EndpointSlice(metadata: ObjectMeta(name: "s"), addressType: .ipv4)
        let s = try KubeJSON.toJSONValue(slice)
        #expect(s["apiVersion"] == "discovery.k8s.io/v1")
        #expect(s["endpoints"] == [])
    }

    @Test(arguments: [
        (IntOrString.int(80), "80"), (IntOrString.string("http"), #""http""#),
    ])
    func intOrString(_ value: IntOrString, _ json: String) throws {
        #expect(String(decoding: try KubeJSON.encode(value), as: UTF8.self) == json)
        #expect(try KubeJSON.decode(IntOrString.self, from: Data(json.utf8)) == value)
    }

    @Test func resourceInfos() {
        #expect(Namespace.resourceInfo.shortNames == ["ns"])
        #expect(!Namespace.resourceInfo.namespaced && !Node.resourceInfo.namespaced)
        #expect(Pod.resourceInfo.resource == "pods" && Pod.resourceInfo.namespaced)
        #expect(Service.resourceInfo.shortNames == ["svc"])
        #expect(EndpointSlice.resourceInfo.apiVersion == "discovery.k8s.io/v1")
        #expect(EndpointSlice.resourceInfo.shortNames.isEmpty)
        #expect(Event.resourceInfo.shortNames == ["ev"])
        #expect(Node.resourceInfo.shortNames == ["no"])
    }
}

@Suite struct KubeTimeTests {
    @Test func formatsUTCWholeSeconds() {
        let date = Date(timeIntervalSince1970: 1_795_493_992.75)
        #expect(KubeTime.format(date) == "2026-11-24T04:19:52Z")
    }

    @Test(arguments: [
        ("2026-11-24T04:19:52Z", 1_795_493_992.0),
        ("2026-11-24T04:19:52.5Z", 1_795_493_992.5),
        ("2026-11-24T04:19:52.123456Z", 1_795_493_992.123456),
        ("2026-11-24T04:19:52.123456789Z", 1_795_493_992.123456789),
        ("2026-11-24T06:19:52+02:00", 1_795_493_992.0),
    ])
    func parses(_ text: String, _ seconds: Double) throws {
        let date = try #require(KubeTime.parse(text))
        #expect(abs(date.timeIntervalSince1970 - seconds) < 0.000_01)
    }

    @Test(arguments: ["", "yesterday", "2026-11-24", "2026-11-24T04:19:52.Z", "2026-13-24T04:19:52Z"])
    func rejects(_ text: String) {
        #expect(KubeTime.parse(text) == nil)
    }
}
