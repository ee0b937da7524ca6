import Foundation
import KubeAPI
import NIOCore
import NIOHTTP1
import Testing
@testable import ControlPlane

extension Cluster {
    /// The API server over this cluster's registries, as `ControlPlaneServer` builds it, with token `test-token`.
    var api: APIServer {
        let now: @Sendable () -> Date = { [clock] in clock.now }
        let endpoints: [any ResourceEndpoint] = [
            TypedEndpoint(registry: namespaces, now: now), TypedEndpoint(registry: nodes, now: now),
            TypedEndpoint(registry: pods, now: now), TypedEndpoint(registry: services, now: now),
            TypedEndpoint(registry: events, now: now), TypedEndpoint(registry: slices, now: now),
        ]
        return APIServer(token: "test-token", endpoints: endpoints, logger: silentLogger, health: HealthEndpoint(store: {}, readiness: ReadinessChecks()))
    }

    func send(_ method: HTTPMethod, _ target: String, body: String? = nil, contentType: String = "application/json",
              token: String? = "test-token", accept: String? = nil) async -> Reply {
        reply(await api.handle(makeRequest(method, target, body: body, contentType: contentType, token: token, accept: accept)))
    }
}

let podJSON = #"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"web"},"spec":{"containers":[{"name":"c","image":"nginx"}]}}"#

@Suite("APIServer: routing, discovery, bodies")
struct APIServerTests {
    @Test(arguments: [nil, "wrong-token"] as [String?])
    func requestsWithoutTheTokenAreUnauthorized(_ token: String?) async throws {
        try await Cluster.with { c in
            let r = await c.send(.GET, "/api/v1/namespaces", token: token)
            #expect(r.code == 401)
            #expect(r.json?["kind"] == "Status")
            #expect(r.json?["reason"] == "Unauthorized")
            #expect(await c.send(.GET, "/healthz", token: token).code == 200)
            #expect(await c.send(.GET, "/version", token: token).json?["gitVersion"] == .string(APIServer.gitVersion))
        }
    }

    @Test func coreDiscovery() async throws {
        try await Cluster.with { c in
            let versions = await c.send(.GET, "/api")
            #expect(versions.json?["kind"] == "APIVersions")
            #expect(versions.json?["versions"] == ["v1"])
            let list = await c.send(.GET, "/api/v1")
            #expect(list.json?["groupVersion"] == "v1")
            let names = (list.json?["resources"]?.arrayValue ?? []).compactMap { $0["name"]?.stringValue }
            for expected in ["namespaces", "nodes", "pods", "pods/status", "services", "services/status", "events"] {
                #expect(names.contains(expected), "missing \(expected)")
            }
            #expect(!names.contains("endpointslices"))
            let services = list.json?["resources"]?.arrayValue?.first { $0["name"] == "services" }
            #expect(services?["shortNames"] == ["svc"])
            #expect(services?["namespaced"] == true)
        }
    }

    @Test func groupDiscovery() async throws {
        try await Cluster.with { c in
            let groups = await c.send(.GET, "/apis")
            let names = (groups.json?["groups"]?.arrayValue ?? []).compactMap { $0["name"]?.stringValue }
            #expect(names == ["discovery.k8s.io"])
            let group = await c.send(.GET, "/apis/discovery.k8s.io")
            #expect(group.json?["preferredVersion"]?["groupVersion"] == "discovery.k8s.io/v1")
            let list = await c.send(.GET, "/apis/discovery.k8s.io/v1")
            #expect(list.json?["groupVersion"] == "discovery.k8s.io/v1")
            let resources = (list.json?["resources"]?.arrayValue ?? []).compactMap { $0["name"]?.stringValue }
            #expect(resources == ["endpointslices"])
        }
    }

    @Test func openAPIIndexAndDocuments() async throws {
        try await Cluster.with { c in
            let index = await c.send(.GET, "/openapi/v3")
            let paths = try #require(index.json?["paths"]?.objectValue)
            #expect(Set(paths.keys) == ["api/v1", "apis/discovery.k8s.io/v1"])
            let url = try #require(paths["api/v1"]?["serverRelativeURL"]?.stringValue)
            #expect(url.hasPrefix("/openapi/v3/api/v1?hash="))

            let document = await c.send(.GET, "/openapi/v3/api/v1")
            #expect(document.code == 200)
            let item = try #require(document.json?["paths"]?["/api/v1/namespaces/{namespace}/services/{name}"])
            let patch = try #require(item["patch"])
            #expect(patch["x-kubernetes-group-version-kind"] == ["group": "", "version": "v1", "kind": "Service"])
            let parameters = (patch["parameters"]?.arrayValue ?? []).compactMap { $0["name"]?.stringValue }
            #expect(parameters.contains("fieldValidation"))
            #expect(document.json?["paths"]?["/api/v1/namespaces/{namespace}/services/{name}/status"] != nil)
            #expect(document.json?["paths"]?["/api/v1/nodes/{name}"] != nil)

            let slices = await c.send(.GET, "/openapi/v3/apis/discovery.k8s.io/v1")
            let schemas = slices.json?["components"]?["schemas"]?.objectValue ?? [:]
            #expect(schemas.values.contains { $0["x-kubernetes-group-version-kind"]?.arrayValue?.first?["kind"] == "EndpointSlice" })
            #expect(await c.send(.GET, "/openapi/v3/apis/nope/v1").code == 404)
            #expect(await c.send(.GET, "/openapi/v2").code == 404)
        }
    }

