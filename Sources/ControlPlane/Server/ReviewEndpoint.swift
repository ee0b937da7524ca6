import Foundation
import HTTPServing
import KubeAPI
import NIOCore
import NIOHTTP1
import Values

/// The create-only review kinds kubectl's `auth` commands post: SelfSubjectAccessReview (`auth can-i`),
/// SelfSubjectRulesReview (`auth can-i --list`) and SelfSubjectReview (`auth whoami`). This server has
/// one credential, the administrator's bearer token, so every request it lets through may do anything:
/// the answers say so, as kube-apiserver's would for a member of `system:masters`. Nothing is stored.
struct ReviewEndpoint: ResourceEndpoint {
    enum Review: Sendable { case access, rules, subject }

    let review: Review
    let info: ResourceInfo
    var hasStatus: Bool { false }

    /// The user the token stands for.
    static let username = "kproxy-admin"
    static let groups = ["system:masters", "system:authenticated"]

    static let all: [ReviewEndpoint] = [
        ReviewEndpoint(review: .access, info: ResourceInfo(group: "authorization.k8s.io", version: "v1", kind: "SelfSubjectAccessReview",
                                                           resource: "selfsubjectaccessreviews", singular: "selfsubjectaccessreview",
                                                           namespaced: false, verbs: ["create"])),
        ReviewEndpoint(review: .rules, info: ResourceInfo(group: "authorization.k8s.io", version: "v1", kind: "SelfSubjectRulesReview",
                                                          resource: "selfsubjectrulesreviews", singular: "selfsubjectrulesreview",
                                                          namespaced: false, verbs: ["create"])),
        ReviewEndpoint(review: .subject, info: ResourceInfo(group: "authentication.k8s.io", version: "v1", kind: "SelfSubjectReview",
                                                            resource: "selfsubjectreviews", singular: "selfsubjectreview",
                                                            namespaced: false, verbs: ["create"])),
    ]

    func handle(_ request: ResourceRequest) async -> HTTPResponse {
        guard request.method == .POST, request.name == nil, request.subresource == nil else {
            return APIServer.statusResponse(.methodNotAllowed())
        }
        do {
            _ = try WriteOptions(request.http.query, method: .POST)
            let body = try BodyDecoder.decode(request.http)
            guard case .object = body else { throw Status.badRequest("the request body must be a \(info.kind) object") }
            if let kind = body["kind"]?.stringValue, kind != info.kind {
                throw Status.badRequest("the API version in the data (\(body["apiVersion"]?.stringValue ?? "")) does not match the expected API version (\(info.apiVersion)) or kind \(kind) is not \(info.kind)")
            }
            var answer = body
            answer["kind"] = .string(info.kind)
            answer["apiVersion"] = .string(info.apiVersion)
            answer["metadata"] = ["creationTimestamp": .null]
            answer["status"] = try status(for: body)
            return .full(status: .created, headers: ["Content-Type": "application/json"], body: ByteBuffer(bytes: try KubeJSON.encode(answer)))
        } catch let status as Status {
            return APIServer.statusResponse(status)
        } catch {
            return APIServer.statusResponse(.badRequest("\(error)"))
        }
    }

    private func status(for body: JSONValue) throws -> JSONValue {
        switch review {
        case .access:
            let resource = body["spec"]?["resourceAttributes"], nonResource = body["spec"]?["nonResourceAttributes"]
            guard (resource == nil) != (nonResource == nil) else {
                throw Status.invalid(info, name: "", causes: [StatusCause(reason: StatusCause.reasonInvalid,
                    message: "Invalid value: \"null\": exactly one of nonResourceAttributes or resourceAttributes must be specified",
                    field: "spec.resourceAttributes")])
            }
            return ["allowed": true, "reason": "the bearer token is the administrator's (system:masters)"]
        case .rules:
            return [
                "resourceRules": [["verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]]],
                "nonResourceRules": [["verbs": ["*"], "nonResourceURLs": ["*"]]],
                "incomplete": false,
            ]
        case .subject:
            return ["userInfo": ["username": .string(Self.username), "groups": .array(Self.groups.map { .string($0) })]]
        }
    }
}
