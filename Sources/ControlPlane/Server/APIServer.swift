import Foundation
import HTTPServing
import KubeAPI
import Logging
import NIOCore
import NIOHTTP1
import Values

/// The Kubernetes API over HTTP: authentication, discovery, OpenAPI, and routing to resource endpoints.
public final class APIServer: HTTPRequestHandler {
    /// kube-apiserver's version, as reported to clients (kubectl checks it only for skew warnings).
    public static let gitVersion = "v1.32.0-kproxy"

    private let token: String
    private let endpoints: [String: any ResourceEndpoint]  // "group/version/resource"
    private let groups: [(group: String, version: String)]
    private let openAPI: OpenAPIDocuments
    private let logger: Logger
    private let health: HealthEndpoint

    init(token: String, endpoints: [any ResourceEndpoint], logger: Logger, health: HealthEndpoint) {
        self.token = token
        var map: [String: any ResourceEndpoint] = [:]
        var groups: [(String, String)] = []
        for e in endpoints {
            map["\(e.info.group)/\(e.info.version)/\(e.info.resource)"] = e
            if !groups.contains(where: { $0.0 == e.info.group && $0.1 == e.info.version }) { groups.append((e.info.group, e.info.version)) }
        }
        self.endpoints = map
        self.groups = groups
        self.openAPI = OpenAPIDocuments(endpoints: endpoints)
        self.logger = logger
        self.health = health
    }

    public func handle(_ request: HTTPRequest) async -> HTTPResponse {
        let segments = request.path.split(separator: "/").map { percentDecode(String($0)) }
        // Health and version are public, as upstream's system:public-info-viewer allows.
        switch segments.first {
        case "healthz", "livez", "readyz":
            guard let endpoint = segments.first, segments.count <= 2 else { return Self.notFound() }
            return await health.handle(endpoint, check: segments.count == 2 ? segments[1] : nil, verbose: request.query["verbose"] != nil)
        case "version": return Self.jsonResponse(["major": "1", "minor": "32", "gitVersion": .string(Self.gitVersion), "platform": "linux/amd64"])
        default: break
        }
        guard authorized(request) else { return Self.statusResponse(.unauthorized()) }
        switch segments.first {
        case "api": return await routeCore(Array(segments.dropFirst()), request)
        case "apis": return await routeGroups(Array(segments.dropFirst()), request)
        case "openapi": return openAPI.serve(Array(segments.dropFirst()))
        default: return Self.statusResponse(Status(message: "the server could not find the requested resource", reason: "NotFound", code: 404))
        }
    }

    private func authorized(_ request: HTTPRequest) -> Bool {
        guard let header = request.header("Authorization"), header.hasPrefix("Bearer ") else { return false }
        return constantTimeEqual(Array(header.utf8.dropFirst(7)), Array(token.utf8))
    }

    private func routeCore(_ s: [String], _ request: HTTPRequest) async -> HTTPResponse {
        if s.isEmpty { return Self.encoded(APIVersions(versions: ["v1"], serverAddressByClientCIDRs: [ServerAddressByClientCIDR(clientCIDR: "0.0.0.0/0", serverAddress: request.header("Host") ?? "")])) }
        guard s[0] == "v1" else { return Self.notFound() }
        if s.count == 1 { return Self.encoded(resourceList(group: "", version: "v1")) }
        return await routeResource(group: "", version: "v1", Array(s.dropFirst()), request)
    }

    private func routeGroups(_ s: [String], _ request: HTTPRequest) async -> HTTPResponse {
        let named = groups.filter { !$0.group.isEmpty }
        if s.isEmpty { return Self.encoded(APIGroupList(groups: Dictionary(grouping: named, by: \.group).keys.sorted().map(apiGroup))) }
        guard named.contains(where: { $0.group == s[0] }) else { return Self.notFound() }
        if s.count == 1 { return Self.encoded(apiGroup(s[0])) }
        guard named.contains(where: { $0.group == s[0] && $0.version == s[1] }) else { return Self.notFound() }
        if s.count == 2 { return Self.encoded(resourceList(group: s[0], version: s[1])) }
        return await routeResource(group: s[0], version: s[1], Array(s.dropFirst(2)), request)
    }

