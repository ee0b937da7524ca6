import Foundation
import KubeAPI
import Synchronization
import Testing
@testable import ControlPlane
import Values

/// Consumes a registry watch in the background; tests wait on what it has seen.
final class WatchRecorder: Sendable {
    struct Seen: Sendable, Equatable {
        var type: WatchEventType
        var name: String
        var resourceVersion: String
        var annotations: [String: String]
    }

    private final class State: Sendable {
        let value = Mutex<(items: [Seen], ended: Bool, statuses: [Status])>(([], false, []))
        func withLock<R>(_ body: (inout (items: [Seen], ended: Bool, statuses: [Status])) -> R) -> R { value.withLock { body(&$0) } }
    }
    private let state = State()
    private let task: Task<Void, Never>

    init(_ stream: AsyncThrowingStream<WatchItem, Error>) {
        let state = self.state
        task = Task {
            do {
                for try await item in stream {
                    let object = (try? KubeJSON.decode(JSONValue.self, from: item.object)) ?? .null
                    let meta = object["metadata"]
                    var annotations: [String: String] = [:]
                    for (k, v) in meta?["annotations"]?.objectValue ?? [:] { annotations[k] = v.stringValue }
                    let seen = Seen(type: item.type, name: meta?["name"]?.stringValue ?? "",
                                    resourceVersion: meta?["resourceVersion"]?.stringValue ?? "", annotations: annotations)
                    let status = item.type == .error ? try? KubeJSON.decode(Status.self, from: item.object) : nil
                    state.withLock { s in
                        s.items.append(seen)
                        if let status { s.statuses.append(status) }
                    }
                }
            } catch {}
            state.withLock { $0.ended = true }
        }
    }

    var items: [Seen] { state.withLock { $0.items } }
    var ended: Bool { state.withLock { $0.ended } }
    var statuses: [Status] { state.withLock { $0.statuses } }
    /// Events other than bookmarks, as "TYPE name".
    var events: [String] { items.filter { $0.type != .bookmark }.map { "\($0.type.rawValue) \($0.name)" } }

    func stop() { task.cancel() }
    deinit { task.cancel() }
}

@Suite("Registry: watch")
struct RegistryWatchTests {
    @Test func fromNothingListsThenFollows() async throws {
        try await Cluster.with { c in
            _ = try await c.pods.create(makePod("a"), namespace: "default")
            _ = try await c.pods.create(makePod("b"), namespace: "default")
            let w = WatchRecorder(c.pods.watch(namespace: "default", options: ListOptions()))
            await eventually("initial ADDED events") { w.events == ["ADDED a", "ADDED b"] }
            _ = try await c.pods.create(makePod("c"), namespace: "default")
            _ = try await c.pods.guaranteedUpdate(namespace: "default", name: "a") { var p = $0; p.metadata.labels = ["x": "y"]; return p }
            _ = try await c.pods.delete(namespace: "default", name: "b")
            await eventually("live events") { w.events == ["ADDED a", "ADDED b", "ADDED c", "MODIFIED a", "DELETED b"] }
            // Each event carries its own revision.
            let versions = w.items.suffix(3).compactMap { Int64($0.resourceVersion) }
            #expect(versions == versions.sorted() && Set(versions).count == 3)
        }
    }

    @Test func fromARevisionSendsOnlyLaterEvents() async throws {
        try await Cluster.with { c in
            let a = try await c.pods.create(makePod("a"), namespace: "default")
            _ = try await c.pods.create(makePod("b"), namespace: "default")
            var options = ListOptions()
            options.resourceVersion = a.metadata.resourceVersion
            let w = WatchRecorder(c.pods.watch(namespace: "default", options: options))
            _ = try await c.pods.create(makePod("c"), namespace: "default")
            await eventually("events after the revision") { w.events == ["ADDED b", "ADDED c"] }
        }
    }

    @Test func namespaceScopesTheWatch() async throws {
        try await Cluster.with { c in
            _ = try await c.namespaces.create(Namespace(metadata: ObjectMeta(name: "other")), namespace: nil)
            let w = WatchRecorder(c.pods.watch(namespace: "other", options: ListOptions()))
            _ = try await c.pods.create(makePod("here", namespace: "default"), namespace: "default")
            _ = try await c.pods.create(makePod("there", namespace: "other"), namespace: "other")
            await eventually("the other namespace's pod") { w.events == ["ADDED there"] }
        }
    }

    @Test func labelSelectorTurnsLeavingIntoDeleted() async throws {
        try await Cluster.with { c in
            _ = try await c.pods.create(makePod("a", labels: ["app": "web"]), namespace: "default")
            _ = try await c.pods.create(makePod("b", labels: ["app": "db"]), namespace: "default")
            var options = ListOptions()
            options.labelSelector = try LabelSelector(parsing: "app=web")
            let w = WatchRecorder(c.pods.watch(namespace: nil, options: options))
            await eventually("the matching pod") { w.events == ["ADDED a"] }
            func relabel(_ name: String, _ app: String) async throws {
                _ = try await c.pods.guaranteedUpdate(namespace: "default", name: name) { var p = $0; p.metadata.labels = ["app": app]; return p }
            }
            try await relabel("a", "db")   // leaves the selection
            try await relabel("b", "web")  // enters it
            try await relabel("b", "web2") // leaves it
            try await relabel("a", "db2")  // outside before and after
            await eventually("selection changes") { w.events == ["ADDED a", "DELETED a", "ADDED b", "DELETED b"] }
        }
    }

