import Foundation
import KubeAPI
import Testing
@testable import ControlPlane

@Suite("Printers: table cells as upstream's printers")
struct PrinterTests {
    static let created = "2026-01-01T00:00:00Z"
    static let now = Date(timeIntervalSince1970: 1_767_225_600 + 310)  // 5m10s after `created`

    @Test(arguments: [
        (0.0, "0s"), (-1, "0s"), (-5, "<invalid>"), (59, "59s"), (119, "119s"), (120, "2m"), (310, "5m10s"),
        (599, "9m59s"), (600, "10m"), (179 * 60, "179m"), (3 * 3600, "3h"), (3 * 3600 + 4 * 60, "3h4m"),
        (8 * 3600, "8h"), (47 * 3600, "47h"), (48 * 3600, "2d"), (51 * 3600, "2d3h"), (8 * 86400, "8d"),
        (400 * 86400, "400d"), (729 * 86400, "729d"), (730 * 86400, "2y"), ((3 * 365 + 120) * 86400, "3y120d"),
        (8 * 365 * 86400, "8y"),
    ] as [(TimeInterval, String)])
    func humanDurations(_ seconds: TimeInterval, _ expected: String) {
        #expect(humanDuration(seconds) == expected)
    }

    static func cells<T: TablePrintable>(_ object: T) -> [String] {
        object.tableCells(now: now).map { $0.stringValue ?? $0.intValue.map { String($0) } ?? "?" }
    }

    static func service(_ type: ServiceType, clusterIP: String?, ports: [ServicePort], selector: [String: String]? = nil,
                        externalIPs: [String]? = nil, ingress: [LoadBalancerIngress]? = nil, externalName: String? = nil) -> Service {
        var meta = ObjectMeta(name: "s", namespace: "default")
        meta.creationTimestamp = created
        var s = Service(metadata: meta, spec: ServiceSpec(type: type, ports: ports, selector: selector, clusterIP: clusterIP,
                                                          externalIPs: externalIPs, externalName: externalName))
        s.status.loadBalancer.ingress = ingress
        return s
    }

    @Test(arguments: [
        (service(.clusterIP, clusterIP: "10.96.0.10", ports: [ServicePort(protocol: .tcp, port: 80)], selector: ["app": "web", "a": "b"]),
         ["ClusterIP", "10.96.0.10", "<none>", "80/TCP", "5m10s", "a=b,app=web"]),
        (service(.nodePort, clusterIP: "10.96.0.11", ports: [ServicePort(protocol: .tcp, port: 80, nodePort: 30080),
                                                             ServicePort(protocol: .udp, port: 53, nodePort: 30053)]),
         ["NodePort", "10.96.0.11", "<none>", "80:30080/TCP,53:30053/UDP", "5m10s", "<none>"]),
        (service(.loadBalancer, clusterIP: "10.96.0.12", ports: [ServicePort(protocol: .tcp, port: 443, nodePort: 31443)]),
         ["LoadBalancer", "10.96.0.12", "<pending>", "443:31443/TCP", "5m10s", "<none>"]),
        (service(.loadBalancer, clusterIP: "10.96.0.12", ports: [], ingress: [LoadBalancerIngress(ip: "192.0.2.1")]),
         ["LoadBalancer", "10.96.0.12", "192.0.2.1", "<none>", "5m10s", "<none>"]),
        (service(.clusterIP, clusterIP: "None", ports: [ServicePort(protocol: .tcp, port: 80)], externalIPs: ["198.51.100.7"]),
         ["ClusterIP", "None", "198.51.100.7", "80/TCP", "5m10s", "<none>"]),
        (service(.externalName, clusterIP: nil, ports: [], externalName: "example.com"),
         ["ExternalName", "<none>", "example.com", "<none>", "5m10s", "<none>"]),
    ] as [(Service, [String])])
    func serviceCells(_ service: Service, _ expected: [String]) {
        #expect(Self.cells(service) == expected)
    }

