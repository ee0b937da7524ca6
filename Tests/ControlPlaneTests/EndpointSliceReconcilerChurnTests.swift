import KubeAPI
import Testing
import TestSupport
@testable import ControlPlane

/// Reconciling over time: slice sizes, minimal churn, no-op syncs, placeholders and cleanup.
@Suite struct EndpointSliceReconcilerChurnTests {
    let reconciler = EndpointSliceReconciler()

    /// Reconciles and applies, failing on anything an API server would reject.
    func sync(_ store: inout FakeSliceStore, _ service: Service, _ pods: [Pod]) -> EndpointSliceChanges {
        let changes = reconciler.reconcile(service: service, pods: pods, existing: store.all)
        #expect(store.apply(changes).isEmpty)
        return changes
    }

    @Test(arguments: [(0, [0]), (1, [1]), (100, [100]), (101, [100, 1]), (250, [100, 100, 50])])
    func splitsIntoSlicesOfAtMostMax(pods count: Int, sizes: [Int]) {
        var store = FakeSliceStore()
        let changes = sync(&store, ESFixture.service(), ESFixture.pods(count))
        #expect(changes.create.map(\.endpoints.count) == sizes)
        let addresses = store.all.flatMap(\.addressList)
        #expect(Set(addresses).count == count && addresses.count == count)
    }

    @Test func maxEndpointsPerSliceIsConfigurable() {
        let small = EndpointSliceReconciler(maxEndpointsPerSlice: 2)
        let changes = small.reconcile(service: ESFixture.service(), pods: ESFixture.pods(5), existing: [])
        #expect(changes.create.map(\.endpoints.count) == [2, 2, 1])
    }

    @Test(arguments: [0, 1, 150, 250])
    func secondSyncIsNoOp(pods count: Int) {
        var store = FakeSliceStore()
        let pods = ESFixture.pods(count)
        _ = sync(&store, ESFixture.service(), pods)
        // Same state again, inputs in another order: nothing to write.
        let again = reconciler.reconcile(service: ESFixture.service(), pods: pods.reversed(), existing: store.all.reversed())
        #expect(again.isEmpty)
    }

    @Test func deterministic() {
        let pods = ESFixture.pods(230)
        let a = reconciler.reconcile(service: ESFixture.service(), pods: pods, existing: [])
        var rng = SeededGenerator.forTest("deterministic")
        let b = reconciler.reconcile(service: ESFixture.service(), pods: pods.shuffled(using: &rng), existing: [])
        #expect(a == b)
    }

    @Test func changedPodUpdatesItsSliceInPlace() throws {
        var store = FakeSliceStore()
        var pods = ESFixture.pods(150)
        _ = sync(&store, ESFixture.service(), pods)
        let before = store.all
        pods[120] = ESFixture.pod("p120", ip: "10.1.0.120", ready: false)
        let changes = reconciler.reconcile(service: ESFixture.service(), pods: pods, existing: store.all)
        #expect(changes.create.isEmpty && changes.delete.isEmpty)
        let updated = try #require(changes.update.first)
        #expect(changes.update.count == 1)
        let original = try #require(before.first { $0.addressList.contains("10.1.0.120") })
        #expect(updated.name == original.name)
        #expect(updated.metadata.uid == original.metadata.uid)
        #expect(updated.metadata.resourceVersion == original.metadata.resourceVersion)
        #expect(updated.addressList == original.addressList)
        #expect(updated.endpoints.first { $0.addresses == ["10.1.0.120"] }?.conditions.ready == false)
    }

    @Test func newPodsFillExistingSlicesBeforeCreating() {
        var store = FakeSliceStore()
        _ = sync(&store, ESFixture.service(), ESFixture.pods(150))  // 100 + 50
        let changes = sync(&store, ESFixture.service(), ESFixture.pods(180))
        #expect(changes.create.isEmpty && changes.delete.isEmpty)
        #expect(changes.update.map(\.endpoints.count) == [80])
        #expect(store.all.map(\.endpoints.count).sorted() == [80, 100])
    }

    @Test func scaleDownDeletesEmptiedSlicesAndKeepsOthers() {
        var store = FakeSliceStore()
        _ = sync(&store, ESFixture.service(), ESFixture.pods(250))
        let names = Set(store.all.map(\.name))
        let changes = sync(&store, ESFixture.service(), ESFixture.pods(120))
        #expect(changes.create.isEmpty)
        #expect(changes.update.count == 1 && changes.delete.count == 1)
        #expect(store.all.map(\.endpoints.count).sorted() == [20, 100])
        #expect(Set(store.all.map(\.name)).isSubset(of: names))
    }

