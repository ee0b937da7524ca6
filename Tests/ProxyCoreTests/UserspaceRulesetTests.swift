import KubeAPI
import Testing
@testable import ProxyCore

/// The userspace mode's ruleset against the nftables mode's as its specification: every packet-tracer
/// scenario that ends at endpoints in nftables mode is redirected to exactly one listener whose endpoints are
/// those same endpoints; rejects, drops and untouched packets stay as they are.
struct UserspaceRulesetTests {
    typealias F = Fixtures
    typealias P = PacketTracerTests
    static let state = F.clusterState()
    static let ports = F.listenerPorts(state)
    static let ruleset = F.compile(state, listeners: ports)
    static let specs = state.listenerSpecs(node: F.node)
    static let keyByPort: [NFTL4Proto: [UInt16: ListenerKey]] = {
        var out: [NFTL4Proto: [UInt16: ListenerKey]] = [:]
        for (key, port) in ports.ports { out[key.name.protocol, default: [:]][port] = key }
        return out
    }()

    @Test(arguments: PacketTracerTests.cases)
    func sameOutcomeThroughAListener(_ c: PacketTracerTests.Case) {
        let result = P.trace(c.packet, Self.ruleset)
        switch c.expect {
        case .endpoints(let endpoints, _):
            #expect(result.redirects.count == 1, "one listener: \(result.outcomes)")
            #expect(result.endpoints.isEmpty, "no DNAT to an endpoint in userspace mode")
            guard let port = result.redirects.first, let key = Self.keyByPort[c.packet.proto]?[port], let spec = Self.specs[key] else {
                Issue.record("no listener behind the redirect: \(result.outcomes)")
                return
            }
            #expect(Set(spec.endpoints.map(\.description)) == endpoints, "\(key) balances over the endpoints nftables mode would pick")
            #expect(!result.outcomes.contains { $0.masquerade }, "proxied traffic is not masqueraded")
        case .reject:
            #expect(result.isRejected, "\(result.outcomes)")
        case .drop:
            #expect(result.isDropped, "\(result.outcomes)")
        case .untouched:
            #expect(result.isUntouched, "\(result.outcomes)")
        }
    }

    @Test func everyRedirectHasAListenerAndEveryListenerARedirect() {
        var redirected: Set<ListenerKey> = []
        for table in Self.ruleset.tables {
            for chain in table.chains {
                for rule in chain.rules {
                    for case .redirect(let port) in rule.expressions {
                        let proto: NFTL4Proto = rule.expressions.contains(.match(.l4proto, .l4proto(.udp))) ? .udp
                            : rule.expressions.contains(.match(.l4proto, .l4proto(.sctp))) ? .sctp : .tcp
                        guard let key = Self.keyByPort[proto]?[port] else { Issue.record("redirect to unknown port \(port)"); continue }
                        #expect(key.family == table.family.ipFamily)
                        redirected.insert(key)
                    }
                }
            }
        }
        #expect(redirected == Set(Self.specs.keys))
        #expect(Self.ruleset.tables.allSatisfy { t in !t.chains.contains { $0.name.hasPrefix("endpoint-") } }, "no endpoint chains")
    }

    @Test func listenerPortsAreReachableOnlyThroughRedirects() {
        guard let (key, port) = Self.ports.ports.first(where: { $0.key.family == .ipv4 && $0.key.name.protocol == .tcp }) else {
            Issue.record("no IPv4 TCP listener in the fixture"); return
        }
        let direct = P.trace(P.packet("172.16.0.1", "192.168.0.10", port), Self.ruleset)
        #expect(direct.isDropped, "\(key): a direct connection to the listener port is dropped: \(direct.outcomes)")
    }

    @Test func aListenerWithoutAPortIsRejectedLikeNoEndpoints() {
        var ports = ListenerPorts(range: 20000...20000)  // one TCP port for many listeners
        ports.update(Self.specs.keys)
        let ruleset = F.compile(Self.state, listeners: ports)
        let unassigned = Self.specs.keys.filter { ports.port($0) == nil && $0.family == .ipv4 && $0.scope == .cluster && $0.name.protocol == .tcp }
        guard let key = unassigned.first, let info = Self.state.services[key.name], let ip = info.clusterIPs.first(where: \.isIPv4) else {
            Issue.record("expected a listener without a port"); return
        }
        let result = P.trace(TracePacket(from: F.ip("10.244.0.100"), to: ip, .tcp, port: info.port, origin: .inbound(interface: "eth0")), ruleset)
        #expect(result.isRejected, "\(key) without a port: \(result.outcomes)")
    }

    @Test func cachedCompileFollowsPortChanges() {
        let cache = CompileCache()
        var ports = Self.ports
        let first = RulesetCompiler(config: F.config, node: F.node, cache: cache, listeners: ports).compile(Self.state)
        #expect(first == Self.ruleset)
        // Another range: every port changes; the cached fragments must not be reused.
        ports = ListenerPorts(range: 21000...29999)
        ports.update(Self.specs.keys)
        let cached = RulesetCompiler(config: F.config, node: F.node, cache: cache, listeners: ports).compile(Self.state)
        #expect(cached == F.compile(Self.state, listeners: ports))
        #expect(cached != first)
    }
}