    @Test func podCells() {
        var pod = makePod("p", node: "node-1", ip: "10.244.0.5")
        pod.metadata.creationTimestamp = Self.created
        #expect(Self.cells(pod) == ["1/1", "Running", "0", "5m10s", "10.244.0.5", "node-1", "<none>", "<none>"])
        pod.metadata.deletionTimestamp = Self.created
        #expect(Self.cells(pod)[1] == "Terminating")
        var pending = makePod("q")
        pending.metadata.creationTimestamp = Self.created
        #expect(Self.cells(pending) == ["0/1", "Pending", "0", "5m10s", "<none>", "<none>", "<none>", "<none>"])
    }

    @Test(arguments: [
        ([NodeCondition(type: .ready, status: .true)], false, ["node-role.kubernetes.io/control-plane": ""], ["Ready", "control-plane"]),
        ([NodeCondition(type: .ready, status: .false)], true, [:], ["NotReady,SchedulingDisabled", "<none>"]),
        ([], false, [:], ["Unknown", "<none>"]),
    ] as [([NodeCondition], Bool, [String: String], [String])])
    func nodeCells(_ conditions: [NodeCondition], _ cordoned: Bool, _ labels: [String: String], _ expected: [String]) {
        var node = makeNode("n")
        node.metadata.creationTimestamp = Self.created
        node.metadata.labels = labels
        node.status.conditions = conditions
        node.status.addresses = [NodeAddress(type: .internalIP, address: "192.168.1.10")]
        node.spec.unschedulable = cordoned
        #expect(Array(Self.cells(node).prefix(2)) == expected)
        #expect(Array(Self.cells(node).dropFirst(2)) == ["5m10s", "", "192.168.1.10", "<none>"])
    }

    @Test(arguments: [(NamespacePhase.active, "Active"), (.terminating, "Terminating")])
    func namespaceCells(_ phase: NamespacePhase, _ expected: String) {
        var ns = Namespace(metadata: ObjectMeta(name: "n"))
        ns.metadata.creationTimestamp = Self.created
        ns.status.phase = phase
        #expect(Self.cells(ns) == [expected, "5m10s"])
    }

    @Test(arguments: [
        ([], [], ["IPv4", "<unset>", "<unset>", "5m10s"]),
        (["10.0.0.1"], [80, 443], ["IPv4", "80,443", "10.0.0.1", "5m10s"]),
        (["10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4", "10.0.0.5"], [80],
         ["IPv4", "80", "10.0.0.1,10.0.0.2,10.0.0.3 + 2 more...", "5m10s"]),
    ] as [([String], [Int], [String])])
    func endpointSliceCells(_ addresses: [String], _ ports: [Int], _ expected: [String]) {
        var slice = EndpointSlice(metadata: ObjectMeta(name: "e", namespace: "default"), addressType: .ipv4,
                                  endpoints: addresses.map { Endpoint(addresses: [$0]) },
                                  ports: ports.map { EndpointPort(name: "p\($0)", protocol: .tcp, port: $0) })
        slice.metadata.creationTimestamp = Self.created
        #expect(Self.cells(slice) == expected)
    }

    @Test(arguments: [IncludeObject.none, .metadata, .object])
    func tableRowsCarryTheRequestedObject(_ include: IncludeObject) throws {
        var ns = Namespace(metadata: ObjectMeta(name: "team"))
        ns.metadata.creationTimestamp = Self.created
        let table = try TableBuilder.table([ns], resourceVersion: "7", include: include, now: Self.now)
        #expect(table.kind == "Table")
        #expect(table.apiVersion == "meta.k8s.io/v1")
        #expect(table.metadata.resourceVersion == "7")
        #expect(table.columnDefinitions.map(\.name) == ["Name", "Status", "Age"])
        #expect(table.rows.first?.cells == ["team", "Active", "5m10s"])
        let object = table.rows.first?.object
        switch include {
        case .none: #expect(object == nil)
        case .metadata: #expect(object?["kind"] == "PartialObjectMetadata")
        case .object: #expect(object?["kind"] == "Namespace")
        }
        #expect(include == .none || object?["metadata"]?["name"] == "team")
    }
}
