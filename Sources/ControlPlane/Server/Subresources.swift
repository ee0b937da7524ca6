import Foundation
import HTTPServing
import KubeAPI
import NIOCore
import NIOHTTP1
import AsyncHTTPClient
import NIOSSL

/// A subresource beyond `/status` (`deployments/scale`, `pods/binding`): its discovery entry and handler.
struct ExtraSubresource: Sendable {
    let discovery: APIResource
    let handle: @Sendable (ResourceRequest) async throws -> HTTPResponse
}

/// Kinds with a `scale` subresource: a desired replica count, the count observed, and the selector.
protocol ScalableObject: ServedObject {
    var desiredReplicas: Int { get set }
    var observedReplicas: Int { get }
    var selectorText: String { get }
}

extension Deployment: ScalableObject {
    var desiredReplicas: Int { get { spec.replicas ?? 1 } set { spec.replicas = newValue } }
    var observedReplicas: Int { status.replicas ?? 0 }
    var selectorText: String { spec.selector?.text ?? "" }
}

extension ReplicaSet: ScalableObject {
    var desiredReplicas: Int { get { spec.replicas ?? 1 } set { spec.replicas = newValue } }
    var observedReplicas: Int { status.replicas }
    var selectorText: String { spec.selector?.text ?? "" }
}

enum ScaleSubresource {
    /// GET, PUT and PATCH (JSON, merge) of `autoscaling/v1 Scale`, written through the owner's registry
    /// so validation, generation and optimistic concurrency are the owner's.
    static func make<T: ScalableObject>(_ registry: ResourceRegistry<T>) -> (String, ExtraSubresource) {
        var entry = APIResource(name: "\(T.resourceInfo.resource)/scale", singularName: "", namespaced: T.resourceInfo.namespaced,
                                kind: "Scale", verbs: ["get", "patch", "update"], group: "autoscaling", version: "v1")
        entry.shortNames = nil
        let handler: @Sendable (ResourceRequest) async throws -> HTTPResponse = { request in
            guard let name = request.name else { throw Status.methodNotAllowed() }
            let dryRun = try WriteOptions(request.http.query, method: request.method).dryRun
            switch request.method {
            case .GET:
                return try respond(scale(of: try await registry.get(namespace: request.namespace, name: name)))
            case .PUT:
                let body = try KubeJSON.decode(Scale.self, from: try BodyDecoder.jsonBytes(request.http))
                let updated = try await registry.guaranteedUpdate(namespace: request.namespace, name: name, dryRun: dryRun) { current in
                    if let rv = body.metadata.resourceVersion, !rv.isEmpty, rv != current.metadata.resourceVersion {
                        throw Status.conflict(T.resourceInfo, name: name)
                    }
                    return try scaled(current, to: body.spec.replicas)
                }
                return try respond(scale(of: updated))
            case .PATCH:
                let patch = try PatchRequest(request.http)
                let updated = try await registry.guaranteedUpdate(namespace: request.namespace, name: name, dryRun: dryRun) { current in
                    let result = try patch.apply(to: try KubeJSON.toJSONValue(scale(of: current)), kind: "Scale")
                    let wanted = try KubeJSON.fromJSONValue(Scale.self, result)
                    if let rv = wanted.metadata.resourceVersion, !rv.isEmpty, rv != current.metadata.resourceVersion {
                        throw Status.conflict(T.resourceInfo, name: name)
                    }
                    return try scaled(current, to: wanted.spec.replicas)
                }
                return try respond(scale(of: updated))
            default:
                throw Status.methodNotAllowed()
            }
        }
        return ("scale", ExtraSubresource(discovery: entry, handle: handler))
    }

    static func scale<T: ScalableObject>(of object: T) -> Scale {
        var meta = ObjectMeta(name: object.metadata.name, namespace: object.metadata.namespace)
        meta.uid = object.metadata.uid
        meta.resourceVersion = object.metadata.resourceVersion
        meta.creationTimestamp = object.metadata.creationTimestamp
        return Scale(metadata: meta, spec: .init(replicas: object.desiredReplicas),
                     status: .init(replicas: object.observedReplicas, selector: object.selectorText))
    }

