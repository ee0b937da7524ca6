import KubeAPI
import Testing
@testable import ProxyCore

/// The random endpoint pick is uniform whichever form it takes (rule cascade or numgen verdict map).
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

    @Test(arguments: [1, 2, 3, 7, 10, RulesetCompiler.cascadeLimit, RulesetCompiler.cascadeLimit + 1, 100])
    func everyEndpointGetsAnEqualShare(n: Int) throws {
        let table = try #require(Self.ruleset(endpoints: n).table(.ip))
        let chain = try #require(table.chains.first { $0.name.hasPrefix("service-") && NFTNames.isServiceChain($0.name) })
        let shares = Self.distribution(chain, table)
        #expect(shares.count == n)
        for (target, share) in shares {
            #expect(target.hasPrefix("endpoint-"))
            #expect(abs(share - 1 / Double(n)) < 1e-9, "\(target): \(share)")
        }
        // Sets only where the cascade would be long.
        let maps = table.sets.filter { $0.name.hasPrefix("pick-") }
        #expect(maps.count == (n > RulesetCompiler.cascadeLimit ? 1 : 0))
    }
}
