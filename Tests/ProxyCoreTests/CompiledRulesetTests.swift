import KubeAPI
import Testing
@testable import ProxyCore

/// Compiling from the previous `CompiledRuleset` gives exactly what a compile from scratch gives, through
/// changes of endpoints, Services, the configuration and the node; the fragment diff, applied to what the
/// kernel held, leaves exactly the new ruleset; and changes of the common shape are element-only.
struct CompiledRulesetTests {
    typealias F = Fixtures

    /// Each step: compile from the previous value (with and without the changed names), compare with a fresh
    /// compile, and apply the fragment diff to the previous ruleset in the fake kernel.
    @Test(arguments: [false, true])
    func incrementalCompilesAndDiffsEqualFreshOnes(hinted: Bool) throws {
        var c = F.cluster()
        var previous: CompiledRuleset?
        var previousState = ProxyState()
        func check(_ note: String, config: ProxyConfig = F.config, node: NodeInfo = F.node) throws {
            let state = ProxyState(services: c.services, endpointSlices: c.slices)
            let changed = hinted ? Self.changedNames(previousState, state) : nil
            let compiled = RulesetCompiler(config: config, node: node).compile(state, previous: previous, changed: changed)
            let fresh = RulesetCompiler(config: config, node: node).compile(state)
            // Endpoints keep their slots across compiles, so only the slot numbers may differ from a fresh compile.
            #expect(Self.slotsSorted(compiled.ruleset).nftText() == Self.slotsSorted(fresh).nftText(), "\(note)")
            if let previous {
                let tx = RulesetDiff.partialSync(from: previous, to: compiled)
                let applied = try previous.ruleset.applying(tx)
                #expect(applied.nftText() == compiled.ruleset.nftText(), "\(note): the diff leaves the new ruleset")
            }
            previous = compiled
            previousState = state
        }
        try check("first compile")
        let fragments = try #require(previous).fragmentCount
        #expect(fragments > 10)
        try check("unchanged")
        #expect(previous?.changedServices?.isEmpty == true, "nothing recompiled")
        c.slices.append(F.slice("default", "web", "3", ports: [("http", 8080, .tcp)], endpoints: [F.EP(ip: "10.244.3.5", node: "node-d")]))
        try check("an endpoint added")
        c.slices.removeAll { $0.metadata.name == "web-1" }
        try check("endpoints removed (slots refilled)")
        c.slices.removeAll { $0.metadata.name == "sticky-1" }
        try check("a Service lost its endpoints")
        c.services.removeAll { $0.metadata.name == "lb" }
        try check("a Service removed")
        #expect(try #require(previous).fragmentCount < fragments, "the removed Service's fragments are dropped")
        c.services.removeAll { $0.metadata.name == "dns" }
        try check("a Service sharing its ClusterIP between ports removed")
        try check("configuration changed", config: ProxyConfig(clusterCIDRs: [F.cidr("10.244.0.0/16")], masqueradeAll: true))
        try check("another node (local endpoints differ)", node: NodeInfo(name: "node-b", nodeIPs: [F.ip("192.168.0.11")]))
        try check("back to the first configuration and node")
    }

    /// `ruleset` with each Service address's endpoints re-slotted in sorted order (what a fresh compile does).
    static func slotsSorted(_ ruleset: NFTRuleset) -> NFTRuleset {
        var out = ruleset
        for t in out.tables.indices {
            for s in out.tables[t].sets.indices where [NFTNames.serviceEndpoints, NFTNames.nodePortEndpoints].contains(out.tables[t].sets[s].name) {
                var groups: [[NFTValue]: [NFTElement]] = [:]
                for e in out.tables[t].sets[s].elements { groups[Array(e.key.dropLast()), default: []].append(e) }
                out.tables[t].sets[s].elements = groups.flatMap { key, elements in
                    elements.map(\.data).compactMap { $0 }.map { "\($0)" }.sorted().enumerated().compactMap { i, text in
                        elements.first { "\($0.data.map { "\($0)" } ?? "")" == text }.map {
                            NFTElement(key: key + [.integer(UInt32(i))], data: $0.data, comment: $0.comment)
                        }
                    }
                }
            }
        }
        return out
    }

    /// Service ports whose inputs differ between two states.
    static func changedNames(_ a: ProxyState, _ b: ProxyState) -> Set<ServicePortName> {
        let names = Set(a.services.keys).union(b.services.keys).union(a.endpoints.keys).union(b.endpoints.keys)
        return names.filter { a.services[$0] != b.services[$0] || a.endpoints[$0] != b.endpoints[$0] }
    }

