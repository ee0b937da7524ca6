import HTTPServing
import Foundation
import KubeAPI
import Logging
import NIOCore
import NIOHTTP1
import Synchronization
import Testing
import TestSupport
@testable import ControlPlane
import Values

/// A clock tests move by hand.
final class TestClock: Sendable {
    private let current: Mutex<Date>
    init(_ start: Date = Date(timeIntervalSince1970: 1_767_225_600)) { current = Mutex(start) }  // 2026-01-01T00:00:00Z
    var now: Date { current.withLock { $0 } }
    func advance(_ seconds: TimeInterval) { current.withLock { $0 = $0.addingTimeInterval(seconds) } }
}

/// UIDs `uid-1`, `uid-2`, … in creation order.
final class UIDCounter: Sendable {
    private let next = Mutex(0)
    func make() -> String { next.withLock { $0 += 1; return "uid-\($0)" } }
}

/// A real SQLite store in a fresh temporary directory, with every registry wired as `ControlPlaneServer`
/// wires them (namespace gate, Service allocations, pod and namespace deletion policies), a fixed clock
/// and counting UIDs.
struct Cluster: Sendable {
    let store: SQLiteStore
    let clock: TestClock
    let namespaces: ResourceRegistry<Namespace>
    let services: ResourceRegistry<Service>
    let pods: ResourceRegistry<Pod>
    let nodes: ResourceRegistry<Node>
    let slices: ResourceRegistry<EndpointSlice>
    let events: ResourceRegistry<Event>
    let leases: ResourceRegistry<Lease>
    let replicaSets: ResourceRegistry<ReplicaSet>

    static let serviceCIDR = "10.96.0.0/24"
    static let nodePortRange = 30000...30099

    init(store: SQLiteStore, clock: TestClock) throws {
        self.store = store
        self.clock = clock
        let uids = UIDCounter()
        let env = RegistryEnvironment(now: { clock.now }, newUID: { uids.make() })
        let namespaces = ResourceRegistry<Namespace>(store: store, hooks: NamespaceHooks(), deletion: NamespaceDeletion(), env: env)
        let gate = NamespaceHooks.gate(namespaces)
        guard let cidr = CIDR(Self.serviceCIDR) else { throw Status.internalError("bad test CIDR") }
        let allocations = try ServiceAllocations(serviceCIDR: cidr, nodePortRange: Self.nodePortRange)
        self.namespaces = namespaces
        self.services = ResourceRegistry<Service>(store: store, hooks: ServiceHooks(allocations: allocations), env: env, namespaceGate: gate)
        self.pods = ResourceRegistry<Pod>(store: store, deletion: PodDeletion(), env: env, namespaceGate: gate)
        self.nodes = ResourceRegistry<Node>(store: store, env: env)
        self.slices = ResourceRegistry<EndpointSlice>(store: store, env: env, namespaceGate: gate)
        self.events = ResourceRegistry<Event>(store: store, env: env, namespaceGate: gate)
        self.leases = ResourceRegistry<Lease>(store: store, env: env, namespaceGate: gate)
        self.replicaSets = ResourceRegistry<ReplicaSet>(store: store, deletion: OwnerDeletion<ReplicaSet>(), env: env, namespaceGate: gate)
    }

    /// The namespace purgers `ControlPlaneServer.run` gives the namespace controller.
    var purgers: [@Sendable (String) async throws -> Void] {
        let services = self.services, pods = self.pods, slices = self.slices
        return [
            { ns in _ = try await services.deleteCollection(namespace: ns, listOptions: ListOptions(), options: DeleteOptions()) },
            { ns in _ = try await pods.deleteCollection(namespace: ns, listOptions: ListOptions(), options: DeleteOptions(gracePeriodSeconds: 0)) },
            { ns in _ = try await slices.deleteCollection(namespace: ns, listOptions: ListOptions(), options: DeleteOptions()) },
        ]
    }