    static func scaled<T: ScalableObject>(_ current: T, to replicas: Int?) throws -> T {
        guard let replicas else { return current }
        guard replicas >= 0 else {
            throw Status(message: "Scale.autoscaling \"\(current.name)\" is invalid: spec.replicas: Invalid value: \(replicas): must be greater than or equal to 0",
                         reason: "Invalid", details: StatusDetails(name: current.name, group: "autoscaling", kind: "Scale",
                                                                   causes: [.invalid("spec.replicas", replicas, "must be greater than or equal to 0")]),
                         code: 422)
        }
        var copy = current
        copy.desiredReplicas = replicas
        return copy
    }

    static func respond(_ scale: Scale) throws -> HTTPResponse {
        .full(status: .ok, headers: ["Content-Type": "application/json"], body: ByteBuffer(bytes: try KubeJSON.encode(scale)))
    }
}

enum BindingSubresource {
    /// `POST pods/{name}/binding`: sets `spec.nodeName` once (409 when the pod is already bound) and the
    /// `PodScheduled` condition, as upstream's binding storage does.
    static func make(_ pods: ResourceRegistry<Pod>, now: @escaping @Sendable () -> Date) -> (String, ExtraSubresource) {
        let entry = APIResource(name: "pods/binding", singularName: "", namespaced: true, kind: "Binding", verbs: ["create"])
        let handler: @Sendable (ResourceRequest) async throws -> HTTPResponse = { request in
            guard request.method == .POST, let name = request.name else { throw Status.methodNotAllowed() }
            let binding = try KubeJSON.decode(Binding.self, from: try BodyDecoder.jsonBytes(request.http))
            _ = try await bind(pods, namespace: request.namespace, name: name, binding: binding, now: now())
            let answer = Status(status: "Success", message: nil, reason: nil, code: 201)
            return .full(status: .created, headers: ["Content-Type": "application/json"], body: ByteBuffer(bytes: try KubeJSON.encode(answer)))
        }
        return ("binding", ExtraSubresource(discovery: entry, handle: handler))
    }

    static func bind(_ pods: ResourceRegistry<Pod>, namespace: String?, name: String, binding: Binding, now: Date) async throws -> Pod {
        let node = binding.target.name ?? ""
        guard !node.isEmpty else {
            throw Status.invalid(Pod.resourceInfo, name: name, causes: [.required("target.name")])
        }
        let stamp = KubeTime.format(now)
        // One write, node and condition together, as upstream's binding storage does.
        return try await pods.guaranteedUpdate(namespace: namespace, name: name, subresource: .binding) { current in
            if let uid = binding.metadata.uid, !uid.isEmpty, current.metadata.uid != uid {
                throw Status.conflict(Pod.resourceInfo, name: name)
            }
            if current.isTerminating {
                throw Status(message: "Operation cannot be fulfilled on pods/binding \"\(name)\": pod \(name) is being deleted, cannot be assigned to a host",
                             reason: "Conflict", details: StatusDetails(name: name, kind: "pods/binding"), code: 409)
            }
            if let existing = current.spec.nodeName, !existing.isEmpty {
                throw Status(message: "Operation cannot be fulfilled on pods/binding \"\(name)\": pod \(name) is already assigned to node \"\(existing)\"",
                             reason: "Conflict", details: StatusDetails(name: name, kind: "pods/binding"), code: 409)
            }
            var copy = current
            copy.spec.nodeName = node
            var conditions = copy.status.conditions ?? []
            conditions.removeAll { $0.type == .podScheduled }
            conditions.append(PodCondition(type: .podScheduled, status: .true, lastTransitionTime: stamp))
            copy.status.conditions = conditions
            if copy.status.phase == nil { copy.status.phase = .pending }
            return copy
        }
    }
}