    @Test(arguments: ["/nope", "/api/v2", "/api/v1/widgets", "/apis/nope.io/v1/things", "/apis/discovery.k8s.io/v2",
                      "/api/v1/namespaces/default/nodes", "/api/v1/namespaces/default/pods/web/status/extra"])
    func unknownPathsAreNotFoundStatuses(_ path: String) async throws {
        try await Cluster.with { c in
            let r = await c.send(.GET, path)
            #expect(r.code == 404)
            #expect(r.json?["kind"] == "Status")
            #expect(r.json?["reason"] == "NotFound")
        }
    }

    @Test func createGetAndList() async throws {
        try await Cluster.with { c in
            let created = await c.send(.POST, "/api/v1/namespaces/default/pods", body: podJSON)
            #expect(created.code == 201)
            #expect(created.json?["metadata"]?["namespace"] == "default")
            #expect(created.json?["kind"] == "Pod")
            let got = await c.send(.GET, "/api/v1/namespaces/default/pods/web")
            #expect(got.json?["metadata"]?["uid"] == created.json?["metadata"]?["uid"])
            let list = await c.send(.GET, "/api/v1/pods")
            #expect(list.json?["kind"] == "PodList")
            #expect(list.json?["items"]?.arrayValue?.count == 1)
            #expect(list.json?["metadata"]?["resourceVersion"] == created.json?["metadata"]?["resourceVersion"])
            let missing = await c.send(.GET, "/api/v1/namespaces/default/pods/nope")
            #expect(missing.code == 404)
            #expect(missing.json?["details"]?["kind"] == "pods")
        }
    }