    @Test func fieldSelectorFilters() async throws {
        try await Cluster.with { c in
            _ = try await c.pods.create(makePod("on1", node: "node-1"), namespace: "default")
            _ = try await c.pods.create(makePod("on2", node: "node-2"), namespace: "default")
            var options = ListOptions()
            options.fieldSelector = try FieldSelector(parsing: "spec.nodeName=node-1")
            let w = WatchRecorder(c.pods.watch(namespace: nil, options: options))
            _ = try await c.pods.create(makePod("late1", node: "node-1"), namespace: "default")
            _ = try await c.pods.create(makePod("late2", node: "node-2"), namespace: "default")
            await eventually("node-1 pods only") { w.events == ["ADDED on1", "ADDED late1"] }
            let listed = try await c.pods.list(namespace: nil, options: options).items.map(\.name)
            #expect(listed == ["late1", "on1"])
        }
    }

    @Test func bookmarksCarryTheLatestRevision() async throws {
        try await Cluster.with { c in
            let pod = try await c.pods.create(makePod("a"), namespace: "default")
            var options = ListOptions()
            options.resourceVersion = pod.metadata.resourceVersion
            options.allowWatchBookmarks = true
            let w = WatchRecorder(c.pods.watch(namespace: nil, options: options, bookmarkInterval: .milliseconds(40)))
            let later = try await c.pods.create(makePod("b"), namespace: "default")
            await eventually("a bookmark at the new revision") {
                w.items.contains { $0.type == .bookmark && $0.resourceVersion == later.metadata.resourceVersion }
            }
            // A bookmark may come before the event (the interval is short), but a bookmark at revision R promises
            // that every event up to R was delivered: no event after it may be at R or below.
            let revisions = w.items.map { (bookmark: $0.type == .bookmark, revision: Int($0.resourceVersion) ?? -1) }
            for (i, item) in revisions.enumerated() where item.bookmark {
                #expect(!revisions[(i + 1)...].contains { !$0.bookmark && $0.revision <= item.revision }, "\(revisions)")
            }
            #expect(w.items.contains { $0.type == .added && $0.resourceVersion == later.metadata.resourceVersion })
        }
    }

    @Test func noBookmarksUnlessAsked() async throws {
        try await Cluster.with { c in
            let w = WatchRecorder(c.pods.watch(namespace: nil, options: ListOptions(), bookmarkInterval: .milliseconds(10)))
            // A witness with the same interval that asks for bookmarks: once it has had several, the first
            // watch has lived through as many intervals.
            var asking = ListOptions()
            asking.allowWatchBookmarks = true
            let witness = WatchRecorder(c.pods.watch(namespace: nil, options: asking, bookmarkInterval: .milliseconds(10)))
            _ = try await c.pods.create(makePod("a"), namespace: "default")
            await eventually("the event") { w.events == ["ADDED a"] }
            let before = witness.items.filter { $0.type == .bookmark }.count
            await eventually("the witness's bookmarks") { witness.items.filter { $0.type == .bookmark }.count >= before + 3 }
            #expect(!w.items.contains { $0.type == .bookmark })
        }
    }

    @Test func sendInitialEventsEndsWithAnAnnotatedBookmark() async throws {
        try await Cluster.with { c in
            _ = try await c.pods.create(makePod("a"), namespace: "default")
            _ = try await c.pods.create(makePod("b"), namespace: "default")
            let revision = await c.store.currentRevision()
            var options = ListOptions()
            options.sendInitialEvents = true
            options.allowWatchBookmarks = true
            options.resourceVersionMatch = "NotOlderThan"
            let w = WatchRecorder(c.pods.watch(namespace: nil, options: options))
            await eventually("initial events and the bookmark") { w.items.count >= 3 }
            let items = w.items
            #expect(items.prefix(2).map(\.type) == [.added, .added])
            #expect(items[2].type == .bookmark)
            #expect(items[2].annotations == ["k8s.io/initial-events-end": "true"])
            #expect(items[2].resourceVersion == String(revision))
        }
    }

    @Test func compactedRevisionGivesAnExpiredError() async throws {
        try await Cluster.with { c in
            let first = try await c.pods.create(makePod("a"), namespace: "default")
            for i in 0..<5 { _ = try await c.pods.create(makePod("p\(i)"), namespace: "default") }
            try await c.store.compact(keepLast: 1)
            var options = ListOptions()
            options.resourceVersion = first.metadata.resourceVersion
            let w = WatchRecorder(c.pods.watch(namespace: nil, options: options))
            await eventually("the stream to end") { w.ended }
            #expect(w.items.map(\.type) == [.error])
            #expect(w.statuses.first?.code == 410)
            #expect(w.statuses.first?.reason == "Expired")
        }
    }

    @Test func timeoutEndsTheWatch() async throws {
        try await Cluster.with { c in
            var options = ListOptions()
            options.timeoutSeconds = 1
            let w = WatchRecorder(c.pods.watch(namespace: nil, options: options))
            await eventually("the timeout", within: 20) { w.ended }  // generous: a loaded CI machine; without the timeout it would be 30+ minutes
        }
    }

    @Test func typedWatchDecodesObjects() async throws {
        try await Cluster.with { c in
            let stream = c.pods.watchObjects(namespace: nil, options: ListOptions())
            _ = try await c.pods.create(makePod("a", labels: ["k": "v"]), namespace: "default")
            for try await (type, pod) in stream {
                #expect(type == .added)
                #expect(pod.metadata.labels == ["k": "v"])
                break
            }
        }
    }
}
