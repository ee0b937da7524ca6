import Foundation
import HTTPServing
import KubeAPI
import NIOCore
import Values

/// The OpenAPI v3 documents clients read: an index at `/openapi/v3` and one document per group-version.
///
/// They describe the paths and operations this server has (with `x-kubernetes-group-version-kind` and
/// the `fieldValidation` parameter on PATCH, which is how kubectl learns that the server validates
/// fields itself). PATCH request bodies list JSON and merge patch only, so kubectl computes strategic
/// merge patches from its compiled-in types rather than from schemas this server would have to carry.
struct OpenAPIDocuments: Sendable {
    private let documents: [String: Data]  // "api/v1", "apis/discovery.k8s.io/v1"
    private let index: Data

    init(endpoints: [any ResourceEndpoint]) {
        var byGroupVersion: [String: [any ResourceEndpoint]] = [:]
        for e in endpoints {
            let gv = e.info.group.isEmpty ? "api/\(e.info.version)" : "apis/\(e.info.group)/\(e.info.version)"
            byGroupVersion[gv, default: []].append(e)
        }
        var documents: [String: Data] = [:]
        var paths: [String: JSONValue] = [:]
        for (gv, list) in byGroupVersion {
            let data = (try? KubeJSON.encode(Self.document(gv, list.sorted { $0.info.resource < $1.info.resource }))) ?? Data()
            documents[gv] = data
            paths[gv] = ["serverRelativeURL": .string("/openapi/v3/\(gv)?hash=\(Self.hash(data))")]
        }
        self.documents = documents
        self.index = (try? KubeJSON.encode(JSONValue.object(["paths": .object(paths)]))) ?? Data()
    }

    func serve(_ segments: [String]) -> HTTPResponse {
        guard segments.first == "v3" else {
            return APIServer.statusResponse(Status(message: "the server could not find the requested resource", reason: "NotFound", code: 404))
        }
        let rest = segments.dropFirst().joined(separator: "/")
        let body = rest.isEmpty ? index : documents[rest]
        guard let body else { return APIServer.notFound() }
        return .full(status: .ok, headers: ["Content-Type": "application/json"], body: ByteBuffer(bytes: body))
    }

    /// FNV-1a, hex: a stable content hash for the `?hash=` cache key.
    static func hash(_ data: Data) -> String {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in data { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        return String(h, radix: 16, uppercase: true)
    }

    static func schemaName(_ info: ResourceInfo) -> String {
        let group = info.group.isEmpty ? "core" : (info.group.split(separator: ".").first.map(String.init) ?? info.group)
        return "io.k8s.api.\(group).\(info.version).\(info.kind)"
    }

    static func document(_ gv: String, _ endpoints: [any ResourceEndpoint]) -> JSONValue {
        var paths: [String: JSONValue] = [:]
        var schemas: [String: JSONValue] = [:]
        for e in endpoints {
            let info = e.info
            let gvk: JSONValue = ["group": .string(info.group), "version": .string(info.version), "kind": .string(info.kind)]
            let ref: JSONValue = ["$ref": .string("#/components/schemas/\(schemaName(info))")]
            schemas[schemaName(info)] = [
                "type": "object",
                "description": .string("\(info.kind) as served by kproxy's control plane."),
                "x-kubernetes-group-version-kind": [gvk],
                "x-kubernetes-preserve-unknown-fields": true,
            ]
            let base = info.namespaced ? "/\(gv)/namespaces/{namespace}/\(info.resource)" : "/\(gv)/\(info.resource)"
            // Only the operations the kind serves (the review kinds are create-only).
            func ops(_ list: [(method: String, verb: String, operation: JSONValue)]) -> JSONValue {
                .object(Dictionary(uniqueKeysWithValues: list.filter { info.verbs.contains($0.verb) }.map { ($0.method, $0.operation) }))
            }
            paths[base] = ops([("get", "list", op("list", info, gvk, ref)), ("post", "create", op("create", info, gvk, ref)),
                               ("delete", "deletecollection", op("deletecollection", info, gvk, ref))])
            let item = ops([("get", "get", op("read", info, gvk, ref)), ("put", "update", op("replace", info, gvk, ref)),
                            ("patch", "patch", patchOp(info, gvk, ref)), ("delete", "delete", op("delete", info, gvk, ref))])
            if item != .object([:]) { paths["\(base)/{name}"] = item }
            if e.hasStatus { paths["\(base)/{name}/status"] = item }
        }
        return [
            "openapi": "3.0.0",
            "info": ["title": "Kubernetes", "version": .string(APIServer.gitVersion)],
            "paths": .object(paths),
            "components": ["schemas": .object(schemas)],
        ]
    }

    static let queryParameters: [JSONValue] = ["dryRun", "fieldManager", "fieldValidation", "pretty"].map {
        ["name": .string($0), "in": "query", "schema": ["type": "string", "uniqueItems": true]]
    }

    static func op(_ verb: String, _ info: ResourceInfo, _ gvk: JSONValue, _ ref: JSONValue) -> JSONValue {
        [
            "operationId": .string("\(verb)\(info.kind)"),
            "x-kubernetes-action": .string(verb == "read" ? "get" : verb == "replace" ? "put" : verb == "create" ? "post" : verb),
            "x-kubernetes-group-version-kind": gvk,
            "parameters": .array(queryParameters),
            "responses": ["200": ["description": "OK", "content": ["application/json": ["schema": ref]]]],
        ]
    }

    static func patchOp(_ info: ResourceInfo, _ gvk: JSONValue, _ ref: JSONValue) -> JSONValue {
        var patch = op("patch", info, gvk, ref)
        patch["requestBody"] = ["content": [
            "application/json-patch+json": ["schema": ["type": "object"]],
            "application/merge-patch+json": ["schema": ["type": "object"]],
        ], "required": true]
        return patch
    }
}