    /// An endpoint added to, changed in or removed from a Service of the common shape, and such a Service
    /// added or removed: element operations only — no chain or rule, no verdict element (so the kernel skips
    /// re-validating the table).
    @Test func commonShapeChangesAreElementOnly() throws {
        let compiler = RulesetCompiler(config: F.config, node: F.node)
        var c = F.cluster()
        var previous = compiler.compile(ProxyState(services: c.services, endpointSlices: c.slices), previous: nil)
        func step(_ note: String) {
            let next = compiler.compile(ProxyState(services: c.services, endpointSlices: c.slices), previous: previous)
            let tx = RulesetDiff.partialSync(from: previous, to: next)
            #expect(!tx.isEmpty, "\(note)")
            for op in tx.operations {
                switch op {
                case .addElements(_, _, let elements), .deleteElements(_, _, let elements):
                    let jumps = elements.filter { if case .verdict(let v)? = $0.data { v.chain != nil } else { false } }
                    #expect(jumps.isEmpty, "\(note): verdict elements \(jumps)")
                default:
                    Issue.record("\(note): \(op) is not an element operation")
                }
            }
            previous = next
        }
        c.slices.append(F.slice("default", "web", "3", ports: [("http", 8080, .tcp)], endpoints: [F.EP(ip: "10.244.3.5", node: "node-d")]))
        step("endpoint added")
        c.slices.removeAll { $0.metadata.name == "web-2" }
        step("endpoints removed")
        c.services.append(F.service("default", "new", type: .nodePort, clusterIPs: ["10.96.0.99"],
                                    ports: [ServicePort(name: "http", protocol: .tcp, port: 80, nodePort: 30099)]))
        c.slices.append(F.slice("default", "new", ports: [("http", 8080, .tcp)], endpoints: [F.EP(ip: "10.244.1.99", node: "node-b")]))
        step("a NodePort Service added")
        c.slices.removeAll { $0.metadata.name == "new-1" }
        step("its endpoints gone")
        c.services.removeAll { $0.metadata.name == "new" }
        step("the Service removed")
    }

    /// Endpoints keep their slots; the last one refills a removed endpoint's slot; new ones are appended.
    @Test func slotsMoveAsLittleAsPossible() {
        func eps(_ last: [Int]) -> [EndpointInfo] { last.map { EndpointInfo(address: F.ip("10.244.0.\($0)"), port: 80) } }
        func octets(_ e: [EndpointInfo]) -> [String] { e.map { $0.address.description.split(separator: ".").last.map(String.init) ?? "" } }
        #expect(octets(EndpointSlots.assign(previous: [], current: eps([3, 1, 2]))) == ["3", "1", "2"])
        #expect(octets(EndpointSlots.assign(previous: eps([1, 2, 3, 4]), current: eps([1, 3, 4]))) == ["1", "4", "3"])
        #expect(octets(EndpointSlots.assign(previous: eps([1, 2, 3, 4]), current: eps([1, 2]))) == ["1", "2"])
        #expect(octets(EndpointSlots.assign(previous: eps([1, 2, 3, 4]), current: eps([2, 4]))) == ["4", "2"])
        #expect(octets(EndpointSlots.assign(previous: eps([1, 2]), current: eps([1, 2, 5, 6]))) == ["1", "2", "5", "6"])
        #expect(octets(EndpointSlots.assign(previous: eps([1, 2, 3]), current: eps([3, 7]))) == ["3", "7"])
    }

    /// One endpoint removed from a Service with ten: one slot refilled (its element replaced), the last
    /// slot's element deleted, nothing else.
    @Test func removingAnEndpointRewritesTwoSlots() throws {
        let name = ServicePortName(namespace: "default", name: "ten", port: "http", protocol: .tcp)
        let info = ServicePortInfo(name: name, clusterIPs: [F.ip("10.96.1.1")], port: 80)
        let all = (1...10).map { EndpointInfo(address: F.ip("10.244.5.\($0)"), port: 8080) }
        let compiler = RulesetCompiler(config: ProxyConfig(families: [.ip]), node: F.node)
        let first = compiler.compile(ProxyState(services: [name: info], endpoints: [name: all]), previous: nil)
        var fewer = all
        fewer.remove(at: 2)
        let second = compiler.compile(ProxyState(services: [name: info], endpoints: [name: fewer]), previous: first)
        let tx = RulesetDiff.partialSync(from: first, to: second)
        let slotOps = tx.operations.compactMap { op -> (Bool, [NFTElement])? in
            switch op {
            case .addElements(_, NFTNames.serviceEndpoints, let e): (true, e)
            case .deleteElements(_, NFTNames.serviceEndpoints, let e): (false, e)
            default: nil
            }
        }
        #expect(slotOps.filter { !$0.0 }.flatMap(\.1).count == 2, "slot 2 (replaced) and slot 9 (gone)")
        #expect(slotOps.filter { $0.0 }.flatMap(\.1).count == 1, "slot 2 holds the last endpoint")
        #expect(try first.ruleset.applying(tx).nftText() == second.ruleset.nftText())
    }
}
