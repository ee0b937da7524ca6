import Foundation
import KubeAPI
import NIOCore
import NIOHTTP1
import Testing
@testable import ControlPlane

@Suite("Registry: create and update")
struct RegistryCreateUpdateTests {
    @Test func createSetsIdentityAndTimestamps() async throws {
        try await Cluster.with { c in
            let pod = try await c.pods.create(makePod("web"), namespace: "default")
            #expect(pod.metadata.uid == "uid-2")  // uid-1 is the default namespace
            #expect(pod.metadata.creationTimestamp == "2026-01-01T00:00:00Z")
            #expect(pod.metadata.generation == 1)
            let revision = await c.store.currentRevision()
            #expect(pod.metadata.resourceVersion == String(revision))
            #expect(pod.spec.restartPolicy == .always)  // defaults applied
            let stored = try await c.pods.get(namespace: "default", name: "web")
            #expect(stored == pod)
        }
    }

    /// A pod stored before some default existed (an older kproxy wrote it) takes a status update: the
    /// stored spec is judged with today's defaults, not as an immutable-field change.
    @Test func objectsStoredWithoutNewerDefaultsStillUpdate() async throws {
        try await Cluster.with { c in
            let raw = #"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"old","namespace":"default","uid":"u","creationTimestamp":"2026-01-01T00:00:00Z"},"spec":{"nodeName":"n1","containers":[{"name":"c","image":"nginx"}]},"status":{}}"#
            _ = try await c.store.create("/pods/default/old") { _ in Data(raw.utf8) }
            let updated = try await c.pods.guaranteedUpdate(namespace: "default", name: "old", subresource: .status) { current in
                var copy = current
                copy.status.phase = .running
                return copy
            }
            #expect(updated.status.phase == .running)
        }
    }

