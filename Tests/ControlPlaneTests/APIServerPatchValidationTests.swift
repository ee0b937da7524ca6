import Foundation
import KubeAPI
import NIOHTTP1
import Testing
@testable import ControlPlane

@Suite("APIServer: fieldValidation on PATCH")
struct APIServerPatchValidationTests {
    static let service = #"{"apiVersion":"v1","kind":"Service","metadata":{"name":"web"},"spec":{"ports":[{"port":80}]}}"#

    @Test(arguments: [("Strict", 400, false), ("Warn", 200, true), ("Ignore", 200, false)])
    func unknownFieldsInAPatch(mode: String, code: Int, warns: Bool) async throws {
        try await Cluster.with { c in
            #expect(await c.send(.POST, "/api/v1/namespaces/default/services", body: Self.service).code == 201)
            let r = await c.send(.PATCH, "/api/v1/namespaces/default/services/web?fieldValidation=\(mode)",
                                 body: #"{"spec":{"bogus":1}}"#, contentType: "application/merge-patch+json")
            #expect(r.code == code, "\(r.text)")
            #expect((r.headers.first(name: "Warning")?.contains("spec.bogus") ?? false) == warns)
            if code == 400 { #expect(r.text.contains("strict decoding error: unknown field \\\"spec.bogus\\\"")) }
        }
    }

    @Test func unknownFieldsAlreadyStoredDoNotFailLaterPatches() async throws {
        try await Cluster.with { c in
            let body = #"{"apiVersion":"v1","kind":"Service","metadata":{"name":"web"},"spec":{"ports":[{"port":80}],"future":true}}"#
            #expect(await c.send(.POST, "/api/v1/namespaces/default/services?fieldValidation=Ignore", body: body).code == 201)
            let r = await c.send(.PATCH, "/api/v1/namespaces/default/services/web?fieldValidation=Strict",
                                 body: #"{"metadata":{"labels":{"a":"b"}}}"#, contentType: "application/merge-patch+json")
            #expect(r.code == 200, "\(r.text)")
            #expect(r.json?["spec"]?["future"] == .bool(true), "the unknown field survives")
        }
    }
}
