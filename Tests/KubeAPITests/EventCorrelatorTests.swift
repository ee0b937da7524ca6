import Foundation
import KubeAPI
import Testing

/// Repeats of one Event bump its count; anything different is a new Event.
@Suite struct EventCorrelatorTests {
    static let node = ObjectReference(kind: "Node", name: "node-a", uid: "node-a", apiVersion: "v1")
    static let t0 = Date(timeIntervalSince1970: 1_767_225_600)  // 2026-01-01T00:00:00Z

    @Test func repeatsBumpTheCountOfTheFirstEvent() throws {
        var c = EventCorrelator(component: "kproxy-proxy", host: "node-a")
        let failure = EventRecord(involvedObject: Self.node, type: .warning, reason: "SyncProxyRulesFailed", message: "boom")
        guard case .create(let event) = c.observe(failure, now: Self.t0) else { Issue.record("first must create"); return }
        #expect(event.metadata.namespace == "default", "cluster-scoped objects' events live in default")
        #expect(event.metadata.name == "node-a.\(String(UInt64(1_767_225_600) * 1_000_000_000, radix: 16))")
        #expect(event.count == 1 && event.type == "Warning" && event.reason == "SyncProxyRulesFailed")
        #expect(event.firstTimestamp == "2026-01-01T00:00:00Z" && event.lastTimestamp == event.firstTimestamp)
        #expect(event.source == EventSource(component: "kproxy-proxy", host: "node-a"))
        let again = c.observe(failure, now: Self.t0.addingTimeInterval(5))
        #expect(again == .update(namespace: "default", name: event.metadata.name ?? "", count: 2, lastTimestamp: "2026-01-01T00:00:05Z"))
        var other = failure
        other.message = "different"
        guard case .create = c.observe(other, now: Self.t0) else { Issue.record("another message is another event"); return }
        c.forget(failure)
        guard case .create = c.observe(failure, now: Self.t0.addingTimeInterval(9)) else { Issue.record("forgotten: created anew"); return }
    }

    @Test func namespacedObjectsKeepTheirNamespaceAndTheCacheIsBounded() {
        var c = EventCorrelator(component: "c", capacity: 2)
        let service = ObjectReference(kind: "Service", namespace: "team-a", name: "web")
        let records = (0..<3).map { EventRecord(involvedObject: service, type: .normal, reason: "R\($0)", message: "m") }
        for r in records { if case .create(let e) = c.observe(r, now: Self.t0) { #expect(e.metadata.namespace == "team-a") } }
        // The oldest fell out of the cache: its repeat creates a new Event.
        guard case .create = c.observe(records[0], now: Self.t0) else { Issue.record("evicted record must create"); return }
        guard case .update = c.observe(records[2], now: Self.t0) else { Issue.record("recent record must update"); return }
    }
}
