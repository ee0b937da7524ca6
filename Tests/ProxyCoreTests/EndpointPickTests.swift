import KubeAPI
import Testing
@testable import ProxyCore

/// The random endpoint pick is uniform whichever form it takes (slots of `service-endpoints` picked by one
/// numgen draw, a rule cascade or a numgen verdict map in a Service's own chain).
struct EndpointPickTests {
    typealias F = Fixtures

    static func ruleset(endpoints n: Int) -> NFTRuleset {
        let svc = F.service("default", "s", clusterIPs: ["10.96.0.50"],
                            ports: [ServicePort(name: "http", protocol: .tcp, port: 80, targetPort: 8080)])
        let ips = (0..<n).map { "10.244.\($0 / 250).\($0 % 250 + 1)" }
        let slice = F.slice("default", "s", ports: [("http", 8080, .tcp)], endpoints: ips.map { F.EP(ip: $0, node: "node-b") })
        return F.compile(ProxyState(services: [svc], endpointSlices: [slice]))
    }

    /// Probability of reaching each goto target from the chain's rules, computed exactly from the numgen moduli.
    static func distribution(_ chain: NFTChain, _ table: NFTTable) -> [String: Double] {
        var result: [String: Double] = [:]
        var reach = 1.0
        for rule in chain.rules {
            switch (rule.expressions.first, rule.expressions.last) {
            case (.numgenIs(let modulus, let value)?, .verdict(.goto(let target))?):
                #expect(value == 0 && rule.expressions.count == 2)
                let p = reach / Double(modulus)
                result[target, default: 0] += p
                reach -= p
            case (.verdict(.goto(let target))?, _) where rule.expressions.count == 1:
                result[target, default: 0] += reach
                reach = 0
            case (.numgenVmap(let modulus, let map)?, _):
                let elements = table.sets.first { $0.name == map }?.elements ?? []
                for i in 0..<modulus {
                    guard case .verdict(.goto(let target))? = elements.first(where: { $0.key == [.integer(UInt32(i))] })?.data else {
                        Issue.record("no element \(i) in \(map)"); continue
                    }
                    result[target, default: 0] += reach / Double(modulus)
                }
                reach = 0
            default:
                continue  // masquerade marking and other rules that fall through
            }
        }
        #expect(abs(reach) < 1e-12, "some draws fall through the chain")
        return result
    }

    /// Up to `elementLimit` endpoints, the Service is elements only: one `numgen random mod N` draw indexes N
    /// slots, each holding a different endpoint, so each gets exactly 1/N.
    @Test(arguments: [1, 2, 3, 7, 10, RulesetCompiler.elementLimit])
    func slotsGiveEveryEndpointAnEqualShare(n: Int) throws {
        let table = try #require(Self.ruleset(endpoints: n).table(.ip))
        #expect(!table.chains.contains { NFTNames.isServiceChain($0.name) }, "no chain of its own")
        let services = try #require(table.chain(NFTNames.services))
        let key: [NFTValue] = [.address(F.ip("10.96.0.50")), .l4proto(.tcp), .port(80)]
        #expect(table.set(NFTNames.balancedServices(n))?.elements.map(\.key) == [key])
        let rule = try #require(services.rules.first { $0.expressions.first == .lookup([.daddr, .l4proto, .dport], set: NFTNames.balancedServices(n)) })
        #expect(rule.expressions.last == .dnatMap([.daddr, .l4proto, .dport], modulus: n, map: NFTNames.serviceEndpoints))
        let slots = (table.set(NFTNames.serviceEndpoints)?.elements ?? []).filter { Array($0.key.prefix(3)) == key }
        #expect(Set(slots.map(\.key.last)) == Set((0..<n).map { NFTValue.integer(UInt32($0)) }), "slots 0..<\(n)")
        #expect(Set(slots.compactMap(\.data)).count == n, "a different endpoint in each slot")
        // And the tracer agrees: one path per draw, each to a different endpoint.
        let trace = PacketTracer(table: table, isLocalAddress: { _ in false })
            .trace(TracePacket(from: F.ip("10.244.9.9"), to: F.ip("10.96.0.50"), .tcp, port: 80))
        #expect(trace.outcomes.count == n && trace.endpoints.count == n)
    }

    /// More endpoints: a chain of the Service's own, picking through a numgen verdict map.
    @Test(arguments: [RulesetCompiler.elementLimit + 1, 100])
    func everyEndpointGetsAnEqualShare(n: Int) throws {
        let table = try #require(Self.ruleset(endpoints: n).table(.ip))
        let chain = try #require(table.chains.first { $0.name.hasPrefix("service-") && NFTNames.isServiceChain($0.name) })
        let shares = Self.distribution(chain, table)
        #expect(shares.count == n)
        for (target, share) in shares {
            #expect(target.hasPrefix("endpoint-"))
            #expect(abs(share - 1 / Double(n)) < 1e-9, "\(target): \(share)")
        }
        #expect(table.sets.filter { $0.name.hasPrefix("pick-") }.count == 1)
    }

    /// Services with chains of their own (here ClientIP affinity) pick by a rule cascade up to
    /// `cascadeLimit` endpoints, each with exactly 1/N.
    @Test(arguments: [1, 2, 3, 7, RulesetCompiler.cascadeLimit])
    func cascadeGivesEveryEndpointAnEqualShare(n: Int) throws {
        let svc = F.service("default", "s", clusterIPs: ["10.96.0.50"],
                            ports: [ServicePort(name: "http", protocol: .tcp, port: 80, targetPort: 8080)], affinity: 60)
        let ips = (0..<n).map { "10.244.\($0 / 250).\($0 % 250 + 1)" }
        let slice = F.slice("default", "s", ports: [("http", 8080, .tcp)], endpoints: ips.map { F.EP(ip: $0, node: "node-b") })
        let table = try #require(F.compile(ProxyState(services: [svc], endpointSlices: [slice])).table(.ip))
        let chain = try #require(table.chains.first { $0.name.hasPrefix("service-") && NFTNames.isServiceChain($0.name) })
        let shares = Self.distribution(chain, table)
        #expect(shares.count == n)
        for (_, share) in shares { #expect(abs(share - 1 / Double(n)) < 1e-9) }
        #expect(!table.sets.contains { $0.name.hasPrefix("pick-") })
    }
}