    @Test(arguments: [("Strict", 400, false), ("Warn", 201, true), ("Ignore", 201, false), (nil, 201, true)] as [(String?, Int, Bool)])
    func fieldValidation(_ mode: String?, _ code: Int, _ warns: Bool) async throws {
        try await Cluster.with { c in
            let body = #"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"web"},"spec":{"bogus":1,"containers":[{"name":"c","image":"nginx"}]}}"#
            let query = mode.map { "?fieldValidation=\($0)" } ?? ""
            let r = await c.send(.POST, "/api/v1/namespaces/default/pods\(query)", body: body)
            #expect(r.code == code)
            let warning = r.headers.first(name: "Warning")
            #expect((warning != nil) == warns)
            if warns { #expect(warning?.contains(#"unknown field \"spec.bogus\""#) == true || warning?.contains("spec.bogus") == true) }
            if code == 400 {
                #expect(r.json?["kind"] == "Status")
                #expect(r.json?["message"]?.stringValue?.contains("spec.bogus") == true)
            }
        }
    }

    @Test(arguments: [
        ("{\"apiVersion\":", "application/json"),
        ("metadata: [unclosed", "application/yaml"),
        ("[1, 2]", "application/json"),
        (#"{"kind":"Service","apiVersion":"v1","metadata":{"name":"x"}}"#, "application/json"),
    ])
    func malformedBodiesAreBadRequests(_ body: String, _ type: String) async throws {
        try await Cluster.with { c in
            let r = await c.send(.POST, "/api/v1/namespaces/default/pods", body: body, contentType: type)
            #expect(r.code == 400)
            #expect(r.json?["kind"] == "Status")
            #expect(r.json?["reason"] == "BadRequest")
        }
    }

    @Test func yamlBodiesAreAccepted() async throws {
        try await Cluster.with { c in
            let yaml = """
            apiVersion: v1
            kind: Service
            metadata:
              name: web
            spec:
              ports:
              - port: 80
            """
            let r = await c.send(.POST, "/api/v1/namespaces/default/services", body: yaml, contentType: "application/yaml")
            #expect(r.code == 201)
            #expect(r.json?["spec"]?["ports"]?[0]?["protocol"] == "TCP")
        }
    }

    @Test func patchOverHTTP() async throws {
        try await Cluster.with { c in
            _ = await c.send(.POST, "/api/v1/namespaces/default/services", body: #"{"metadata":{"name":"web"},"spec":{"ports":[{"name":"http","port":80}]}}"#)
            let r = await c.send(.PATCH, "/api/v1/namespaces/default/services/web", body: #"{"spec":{"ports":[{"name":"https","port":443}]}}"#,
                                 contentType: "application/strategic-merge-patch+json")
            #expect(r.code == 200)
            #expect(r.json?["spec"]?["ports"]?.arrayValue?.count == 2)
            let status = await c.send(.PATCH, "/api/v1/namespaces/default/services/web/status",
                                      body: #"{"status":{"loadBalancer":{"ingress":[{"ip":"192.0.2.9"}]}}}"#, contentType: "application/merge-patch+json")
            #expect(status.code == 200)
            #expect(status.json?["status"]?["loadBalancer"]?["ingress"]?[0]?["ip"] == "192.0.2.9")
            #expect(status.json?["spec"]?["ports"]?.arrayValue?.count == 2)
            let bad = await c.send(.PATCH, "/api/v1/namespaces/default/services/web", body: "{}", contentType: "application/apply-patch+yaml")
            #expect(bad.code == 415)
            let noStatus = await c.send(.PATCH, "/api/v1/namespaces/default/pods/web/log", body: "{}", contentType: "application/merge-patch+json")
            #expect(noStatus.code == 404)
        }
    }

    @Test func deleteAnswersOKOrAccepted() async throws {
        try await Cluster.with { c in
            _ = try await c.pods.create(makePod("gone"), namespace: "default")
            _ = try await c.pods.create(makePod("bound", node: "node-1"), namespace: "default")
            #expect(await c.send(.DELETE, "/api/v1/namespaces/default/pods/gone").code == 200)
            let marked = await c.send(.DELETE, "/api/v1/namespaces/default/pods/bound")
            #expect(marked.code == 202)
            #expect(marked.json?["metadata"]?["deletionTimestamp"] != nil)
            let forced = await c.send(.DELETE, "/api/v1/namespaces/default/pods/bound?gracePeriodSeconds=0")
            #expect(forced.code == 200)
            let preconditioned = await c.send(.DELETE, "/api/v1/namespaces/default/services/kubernetes",
                                              body: #"{"preconditions":{"uid":"x"}}"#)
            #expect(preconditioned.code == 404)
        }
    }

    @Test func tableResponses() async throws {
        try await Cluster.with { c in
            _ = try await c.pods.create(makePod("web", node: "node-1", ip: "10.244.1.2"), namespace: "default")
            let accept = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"
            let list = await c.send(.GET, "/api/v1/namespaces/default/pods", accept: accept)
            #expect(list.json?["kind"] == "Table")
            #expect(list.json?["columnDefinitions"]?[0]?["name"] == "Name")
            #expect(list.json?["rows"]?[0]?["cells"]?[0] == "web")
            #expect(list.json?["rows"]?[0]?["object"]?["kind"] == "PartialObjectMetadata")
            let one = await c.send(.GET, "/api/v1/namespaces/default/pods/web?includeObject=Object", accept: accept)
            #expect(one.json?["rows"]?.arrayValue?.count == 1)
            #expect(one.json?["rows"]?[0]?["object"]?["kind"] == "Pod")
        }
    }

    @Test func selectorsInTheQuery() async throws {
        try await Cluster.with { c in
            _ = try await c.pods.create(makePod("a", labels: ["app": "web"], node: "n1"), namespace: "default")
            _ = try await c.pods.create(makePod("b", labels: ["app": "db"], node: "n2"), namespace: "default")
            let byLabel = await c.send(.GET, "/api/v1/pods?labelSelector=app%3Dweb")
            #expect(byLabel.json?["items"]?.arrayValue?.compactMap { $0["metadata"]?["name"]?.stringValue } == ["a"])
            let byField = await c.send(.GET, "/api/v1/pods?fieldSelector=spec.nodeName%3Dn2")
            #expect(byField.json?["items"]?.arrayValue?.compactMap { $0["metadata"]?["name"]?.stringValue } == ["b"])
            #expect(await c.send(.GET, "/api/v1/pods?labelSelector=%3D%3D%3D").code == 400)
            #expect(await c.send(.GET, "/api/v1/pods?resourceVersion=abc").code == 400)
        }
    }

    @Test func watchStreamsJSONLines() async throws {
        try await Cluster.with { c in
            _ = try await c.pods.create(makePod("a"), namespace: "default")
            let response = await c.api.handle(makeRequest(.GET, "/api/v1/pods?watch=true"))
            guard case .stream(let status, _, let body) = response else { Issue.record("not a stream"); return }
            #expect(status == .ok)
            for try await chunk in body {
                let line = String(buffer: chunk)
                #expect(line.hasPrefix(#"{"type":"ADDED","object":{"#))
                #expect(line.hasSuffix("}\n"))
                let event = try KubeJSON.decode(WatchEvent.self, from: Data(line.utf8))
                #expect(event.object["metadata"]?["name"] == "a")
                break
            }
        }
    }
}