/// `GET pods/{name}/log`: the API server finds the pod's node and streams the log from that node's agent
/// (`/containerLogs/…` at the node's InternalIP and `daemonEndpoints.kubeletEndpoint.Port`), as upstream
/// proxies it to the kubelet: `container`, `follow`, `tailLines` and `previous` are passed on; the node's
/// certificate is not verified (upstream's default without `--kubelet-certificate-authority`); the
/// control plane's bearer token authenticates it to the agent.
enum LogSubresource {
    /// One client for the process (never shut down, so never torn down under a request): node certificates are
    /// self-signed and not verified.
    static let client: HTTPClient = {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.certificateVerification = .none
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: HTTPClient.Configuration(tlsConfiguration: tls))
    }()

    static func make(pods: ResourceRegistry<Pod>, nodes: ResourceRegistry<Node>, token: String) -> (String, ExtraSubresource) {
        let entry = APIResource(name: "pods/log", singularName: "", namespaced: true, kind: "Pod", verbs: ["get"])
        let handler: @Sendable (ResourceRequest) async throws -> HTTPResponse = { request in
            guard request.method == .GET, let name = request.name, let namespace = request.namespace else { throw Status.methodNotAllowed() }
            let target = try await NodeTarget.resolve(pods: pods, nodes: nodes, namespace: namespace, name: name,
                                                      container: request.http.query["container"])
            let (host, port, container) = (target.host, target.port, target.container)
            var query: [String] = []
            for key in ["follow", "previous", "tailLines", "limitBytes", "sinceSeconds", "timestamps"] {
                if let v = request.http.query[key], !v.isEmpty { query.append("\(key)=\(percentEncodeQuery(v))") }
            }
            var outgoing = HTTPClientRequest(url: "https://\(host):\(port)/containerLogs/\(namespace)/\(name)/\(container)"
                                             + (query.isEmpty ? "" : "?" + query.joined(separator: "&")))
            outgoing.headers.add(name: "Authorization", value: "Bearer \(token)")
            let follow = request.http.query["follow"] == "true"
            let response: HTTPClientResponse
            do {
                response = try await Self.client.execute(outgoing, timeout: follow ? .hours(24) : .seconds(30))
            } catch {
                throw Status(message: "Get \"https://\(host):\(port)/containerLogs/\(namespace)/\(name)/\(container)\": \(error)",
                             reason: "InternalError", details: nil, code: 500)
            }
            guard response.status == .ok else {
                var body = try await response.body.collect(upTo: 64 * 1024)
                let message = (body.readString(length: body.readableBytes) ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
                throw Status.badRequest(message.isEmpty ? "node \(target.node) answered \(response.status.code)" : message)
            }
            let body = response.body
            let stream = AsyncThrowingStream<ByteBuffer, Error> { continuation in
                let task = Task {
                    do {
                        for try await chunk in body { continuation.yield(chunk) }
                        continuation.finish()
                    } catch {
                        continuation.finish(throwing: error)
                    }
                }
                continuation.onTermination = { _ in task.cancel() }
            }
            return .stream(status: .ok, headers: ["Content-Type": "text/plain"], body: stream)
        }
        return ("log", ExtraSubresource(discovery: entry, handle: handler))
    }

    static func percentEncodeQuery(_ s: String) -> String {
        s.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? s
    }
}

/// Where a pod's container is served by its node's agent, found as upstream's API server finds the kubelet
/// for logs and exec: the container named (or the only one), the pod's node, its InternalIP and
/// `daemonEndpoints.kubeletEndpoint.Port` (10250 when unset).
struct NodeTarget {
    var node: String, container: String
    var address: String
    var port: Int
    /// The address as a URL or Host header has it (IPv6 in brackets).
    var host: String { address.contains(":") ? "[\(address)]" : address }

    static func resolve(pods: ResourceRegistry<Pod>, nodes: ResourceRegistry<Node>, namespace: String, name: String,
                        container asked: String?) async throws -> NodeTarget {
        let pod = try await pods.get(namespace: namespace, name: name)
        let names = pod.spec.containers.map(\.name)
        let container: String
        if let asked, !asked.isEmpty {
            guard names.contains(asked) else { throw Status.badRequest("container \(asked) is not valid for pod \(name)") }
            container = asked
        } else if names.count == 1 {
            container = names[0]
        } else {
            throw Status.badRequest("a container name must be specified for pod \(name), choose one of: [\(names.joined(separator: " "))]")
        }
        guard let nodeName = pod.spec.nodeName, !nodeName.isEmpty else { throw Status.badRequest("pod \(name) does not have a host assigned") }
        let node = try await nodes.get(namespace: nil, name: nodeName)
        guard let address = node.status.addresses?.first(where: { $0.type == .internalIP })?.address else {
            throw Status.badRequest("node \(nodeName) has no InternalIP address")
        }
        let port = Int(node.status.unknownFields.values["daemonEndpoints"]?["kubeletEndpoint"]?["Port"]?.intValue ?? 10250)
        return NodeTarget(node: nodeName, container: container, address: address, port: port)
    }
}
