import KubeAPI
import Testing
import TestSupport
@testable import ProxyCore

struct RulesetDiffTests {
    typealias F = Fixtures

    /// The fixture cluster with one extra ready endpoint for default/web.
    static func withExtraWebEndpoint() -> ProxyState {
        var c = F.cluster()
        c.slices.append(F.slice("default", "web", "3", ports: [("http", 8080, .tcp)], endpoints: [F.EP(ip: "10.244.3.5", node: "node-d")]))
        return ProxyState(services: c.services, endpointSlices: c.slices)
    }

    static func applyFull(_ rs: NFTRuleset) throws -> NFTRuleset {
        try NFTRuleset().applying(RulesetDiff.fullSync(to: rs))
    }

    @Test func noChangeIsEmpty() {
        let rs = F.compile(F.clusterState())
        #expect(RulesetDiff.partialSync(from: rs, to: rs).isEmpty)
        #expect(RulesetDiff.partialSync(from: rs, to: F.compile(F.clusterState())).isEmpty)
    }

    @Test func fullSyncFromNothingBuildsTheRuleset() throws {
        let rs = F.compile(F.clusterState())
        #expect(try Self.applyFull(rs).nftText() == rs.nftText())
    }

    /// default/web (elements only) gains an endpoint: its `lb-N` membership and slots move, one hairpin
    /// element is added, nothing else.
    @Test func oneEndpointTouchesOnlyThatService() throws {
        let old = F.compile(F.clusterState())
        let new = F.compile(Self.withExtraWebEndpoint())
        let tx = RulesetDiff.partialSync(from: old, to: new)
        #expect(!tx.isEmpty)
        for op in tx.operations {
            switch op {
            case .addElements(_, NFTNames.hairpinEndpoints, let elements):
                #expect(elements.map(\.key) == [[.address(F.ip("10.244.3.5")), .address(F.ip("10.244.3.5"))]])
            case .addElements(_, let set, let elements), .deleteElements(_, let set, let elements):
                #expect(set.hasPrefix("lb-") || set == NFTNames.serviceEndpoints, "\(set)")
                #expect(elements.allSatisfy { $0.comment == "default/web:http" }, "\(elements)")
            default: Issue.record("unexpected \(op)")
            }
        }
        let applied = try Self.applyFull(old).applying(tx)
        #expect(applied.nftText() == new.nftText())
    }

    /// default/sticky (affinity: chains of its own) loses an endpoint: its endpoint chain and affinity set go,
    /// after the rules referring to them.
    @Test func removedEndpointDeletesItsChainAfterReferencesAreGone() throws {
        var c = F.cluster()
        let old = F.compile(ProxyState(services: c.services, endpointSlices: c.slices))
        if let i = c.slices.firstIndex(where: { $0.metadata.name == "sticky-1" }) { c.slices[i].endpoints.removeLast() }
        let new = F.compile(ProxyState(services: c.services, endpointSlices: c.slices))
        let tx = RulesetDiff.partialSync(from: old, to: new)
        #expect(tx.operations.contains { if case .deleteChain(_, let c) = $0 { c.contains("10.244.2.9") } else { false } })
        #expect(try Self.applyFull(old).applying(tx).nftText() == new.nftText())
    }