    /// `{resource}[/{name}[/{sub}]]` or `namespaces/{ns}/{resource}[/{name}[/{sub}]]`.
    private func routeResource(group: String, version: String, _ s: [String], _ request: HTTPRequest) async -> HTTPResponse {
        var namespace: String?
        var rest = s[...]
        if group.isEmpty, rest.count >= 3, rest.first == "namespaces", let candidate = endpoints["/\(version)/\(rest[rest.startIndex + 2])"], candidate.info.namespaced {
            namespace = rest[rest.startIndex + 1]
            rest = rest.dropFirst(2)
        } else if !group.isEmpty, rest.count >= 3, rest.first == "namespaces" {
            namespace = rest[rest.startIndex + 1]
            rest = rest.dropFirst(2)
        }
        guard let resource = rest.first, let endpoint = endpoints["\(group)/\(version)/\(resource)"] else { return Self.notFound() }
        rest = rest.dropFirst()
        if namespace != nil, !endpoint.info.namespaced { return Self.notFound() }
        let name = rest.first
        let sub = rest.dropFirst().first
        if rest.count > 2 { return Self.notFound() }
        // /status and the kind's extras (`/api/v1/namespaces/default/nodes` lands here as a subresource).
        if let sub, !(sub == "status" && endpoint.hasStatus), endpoint.extras[sub] == nil { return Self.notFound() }
        return await endpoint.handle(ResourceRequest(method: request.method, namespace: namespace, name: name, subresource: sub, http: request))
    }

    private func apiGroup(_ name: String) -> APIGroup {
        let versions = groups.filter { $0.group == name }.map { GroupVersionForDiscovery(groupVersion: "\(name)/\($0.version)", version: $0.version) }
        var g = APIGroup(name: name, versions: versions, preferredVersion: versions.first)
        g.kind = "APIGroup"; g.apiVersion = "v1"
        return g
    }

    private func resourceList(group: String, version: String) -> APIResourceList {
        var resources: [APIResource] = []
        for e in endpoints.values.sorted(by: { $0.info.resource < $1.info.resource }) where e.info.group == group && e.info.version == version {
            resources.append(APIResource(e.info))
            if e.hasStatus {
                var status = APIResource(e.info)
                status.name = "\(e.info.resource)/status"
                status.singularName = ""
                status.verbs = ["get", "patch", "update"]
                status.shortNames = nil
                status.categories = nil
                resources.append(status)
            }
            for name in e.extras.keys.sorted() { if let extra = e.extras[name] { resources.append(extra.discovery) } }
        }
        return APIResourceList(groupVersion: group.isEmpty ? version : "\(group)/\(version)", resources: resources)
    }

    // MARK: responses

    static func statusResponse(_ status: Status) -> HTTPResponse {
        let body = (try? KubeJSON.encode(status)) ?? Data("{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":\"Failure\",\"code\":500}".utf8)
        return .full(status: HTTPResponseStatus(statusCode: status.code), headers: ["Content-Type": "application/json"], body: ByteBuffer(bytes: body))
    }

    static func notFound() -> HTTPResponse {
        statusResponse(Status(message: "the server could not find the requested resource", reason: "NotFound", details: StatusDetails(), code: 404))
    }

    static func encoded<V: Encodable>(_ value: V) -> HTTPResponse {
        guard let body = try? KubeJSON.encode(value) else { return statusResponse(.internalError("encoding failed")) }
        return .full(status: .ok, headers: ["Content-Type": "application/json"], body: ByteBuffer(bytes: body))
    }

    static func jsonResponse(_ value: JSONValue) -> HTTPResponse { encoded(value) }

    static func text(_ s: String) -> HTTPResponse {
        .full(status: .ok, headers: ["Content-Type": "text/plain; charset=utf-8"], body: ByteBuffer(string: s))
    }
}

func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
    guard a.count == b.count else { return false }
    var diff: UInt8 = 0
    for i in 0..<a.count { diff |= a[i] ^ b[i] }
    return diff == 0
}