    @Test func scaleToZeroKeepsOnePlaceholder() throws {
        var store = FakeSliceStore()
        _ = sync(&store, ESFixture.service(), ESFixture.pods(250))
        let changes = sync(&store, ESFixture.service(), [])
        #expect(changes.create.isEmpty)  // one emptied slice is reused as the placeholder
        #expect(changes.delete.count == 2 && changes.update.count == 1)
        let placeholder = try #require(store.all.first)
        #expect(store.all.count == 1)
        #expect(placeholder.endpoints.isEmpty && (placeholder.ports ?? []).isEmpty)
        #expect(reconciler.reconcile(service: ESFixture.service(), pods: [], existing: store.all).isEmpty)
        // Pods come back: the placeholder is reused for them.
        let back = sync(&store, ESFixture.service(), ESFixture.pods(3))
        #expect(back.create.isEmpty && back.delete.isEmpty && back.update.count == 1)
        #expect(store.all.map(\.addressList) == [["10.1.0.0", "10.1.0.1", "10.1.0.2"]])
    }

    @Test func serviceLabelChangeUpdatesLabelsOnly() {
        var store = FakeSliceStore()
        _ = sync(&store, ESFixture.service(), ESFixture.pods(120))
        let changes = sync(&store, ESFixture.service(labels: ["team": "red"]), ESFixture.pods(120))
        #expect(changes.create.isEmpty && changes.delete.isEmpty && changes.update.count == 2)
        #expect(store.all.allSatisfy { $0.metadata.labels?["team"] == "red" })
        #expect(store.all.map(\.endpoints.count).sorted() == [20, 100])
    }

    @Test func familyChangeReplacesSlices() {
        var store = FakeSliceStore()
        let v4 = ESFixture.pods(2)
        _ = sync(&store, ESFixture.service(families: [.ipv4]), v4)
        let changes = sync(&store, ESFixture.service(families: [.ipv6]), v4)
        // addressType is immutable: the IPv4 slice goes, an IPv6 placeholder comes.
        #expect(changes.delete.map(\.addressType) == [.ipv4])
        #expect(changes.create.map(\.addressType) == [.ipv6])
    }

    @Test func sliceOfAnotherServiceUIDIsReplaced() {
        var store = FakeSliceStore()
        _ = sync(&store, ESFixture.service(), ESFixture.pods(2))
        var recreated = ESFixture.service()
        recreated.metadata.uid = "svc-uid-2"
        let changes = sync(&store, recreated, ESFixture.pods(2))
        #expect(changes.delete.count == 1 && changes.create.count == 1 && changes.update.isEmpty)
        #expect(store.all.first?.metadata.ownerReferences?.first?.uid == "svc-uid-2")
    }

    struct NoSlicesCase: Sendable, CustomTestStringConvertible {
        var label: String
        var service: Service
        var testDescription: String { label }
    }

    static let noSlicesCases: [NoSlicesCase] = [
        .init(label: "nil selector", service: ESFixture.service(selector: nil)),
        .init(label: "empty selector", service: ESFixture.service(selector: [:])),
        .init(label: "ExternalName", service: ESFixture.service(clusterIP: nil, type: .externalName)),
    ]

    @Test(arguments: noSlicesCases)
    func servicesWithoutManagedSlices(_ c: NoSlicesCase) {
        var store = FakeSliceStore()
        _ = sync(&store, ESFixture.service(), ESFixture.pods(150))
        var foreign = EndpointSlice(metadata: ObjectMeta(name: "web-manual", namespace: "ns1",
                                                         labels: [EndpointSlice.serviceNameLabel: "web"]), addressType: .ipv4)
        foreign.metadata.uid = "manual"
        let changes = reconciler.reconcile(service: c.service, pods: ESFixture.pods(150), existing: store.all + [foreign])
        #expect(changes.create.isEmpty && changes.update.isEmpty)
        #expect(changes.delete.map(\.name) == store.all.map(\.name))
        #expect(reconciler.reconcile(service: c.service, pods: ESFixture.pods(3), existing: []).isEmpty)
    }
}
