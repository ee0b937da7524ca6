import KubeAPI
import Testing
@testable import KubeClient

/// Drives an informer against a scripted `FakeListWatcher`; synchronises on the fake's journal
/// and the informer's event stream, never on time.
final class InformerHarness {
    typealias Fake = FakeListWatcher<Widget>
    let fake: Fake
    let informer: Informer<Widget>
    let task: Task<Void, Never>
    var events: AsyncStream<InformerEvent<Widget>>.Iterator
    var journal: AsyncStream<Fake.Call>.Iterator

    init(lists: [Fake.ListStep], watches: [Fake.WatchStep]) {
        let fake = Fake(lists: lists, watches: watches)
        let fixed = ContinuousClock.now
        let timing = InformerTiming(sleep: fake.sleep, now: { fixed }, random: { 0 },
                                    backoff: Backoff(initial: .milliseconds(800), cap: .seconds(30), jitter: 0.5))
        let informer = Informer(fake, timing: timing)
        self.fake = fake
        self.informer = informer
        events = informer.events.makeAsyncIterator()
        journal = fake.journal.makeAsyncIterator()
        task = Task { await informer.run() }
    }

    func nextEvents(_ n: Int) async -> [InformerEvent<Widget>] {
        var out: [InformerEvent<Widget>] = []
        while out.count < n, let e = await events.next() { out.append(e) }
        return out
    }

    func nextCalls(_ n: Int) async -> [Fake.Call] {
        var out: [Fake.Call] = []
        while out.count < n, let c = await journal.next() { out.append(c) }
        return out
    }

    func stop() async {
        task.cancel()
        await task.value
    }
}

let transportFailure = KubeClientError.transport("connection refused")
let expired = Status.expired("too old resource version: 10 (25)")

func w(_ name: String, _ rv: String, _ color: String? = nil) -> Widget { Widget(name, rv: rv, color: color) }

