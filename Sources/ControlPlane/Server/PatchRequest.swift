import HTTPServing
import KubeAPI
import Values

/// A PATCH body and its type (from Content-Type), applied to the current object on each try of the update.
struct PatchRequest: Sendable {
    enum Kind: Sendable { case json, merge, strategicMerge }
    let kind: Kind
    let patch: JSONValue

    init(_ http: HTTPRequest) throws {
        let type = (http.header("Content-Type") ?? "").split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
        switch type {
        case "application/json-patch+json": kind = .json
        case "application/merge-patch+json": kind = .merge
        case "application/strategic-merge-patch+json": kind = .strategicMerge
        case "application/apply-patch+yaml", "application/apply-patch+cbor":
            throw Status(message: "server-side apply is not supported by this server; use client-side apply (kubectl apply without --server-side)",
                         reason: "UnsupportedMediaType", code: 415)
        default:
            throw Status(message: "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json",
                         reason: "UnsupportedMediaType", code: 415)
        }
        patch = try BodyDecoder.decode(http)
    }

    /// The patched object, and the paths of unknown fields the patch added (fields the object already
    /// carried are not counted again).
    func apply<T: KubeObject>(to current: T) throws -> (T, addedUnknownPaths: [String]) {
        var typed = current
        typed.setTypeMeta()
        let document = try KubeJSON.toJSONValue(typed)
        let result = try apply(to: document, kind: T.resourceInfo.kind)
        // A resourceVersion in the patch is a precondition, as upstream treats it.
        if let wanted = result["metadata"]?["resourceVersion"]?.stringValue, wanted != current.metadata.resourceVersion {
            throw Status.conflict(T.resourceInfo, name: current.name)
        }
        let (patched, after) = try KubeJSON.decodeReportingUnknown(T.self, from: KubeJSON.encode(result))
        let before = try KubeJSON.decodeReportingUnknown(T.self, from: KubeJSON.encode(document)).unknownPaths
        return (patched, Array(Set(after).subtracting(before)).sorted())
    }

    /// The patch applied to a JSON document of `kind` (its strategic-merge schema); a patch that does not
    /// apply is a 422.
    func apply(to document: JSONValue, kind objectKind: String) throws -> JSONValue {
        do {
            switch kind {
            case .json: return try JSONPatch.apply(patch, to: document)
            case .merge: return JSONMergePatch.apply(patch, to: document)
            case .strategicMerge: return try StrategicMergePatch.apply(patch, to: document, schema: PatchSchema.forKind(objectKind))
            }
        } catch let status as Status {
            throw status
        } catch {
            throw Status(message: "the server rejected our request due to an error in our request: \(error)", reason: "Invalid", code: 422)
        }
    }
}