    @Test func serviceLosingEndpointsMovesItsElements() throws {
        var c = F.cluster()
        let old = F.compile(ProxyState(services: c.services, endpointSlices: c.slices))
        c.slices.removeAll { $0.metadata.name == "sticky-1" }
        let new = F.compile(ProxyState(services: c.services, endpointSlices: c.slices))
        let tx = RulesetDiff.partialSync(from: old, to: new)
        let sets = tx.operations.compactMap { op -> String? in
            switch op {
            case .addElements(_, let s, _), .deleteElements(_, let s, _): s
            default: nil
            }
        }
        #expect(Set(sets) == [NFTNames.serviceIPs, NFTNames.noEndpointServices], "its endpoints are remote: no hairpin elements")
        // No endpoints: a plain set element, not a verdict that jumps.
        #expect(tx.operations.allSatisfy { op in
            if case .addElements(_, NFTNames.noEndpointServices, let e) = op { e.allSatisfy { $0.data == nil } } else { true }
        })
        #expect(tx.operations.contains { if case .deleteSet(_, let s) = $0 { s.hasPrefix("affinity-") } else { false } })
        #expect(try Self.applyFull(old).applying(tx).nftText() == new.nftText())
    }

    @Test func affinityTimeoutChangeRedefinesTheSets() throws {
        var c = F.cluster()
        let old = F.compile(ProxyState(services: c.services, endpointSlices: c.slices))
        if let i = c.services.firstIndex(where: { $0.metadata.name == "sticky" }) {
            c.services[i].spec.sessionAffinityConfig = SessionAffinityConfig(clientIP: ClientIPConfig(timeoutSeconds: 30))
        }
        let new = F.compile(ProxyState(services: c.services, endpointSlices: c.slices))
        let tx = RulesetDiff.partialSync(from: old, to: new)
        #expect(try Self.applyFull(old).applying(tx).nftText() == new.nftText())
    }

    @Test func fullSyncAdoptsAnExistingTable() throws {
        var c = F.cluster()
        let old = F.compile(ProxyState(services: c.services, endpointSlices: c.slices))
        c.services.removeAll { $0.metadata.name == "web" || $0.metadata.name == "sticky" }
        let new = F.compile(ProxyState(services: c.services, endpointSlices: c.slices))
        let kernel = try Self.applyFull(old)
        let tx = RulesetDiff.fullSync(to: new, existing: kernel)
        #expect(!tx.operations.contains { if case .deleteTable = $0 { true } else { false } })
        #expect(try kernel.applying(tx).nftText() == new.nftText())
    }

    @Test func fullSyncKeepsAffinityEntries() throws {
        let rs = F.compile(F.clusterState())
        let tx = RulesetDiff.fullSync(to: rs, existing: try Self.applyFull(rs))
        #expect(!tx.operations.contains { if case .flushSet(_, let s) = $0 { s.hasPrefix("affinity-") } else { false } })
    }

    @Test func fakeKernelRefusesDeletingAReferencedChain() throws {
        let rs = try Self.applyFull(F.compile(F.clusterState()))
        let table = try #require(rs.table(.ip)).id
        let web = NFTNames.serviceChain(ServicePortName(namespace: "default", name: "sticky", port: "http", protocol: .tcp))
        #expect(throws: NFTApplyError.busy(web)) {
            try rs.applying(NFTTransaction([.flushChain(table, chain: web), .deleteChain(table, chain: web)]))
        }
    }
}

/// The chain alignment behind partial diffs pairs chains exactly by name, whatever was inserted, removed,
/// replaced or moved — checked against a plain by-name comparison on random edits.
struct ChainAlignmentTests {
    @Test func alignmentEqualsMatchingByName() {
        var rng = SeededGenerator.forTest("alignmentEqualsMatchingByName")
        for round in 0..<300 {
            let count = Int.random(in: 0..<300, using: &rng)
            let old = (0..<count).map { NFTChain(name: "c\($0)", rules: [NFTRule([.verdict(.accept)])]) }
            var new = old
            for _ in 0..<Int.random(in: 0..<12, using: &rng) {
                switch Int.random(in: 0..<4, using: &rng) {
                case 0 where !new.isEmpty: new.remove(at: Int.random(in: 0..<new.count, using: &rng))
                case 1: new.insert(NFTChain(name: "n\(round)-\(Int.random(in: 0..<1_000_000, using: &rng))", rules: []),
                                   at: Int.random(in: 0...new.count, using: &rng))
                case 2 where !new.isEmpty:
                    let k = Int.random(in: 0..<new.count, using: &rng)
                    new[k] = NFTChain(name: "r\(round)-\(k)", rules: [])
                case 3 where new.count > 1:
                    let a = Int.random(in: 0..<new.count, using: &rng), b = Int.random(in: 0..<new.count, using: &rng)
                    new.swapAt(a, b)
                default: break
                }
            }
            // Unique names only (a random insert could repeat one).
            var seen = Set<String>()
            new = new.filter { seen.insert($0.name).inserted }
            let result = RulesetDiff.alignChains(old, new)
            let oldNames = Set(old.map(\.name)), newNames = Set(new.map(\.name))
            #expect(Set(result.matched.map(\.1.name)) == oldNames.intersection(newNames))
            #expect(result.matched.allSatisfy { $0.0.name == $0.1.name })
            #expect(Set(result.added.map(\.name)) == newNames.subtracting(oldNames))
            #expect(Set(result.removed.map(\.name)) == oldNames.subtracting(newNames))
            #expect(result.matched.count + result.added.count == new.count && result.matched.count + result.removed.count == old.count)
        }
    }
}