@Suite struct InformerTests {
    @Test func initialSyncThenEvents() async throws {
        let h = InformerHarness(
            lists: [.items([w("a", "1"), w("b", "2")], resourceVersion: "10")],
            watches: [.events([.added(w("c", "11")), .modified(w("a", "12", "red")), .deleted(w("b", "13"))], end: .stayOpen)])
        try await h.informer.waitForSync()
        #expect(await h.nextEvents(6) == [
            .added(w("a", "1")), .added(w("b", "2")), .synced,
            .added(w("c", "11")), .updated(old: w("a", "1"), new: w("a", "12", "red")), .deleted(w("b", "13")),
        ])
        #expect(h.informer.hasSynced)
        #expect(Set(h.informer.snapshot().keys) == ["default/a", "default/c"])
        #expect(h.informer.get("default/a")?.color == "red")
        #expect(h.informer.get("default/b") == nil)
        #expect(h.informer.lastResourceVersion == "13")
        #expect(await h.nextCalls(2) == [.list, .watch(resourceVersion: "10", timeoutSeconds: 300)])
        await h.stop()
        #expect(await h.events.next() == nil, "events finish when run() returns")
    }

    @Test func rewatchesAfterCleanCloseFromLastResourceVersionAndBookmark() async {
        let h = InformerHarness(
            lists: [.items([w("a", "1")], resourceVersion: "10")],
            watches: [
                .events([.modified(w("a", "11"))], end: .close),
                .events([.bookmark(resourceVersion: "20")], end: .close),
                .events([], end: .stayOpen),
            ])
        #expect(await h.nextCalls(4) == [
            .list,
            .watch(resourceVersion: "10", timeoutSeconds: 300),
            .watch(resourceVersion: "11", timeoutSeconds: 300),
            .watch(resourceVersion: "20", timeoutSeconds: 300),
        ])
        #expect(await h.nextEvents(3) == [.added(w("a", "1")), .synced, .updated(old: w("a", "1"), new: w("a", "11"))])
        #expect(h.informer.lastResourceVersion == "20")
        await h.stop()
    }

    static let expiries: [FakeListWatcher<Widget>.WatchStep] = [
        .events([.modified(w("a", "11")), .error(expired)], end: .stayOpen),   // ERROR event with code 410
        .events([.modified(w("a", "11"))], end: .fail(KubeClientError.status(expired))),  // stream fails with 410
    ]

    @Test(arguments: expiries)
    func relistsOn410AndSynthesisesDeletes(expiry: FakeListWatcher<Widget>.WatchStep) async {
        let h = InformerHarness(
            lists: [
                .items([w("a", "1"), w("b", "2")], resourceVersion: "10"),
                .items([w("a", "11"), w("c", "22", "green")], resourceVersion: "30"),
                .items([w("a", "11"), w("c", "22", "green")], resourceVersion: "30"),
            ],
            watches: [expiry, .failure(KubeClientError.status(expired)), .events([], end: .stayOpen)])
        #expect(await h.nextEvents(4) == [
            .added(w("a", "1")), .added(w("b", "2")), .synced, .updated(old: w("a", "1"), new: w("a", "11")),
        ])
        // a is unchanged by the relist (no event), b vanished, c appeared; no second `.synced`.
        #expect(await h.nextEvents(2) == [.deleted(w("b", "2")), .added(w("c", "22", "green"))])
        // The watch itself answering 410 also relists.
        #expect(await h.nextCalls(6) == [
            .list, .watch(resourceVersion: "10", timeoutSeconds: 300),
            .list, .watch(resourceVersion: "30", timeoutSeconds: 300),
            .list, .watch(resourceVersion: "30", timeoutSeconds: 300),
        ])
        #expect(Set(h.informer.snapshot().keys) == ["default/a", "default/c"])
        await h.stop()
    }

    @Test func backsOffExponentiallyAndResetsAfterSuccess() async {
        let h = InformerHarness(
            lists: [.failure(transportFailure), .failure(transportFailure), .items([], resourceVersion: "10")],
            watches: [
                .failure(transportFailure), .failure(transportFailure),
                .events([.added(w("b", "11"))], end: .fail(transportFailure)),
                .failure(transportFailure),
                .events([], end: .stayOpen),
            ])
        let watch10 = FakeListWatcher<Widget>.Call.watch(resourceVersion: "10", timeoutSeconds: 300)
        let watch11 = FakeListWatcher<Widget>.Call.watch(resourceVersion: "11", timeoutSeconds: 300)
        // Two failed lists, a good list (reset), two failed watches, a watch that delivers an event
        // (reset) and then breaks, one more failed watch, and a watch that stays open.
        #expect(await h.nextCalls(14) == [
            .list, .sleep(.milliseconds(800)), .list, .sleep(.milliseconds(1600)), .list,
            watch10, .sleep(.milliseconds(800)), watch10, .sleep(.milliseconds(1600)), watch10,
            .sleep(.milliseconds(800)), watch11, .sleep(.milliseconds(1600)), watch11,
        ])
        #expect(h.informer.get("default/b") != nil)
        await h.stop()
    }

    @Test func watchThatClosesAtOnceWithoutEventsIsRetriedWithBackoff() async {
        let h = InformerHarness(lists: [.items([], resourceVersion: "10")],
                                watches: [.events([], end: .close), .events([], end: .close), .events([], end: .stayOpen)])
        let watch10 = FakeListWatcher<Widget>.Call.watch(resourceVersion: "10", timeoutSeconds: 300)
        #expect(await h.nextCalls(6) == [.list, watch10, .sleep(.milliseconds(800)), watch10, .sleep(.milliseconds(1600)), watch10])
        await h.stop()
    }

    @Test func otherWatchErrorsRewatchFromSameVersionWithoutRelist() async {
        let internalError = Status.internalError("etcd unavailable")
        let h = InformerHarness(lists: [.items([w("a", "1")], resourceVersion: "10")],
                                watches: [.events([.error(internalError)], end: .stayOpen), .events([], end: .stayOpen)])
        let watch10 = FakeListWatcher<Widget>.Call.watch(resourceVersion: "10", timeoutSeconds: 300)
        #expect(await h.nextCalls(4) == [.list, watch10, .sleep(.milliseconds(800)), watch10])
        await h.stop()
    }

    @Test func waitForSyncFailsWhenStoppedBeforeSync() async {
        // No list scripted: the list blocks until the informer is cancelled.
        let h = InformerHarness(lists: [], watches: [])
        let waiter = Task { [informer = h.informer] in try await informer.waitForSync() }
        #expect(await h.nextCalls(1) == [.list])
        await h.stop()
        await #expect(throws: CancellationError.self) { try await waiter.value }
        #expect(!h.informer.hasSynced)
        #expect(await h.events.next() == nil)
    }

    @Test func waitForSyncHonoursTaskCancellation() async {
        let h = InformerHarness(lists: [], watches: [])
        let waiter = Task { [informer = h.informer] in try await informer.waitForSync() }
        waiter.cancel()
        await #expect(throws: CancellationError.self) { try await waiter.value }
        await h.stop()
    }

    @Test func backoffSequenceIsCappedAndJittered() {
        var b = Backoff(initial: .milliseconds(800), cap: .seconds(30), jitter: 0.5)
        let plain = (0..<8).map { _ in b.next(random: 0) }
        #expect(plain == [.milliseconds(800), .milliseconds(1600), .milliseconds(3200), .milliseconds(6400),
                          .milliseconds(12800), .milliseconds(25600), .seconds(30), .seconds(30)])
        b.reset()
        let jittered = b.next(random: 0.5)
        #expect(jittered == .milliseconds(1000))
        for _ in 0..<10 { #expect(b.next(random: 0.999) <= .seconds(30)) }
    }

    @Test(arguments: [(0.0, 300), (0.5, 450), (0.9999, 600)])
    func watchTimeoutIsPickedInRange(random: Double, expected: Int) {
        let timing = InformerTiming(random: { random })
        #expect(timing.watchTimeout() == expected)
    }
}