    /// Runs `body` with a fresh cluster that has the namespace `default`; removes the data afterwards.
    static func with<R>(historyLimit: Int = 10_000, _ body: (Cluster) async throws -> R) async throws -> R {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("kproxy-cp-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = try SQLiteStore(path: directory.appendingPathComponent("state.db").path, historyLimit: historyLimit, logger: silentLogger)
        do {
            let cluster = try Cluster(store: store, clock: TestClock())
            _ = try await cluster.namespaces.create(Namespace(metadata: ObjectMeta(name: "default")), namespace: nil)
            let result = try await body(cluster)
            await store.close()
            return result
        } catch {
            await store.close()
            throw error
        }
    }
}

let silentLogger = Logger(label: "controlplane-test", factory: { _ in SwiftLogNoOpLogHandler() })

/// `waitUntil` that records an issue on timeout.
@discardableResult
func eventually(_ what: String = "condition", within seconds: Double = 30, sourceLocation: SourceLocation = #_sourceLocation,
                _ condition: () async throws -> Bool) async rethrows -> Bool {
    if try await waitUntil(within: .milliseconds(Int(seconds * 1000)), every: .milliseconds(15), condition) { return true }
    Issue.record("timed out waiting for \(what)", sourceLocation: sourceLocation)
    return false
}

/// The Status an async call throws, or nil when it succeeds or throws something else.
func status<R>(of body: () async throws -> R) async -> Status? {
    do {
        _ = try await body()
        return nil
    } catch let status as Status {
        return status
    } catch {
        return nil
    }
}

// MARK: builders

func makePod(_ name: String, namespace: String = "default", labels: [String: String]? = nil, node: String? = nil,
             ip: String? = nil, ready: Bool = true, grace: Int64? = nil) -> Pod {
    var pod = Pod(metadata: ObjectMeta(name: name, namespace: namespace, labels: labels),
                  spec: PodSpec(containers: [Container(name: "app", image: "nginx")]))
    pod.spec.nodeName = node
    pod.spec.terminationGracePeriodSeconds = grace
    if let ip {
        pod.status = PodStatus(phase: .running, conditions: [PodCondition(type: .ready, status: ready ? .true : .false)],
                               podIP: ip, podIPs: [PodIP(ip: ip)])
    }
    return pod
}

func makeService(_ name: String, namespace: String = "default", type: ServiceType? = nil, ports: [ServicePort] = [ServicePort(name: "http", port: 80)],
                 selector: [String: String]? = nil, clusterIP: String? = nil) -> Service {
    Service(metadata: ObjectMeta(name: name, namespace: namespace),
            spec: ServiceSpec(type: type, ports: ports, selector: selector, clusterIP: clusterIP))
}

func makeNode(_ name: String) -> Node { Node(metadata: ObjectMeta(name: name)) }

// MARK: HTTP

/// A request as the HTTP server would hand it to `APIServer.handle`.
func makeRequest(_ method: HTTPMethod, _ target: String, body: String? = nil, contentType: String = "application/json",
                 token: String? = "test-token", accept: String? = nil) -> HTTPRequest {
    let parts = target.split(separator: "?", maxSplits: 1).map(String.init)
    var query: [String: String] = [:]
    if parts.count == 2 {
        for pair in parts[1].split(separator: "&") {
            let kv = pair.split(separator: "=", maxSplits: 1).map { String($0).removingPercentEncoding ?? String($0) }
            query[kv[0]] = kv.count == 2 ? kv[1] : ""
        }
    }
    var headers = HTTPHeaders()
    if let token { headers.add(name: "Authorization", value: "Bearer \(token)") }
    if body != nil { headers.add(name: "Content-Type", value: contentType) }
    if let accept { headers.add(name: "Accept", value: accept) }
    headers.add(name: "Host", value: "127.0.0.1:6443")
    return HTTPRequest(method: method, path: parts[0], query: query, headers: headers, body: ByteBuffer(string: body ?? ""))
}

/// A whole response's status code, headers and body.
struct Reply {
    var code: Int
    var headers: HTTPHeaders
    var body: Data
    var json: JSONValue? { try? KubeJSON.decode(JSONValue.self, from: body) }
    var text: String { String(decoding: body, as: UTF8.self) }
}

func reply(_ response: HTTPResponse) -> Reply {
    switch response {
    case .full(let status, let headers, let body):
        return Reply(code: Int(status.code), headers: headers, body: Data(body.readableBytesView))
    case .stream(let status, let headers, _):
        return Reply(code: Int(status.code), headers: headers, body: Data())
    }
}

extension JSONValue {
    /// Element `index` of an array (nil when out of range or not an array), for terse assertions.
    subscript(index: Int) -> JSONValue? {
        guard let array = arrayValue, array.indices.contains(index) else { return nil }
        return array[index]
    }
}

/// Collects the Events a controller records.
final class FakeEventSink: EventSink, Sendable {
    private let recorded = Mutex<[EventRecord]>([])
    var records: [EventRecord] { recorded.withLock { $0 } }
    func record(_ event: EventRecord) async { recorded.withLock { $0.append(event) } }
}
