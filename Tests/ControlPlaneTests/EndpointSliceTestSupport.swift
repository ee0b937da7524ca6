import KubeAPI
@testable import ControlPlane

/// Builders for the EndpointSlice reconciler tests, and a tiny in-memory "API server" that applies
/// `EndpointSliceChanges` the way the real one would (names from generateName, uids, resourceVersions).
enum ESFixture {
    static let namespace = "ns1"
    static let serviceUID = "svc-uid-1"

    static func service(name: String = "web", selector: [String: String]? = ["app": "web"],
                        ports: [ServicePort]? = [ServicePort(name: "http", protocol: .tcp, port: 80, targetPort: 8080)],
                        clusterIP: String? = "10.96.0.10", families: [IPFamily]? = [.ipv4],
                        type: ServiceType? = nil, publishNotReady: Bool? = nil,
                        labels: [String: String]? = nil) -> Service {
        var meta = ObjectMeta(name: name, namespace: namespace, labels: labels)
        meta.uid = serviceUID
        return Service(metadata: meta, spec: ServiceSpec(
            type: type, ports: ports, selector: selector, clusterIP: clusterIP, ipFamilies: families,
            publishNotReadyAddresses: publishNotReady))
    }

    static func pod(_ name: String, ip: String?, labels: [String: String] = ["app": "web"], namespace: String = namespace,
                    ready: Bool = true, terminating: Bool = false, phase: PodPhase = .running,
                    ips: [String]? = nil, node: String? = "node-1", containerPorts: [ContainerPort]? = nil,
                    hostname: String? = nil, subdomain: String? = nil) -> Pod {
        var meta = ObjectMeta(name: name, namespace: namespace, labels: labels)
        meta.uid = "uid-\(name)"
        if terminating { meta.deletionTimestamp = "2026-01-01T00:00:00Z" }
        let conditions = [PodCondition(type: .ready, status: ready ? .true : .false)]
        let status = PodStatus(phase: phase, conditions: conditions, podIP: ip, podIPs: (ips ?? ip.map { [$0] })?.map { PodIP(ip: $0) })
        let spec = PodSpec(containers: [Container(name: "c", ports: containerPorts)], nodeName: node,
                           hostname: hostname, subdomain: subdomain)
        return Pod(metadata: meta, spec: spec, status: status)
    }

    /// `count` ready pods `p0…` with IPs 10.1.x.y.
    static func pods(_ count: Int) -> [Pod] {
        (0..<count).map { pod("p\($0)", ip: "10.1.\($0 / 256).\($0 % 256)") }
    }
}

/// Applies reconciler output like an API server would, keeping the resulting slices.
struct FakeSliceStore {
    private(set) var slices: [String: EndpointSlice] = [:]
    private var serial = 0

    var all: [EndpointSlice] { slices.values.sorted { $0.name < $1.name } }

    /// Applies the changes; returns a description of anything an API server would reject.
    @discardableResult
    mutating func apply(_ changes: EndpointSliceChanges) -> [String] {
        var problems: [String] = []
        for slice in changes.delete where slices.removeValue(forKey: slice.name) == nil {
            problems.append("delete of missing \(slice.name)")
        }
        for var slice in changes.update {
            guard let old = slices[slice.name] else { problems.append("update of missing \(slice.name)"); continue }
            if old.metadata.uid != slice.metadata.uid || old.metadata.resourceVersion != slice.metadata.resourceVersion {
                problems.append("update of \(slice.name) lost uid/resourceVersion")
            }
            if old.addressType != slice.addressType { problems.append("addressType of \(slice.name) changed") }
            serial += 1
            slice.metadata.resourceVersion = String(serial)
            slices[slice.name] = slice
        }
        for var slice in changes.create {
            if slice.metadata.name != nil { problems.append("create with a name") }
            serial += 1
            slice.metadata.name = (slice.metadata.generateName ?? "") + "s\(serial)"
            slice.metadata.uid = "slice-uid-\(serial)"
            slice.metadata.resourceVersion = String(serial)
            slices[slice.name] = slice
        }
        return problems
    }
}

extension EndpointSlice {
    /// Sorted addresses of all endpoints.
    var addressList: [String] { endpoints.flatMap(\.addresses) }
}
