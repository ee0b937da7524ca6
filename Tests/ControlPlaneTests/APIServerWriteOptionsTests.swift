import Foundation
import KubeAPI
import NIOHTTP1
import Testing
@testable import ControlPlane

/// `dryRun` and `fieldValidation` on every write verb, as upstream validates them: a dry run writes
/// nothing (also on a collection), an unsupported value is a 422 naming the options kind and writes nothing.
@Suite("APIServer: write options")
struct APIServerWriteOptionsTests {
    static func service(_ name: String) -> String {
        #"{"apiVersion":"v1","kind":"Service","metadata":{"name":"\#(name)","labels":{"app":"web"}},"spec":{"ports":[{"port":80}]}}"#
    }

    static func names(_ r: Reply) -> [String] {
        (r.json?["items"]?.arrayValue ?? []).compactMap { $0["metadata"]?["name"]?.stringValue }.sorted()
    }

    @Test(arguments: ["?dryRun=All&labelSelector=app%3Dweb", "?labelSelector=app%3Dweb#body"])
    func dryRunCollectionDeleteRemovesNothing(query: String) async throws {
        try await Cluster.with { c in
            for name in ["a", "b"] { #expect(await c.send(.POST, "/api/v1/namespaces/default/services", body: Self.service(name)).code == 201) }
            let inBody = query.hasSuffix("#body")
            let path = "/api/v1/namespaces/default/services" + query.replacingOccurrences(of: "#body", with: "")
            let r = await c.send(.DELETE, path, body: inBody ? #"{"kind":"DeleteOptions","apiVersion":"v1","dryRun":["All"]}"# : nil)
            #expect(r.code == 200, "\(r.text)")
            #expect(Self.names(r) == ["a", "b"], "the answer lists what would be deleted")
            let after = await c.send(.GET, "/api/v1/namespaces/default/services?labelSelector=app%3Dweb")
            #expect(Self.names(after) == ["a", "b"], "nothing was deleted")
            // Without dryRun the same request deletes them.
            let real = await c.send(.DELETE, "/api/v1/namespaces/default/services?labelSelector=app%3Dweb")
            #expect(Self.names(real) == ["a", "b"])
            #expect(Self.names(await c.send(.GET, "/api/v1/namespaces/default/services?labelSelector=app%3Dweb")).isEmpty)
        }
    }

    @Test(arguments: [
        (HTTPMethod.POST, "/api/v1/namespaces/default/services?fieldValidation=Bogus", "CreateOptions", "fieldValidation", "Bogus"),
        (.POST, "/api/v1/namespaces/default/services?dryRun=Yes", "CreateOptions", "dryRun", "Yes"),
        (.PUT, "/api/v1/namespaces/default/services/web?fieldValidation=strict", "UpdateOptions", "fieldValidation", "strict"),
        (.PATCH, "/api/v1/namespaces/default/services/web?fieldValidation=Loud", "PatchOptions", "fieldValidation", "Loud"),
        (.PATCH, "/api/v1/namespaces/default/services/web?dryRun=true", "PatchOptions", "dryRun", "true"),
        (.DELETE, "/api/v1/namespaces/default/services/web?dryRun=Server", "DeleteOptions", "dryRun", "Server"),
        (.DELETE, "/api/v1/namespaces/default/services?dryRun=Server", "DeleteOptions", "dryRun", "Server"),
    ])
    func unsupportedOptionValuesAreInvalid(method: HTTPMethod, path: String, kind: String, field: String, value: String) async throws {
        try await Cluster.with { c in
            let created = await c.send(.POST, "/api/v1/namespaces/default/services", body: Self.service("web"))
            #expect(created.code == 201)
            let body: String? = switch method {
            case .POST: Self.service("other")
            case .PUT: created.text.replacingOccurrences(of: #""port":80"#, with: #""port":81"#)
            case .PATCH: #"{"spec":{"ports":[{"port":82}]}}"#
            default: nil
            }
            let r = await c.send(method, path, body: body, contentType: method == .PATCH ? "application/merge-patch+json" : "application/json")
            #expect(r.code == 422, "\(r.text)")
            #expect(r.json?["reason"] == "Invalid")
            #expect(r.json?["details"]?["kind"]?.stringValue == kind)
            #expect(r.json?["details"]?["group"] == "meta.k8s.io")
            #expect(r.json?["details"]?["causes"]?[0]?["field"]?.stringValue == field)
            #expect(r.json?["details"]?["causes"]?[0]?["reason"] == "FieldValueNotSupported")
            #expect(r.json?["message"]?.stringValue?.hasPrefix("\(kind).meta.k8s.io \"\" is invalid: \(field): Unsupported value: \"\(value)\"") == true)
            // Nothing was written.
            let list = await c.send(.GET, "/api/v1/namespaces/default/services")
            #expect(Self.names(list) == ["web"])
            let web = await c.send(.GET, "/api/v1/namespaces/default/services/web")
            #expect(web.json?["spec"]?["ports"]?[0]?["port"] == .int(80))
        }
    }

    @Test func emptyFieldValidationMeansWarn() async throws {
        try await Cluster.with { c in
            let body = #"{"apiVersion":"v1","kind":"Service","metadata":{"name":"web"},"spec":{"ports":[{"port":80}],"bogus":1}}"#
            let r = await c.send(.POST, "/api/v1/namespaces/default/services?fieldValidation=", body: body)
            #expect(r.code == 201, "\(r.text)")
            #expect(r.headers.first(name: "Warning")?.contains("spec.bogus") == true)
        }
    }
}