    /// pods/binding: node and PodScheduled in one write; a second binding or a wrong uid is a 409.
    @Test func bindingSetsTheNodeOnceInOneWrite() async throws {
        try await Cluster.with { c in
            let pod = try await c.pods.create(makePod("web", ip: nil, ready: false), namespace: "default")
            let before = await c.store.currentRevision()
            let binding = Binding(metadata: ObjectMeta(name: "web", namespace: "default"), target: ObjectReference(kind: "Node", name: "n1"))
            let bound = try await BindingSubresource.bind(c.pods, namespace: "default", name: "web", binding: binding, now: c.clock.now)
            #expect(await c.store.currentRevision() == before + 1)
            #expect(bound.spec.nodeName == "n1")
            #expect(bound.status.conditions?.first { $0.type == .podScheduled }?.status == .true)
            let again = Binding(metadata: ObjectMeta(name: "web", namespace: "default"), target: ObjectReference(kind: "Node", name: "n2"))
            await #expect(throws: Status.self) { try await BindingSubresource.bind(c.pods, namespace: "default", name: "web", binding: again, now: c.clock.now) }
            #expect(try await c.pods.get(namespace: "default", name: "web").spec.nodeName == "n1")
            _ = try await c.pods.create(makePod("other", ip: nil, ready: false), namespace: "default")
            var wrongUID = ObjectMeta(name: "other", namespace: "default")
            wrongUID.uid = (pod.metadata.uid ?? "") + "-not"
            await #expect(throws: Status.self) {
                try await BindingSubresource.bind(c.pods, namespace: "default", name: "other", binding: Binding(metadata: wrongUID, target: binding.target), now: c.clock.now)
            }
            #expect(try await c.pods.get(namespace: "default", name: "other").spec.nodeName == nil)
        }
    }

    @Test func generateNameAddsAFiveCharacterSuffix() async throws {
        try await Cluster.with { c in
            var pod = makePod("")
            pod.metadata.name = nil
            pod.metadata.generateName = "web-"
            let a = try await c.pods.create(pod, namespace: "default")
            let b = try await c.pods.create(pod, namespace: "default")
            #expect(a.name.hasPrefix("web-") && a.name.count == 9)
            #expect(a.name != b.name)
            #expect(a.metadata.generateName == "web-")
        }
    }

    /// Failure cases of create, with the code and reason each gives.
    struct CreateFailure: Sendable, CustomTestStringConvertible {
        var label: String
        var urlNamespace: String?
        var pod: Pod
        var code: Int
        var reason: String
        var testDescription: String { label }
    }

    static let createFailures: [CreateFailure] = [
        CreateFailure(label: "namespace mismatch", urlNamespace: "default", pod: makePod("a", namespace: "other"), code: 400, reason: "BadRequest"),
        CreateFailure(label: "missing namespace", urlNamespace: "nope", pod: makePod("a", namespace: "nope"), code: 404, reason: "NotFound"),
        CreateFailure(label: "invalid name", urlNamespace: "default", pod: makePod("Bad_Name"), code: 422, reason: "Invalid"),
        CreateFailure(label: "no containers", urlNamespace: "default",
                      pod: Pod(metadata: ObjectMeta(name: "empty", namespace: "default")), code: 422, reason: "Invalid"),
    ]

    @Test(arguments: createFailures)
    func createRejects(_ row: CreateFailure) async throws {
        try await Cluster.with { c in
            let failure = await status { try await c.pods.create(row.pod, namespace: row.urlNamespace) }
            #expect(failure?.code == row.code)
            #expect(failure?.reason == row.reason)
            let remaining = try await c.pods.list(namespace: nil).items
            #expect(remaining.isEmpty)
        }
    }

    @Test func validationFailureCarriesCauses() async throws {
        try await Cluster.with { c in
            let failure = await status { try await c.pods.create(Pod(metadata: ObjectMeta(name: "x", namespace: "default")), namespace: "default") }
            #expect(failure?.code == 422)
            #expect(failure?.details?.kind == "Pod")
            #expect(failure?.details?.causes?.contains { $0.field == "spec.containers" } == true)
        }
    }

    @Test func createInTerminatingNamespaceIsForbidden() async throws {
        try await Cluster.with { c in
            _ = try await c.namespaces.create(Namespace(metadata: ObjectMeta(name: "going")), namespace: nil)
            let outcome = try await c.namespaces.delete(namespace: nil, name: "going")
            guard case .marked(let ns) = outcome else { Issue.record("namespace deleted at once"); return }
            #expect(ns.status.phase == .terminating)
            let failure = await status { try await c.pods.create(makePod("p", namespace: "going"), namespace: "going") }
            #expect(failure?.code == 403)
            #expect(failure?.reason == "Forbidden")
        }
    }

    @Test func duplicateCreateIsAlreadyExists() async throws {
        try await Cluster.with { c in
            _ = try await c.pods.create(makePod("web"), namespace: "default")
            let failure = await status { try await c.pods.create(makePod("web"), namespace: "default") }
            #expect(failure?.code == 409)
            #expect(failure?.reason == "AlreadyExists")
        }
    }

    @Test func dryRunCreateWritesNothing() async throws {
        try await Cluster.with { c in
            let before = await c.store.currentRevision()
            let pod = try await c.pods.create(makePod("web"), namespace: "default", dryRun: true)
            #expect(pod.name == "web")
            #expect(await c.store.currentRevision() == before)
            #expect(await status { try await c.pods.get(namespace: "default", name: "web") }?.code == 404)
        }
    }

    // MARK: update

    @Test func staleResourceVersionConflicts() async throws {
        try await Cluster.with { c in
            let created = try await c.pods.create(makePod("web"), namespace: "default")
            var first = created
            first.metadata.labels = ["v": "1"]
            _ = try await c.pods.update(first, namespace: "default", name: "web")
            var stale = created
            stale.metadata.labels = ["v": "2"]
            let failure = await status { try await c.pods.update(stale, namespace: "default", name: "web") }
            #expect(failure?.code == 409)
            #expect(failure?.reason == "Conflict")
            stale.metadata.resourceVersion = ""
            let forced = try await c.pods.update(stale, namespace: "default", name: "web")
            #expect(forced.metadata.labels == ["v": "2"])
        }
    }

    @Test func nameMismatchIsBadRequest() async throws {
        try await Cluster.with { c in
            let created = try await c.pods.create(makePod("web"), namespace: "default")
            let failure = await status { try await c.pods.update(created, namespace: "default", name: "other") }
            #expect(failure?.code == 400)
        }
    }

    @Test func statusSubresourceChangesOnlyStatus() async throws {
        try await Cluster.with { c in
            let created = try await c.pods.create(makePod("web"), namespace: "default")
            var input = created
            input.status.podIP = "10.1.0.5"
            input.metadata.labels = ["ignored": "yes"]
            input.spec.nodeName = "ignored"
            let updated = try await c.pods.update(input, namespace: "default", name: "web", subresource: .status)
            #expect(updated.status.podIP == "10.1.0.5")
            #expect(updated.metadata.labels == nil)
            #expect(updated.spec.nodeName == nil)
            #expect(updated.metadata.generation == 1)

            var main = updated
            main.status.podIP = "10.9.9.9"
            main.metadata.labels = ["app": "web"]
            let second = try await c.pods.update(main, namespace: "default", name: "web")
            #expect(second.status.podIP == "10.1.0.5")
            #expect(second.metadata.labels == ["app": "web"])
        }
    }

    @Test func noOpUpdateKeepsResourceVersion() async throws {
        try await Cluster.with { c in
            let created = try await c.pods.create(makePod("web"), namespace: "default")
            let before = await c.store.currentRevision()
            let same = try await c.pods.update(created, namespace: "default", name: "web")
            #expect(same.metadata.resourceVersion == created.metadata.resourceVersion)
            #expect(await c.store.currentRevision() == before)
        }
    }

    @Test func generationBumpsOnlyOnSpecChange() async throws {
        try await Cluster.with { c in
            let created = try await c.services.create(makeService("web"), namespace: "default")
            var labelled = created
            labelled.metadata.labels = ["a": "b"]
            let afterLabels = try await c.services.update(labelled, namespace: "default", name: "web")
            #expect(afterLabels.metadata.generation == 1)
            var changed = afterLabels
            changed.spec.selector = ["app": "web"]
            let afterSpec = try await c.services.update(changed, namespace: "default", name: "web")
            #expect(afterSpec.metadata.generation == 2)
            #expect(afterSpec.metadata.uid == created.metadata.uid)
            #expect(afterSpec.metadata.creationTimestamp == created.metadata.creationTimestamp)
        }
    }

    // MARK: patch

    func patch(_ type: String, _ body: String) throws -> PatchRequest {
        try PatchRequest(makeRequest(.PATCH, "/x", body: body, contentType: type))
    }

    @Test func mergePatchChangesLabels() async throws {
        try await Cluster.with { c in
            _ = try await c.pods.create(makePod("web", labels: ["a": "1", "b": "2"]), namespace: "default")
            let p = try patch("application/merge-patch+json", #"{"metadata":{"labels":{"a":null,"c":"3"}}}"#)
            let patched = try await c.pods.guaranteedUpdate(namespace: "default", name: "web") { try p.apply(to: $0).0 }
            #expect(patched.metadata.labels == ["b": "2", "c": "3"])
        }
    }

    @Test func jsonPatchReplacesAField() async throws {
        try await Cluster.with { c in
            _ = try await c.services.create(makeService("web"), namespace: "default")
            let p = try patch("application/json-patch+json", #"[{"op":"replace","path":"/spec/ports/0/port","value":8080}]"#)
            let patched = try await c.services.guaranteedUpdate(namespace: "default", name: "web") { try p.apply(to: $0).0 }
            #expect(patched.spec.ports?.first?.port == 8080)
            #expect(patched.metadata.generation == 2)
        }
    }

    @Test func strategicMergeAddsAServicePortByKey() async throws {
        try await Cluster.with { c in
            _ = try await c.services.create(makeService("web"), namespace: "default")
            let p = try patch("application/strategic-merge-patch+json", #"{"spec":{"ports":[{"name":"https","port":443}]}}"#)
            let patched = try await c.services.guaranteedUpdate(namespace: "default", name: "web") { try p.apply(to: $0).0 }
            #expect(patched.spec.ports?.map(\.port).sorted() == [80, 443])
        }
    }

    @Test func resourceVersionInPatchIsAPrecondition() async throws {
        try await Cluster.with { c in
            let created = try await c.pods.create(makePod("web"), namespace: "default")
            let stale = try patch("application/merge-patch+json", #"{"metadata":{"resourceVersion":"1","labels":{"a":"b"}}}"#)
            let failure = await status { try await c.pods.guaranteedUpdate(namespace: "default", name: "web") { try stale.apply(to: $0).0 } }
            #expect(failure?.code == 409)
            let rv = created.metadata.resourceVersion ?? ""
            let fresh = try patch("application/merge-patch+json", #"{"metadata":{"resourceVersion":"\#(rv)","labels":{"a":"b"}}}"#)
            let patched = try await c.pods.guaranteedUpdate(namespace: "default", name: "web") { try fresh.apply(to: $0).0 }
            #expect(patched.metadata.labels == ["a": "b"])
        }
    }

    @Test(arguments: [("application/apply-patch+yaml", 415), ("text/plain", 415)])
    func unsupportedPatchTypes(_ type: String, _ code: Int) {
        #expect(throws: Status.self) { try patch(type, "{}") }
        do { _ = try patch(type, "{}") } catch let s as Status { #expect(s.code == code) } catch {}
    }
}
