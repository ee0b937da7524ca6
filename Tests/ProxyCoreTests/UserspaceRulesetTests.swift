import KubeAPI
import Testing
@testable import ProxyCore

/// The userspace mode's ruleset against the nftables mode's as its specification: every packet-tracer
/// scenario that ends at endpoints in nftables mode is handed (tproxy) to exactly one listener whose endpoints
/// are those same endpoints; rejects, drops and untouched packets stay as they are. The tracer follows the
/// steering mark through kproxy's policy route (and locally sent packets over `lo`): a packet handed to a
/// listener without the mark would be routed on and rejected by the ClusterIP check.
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

    static func trace(_ packet: TracePacket, _ ruleset: NFTRuleset = ruleset) -> TraceResult {
        PacketTracer.trace(packet, in: ruleset, isLocalAddress: { P.localAddresses.contains($0) },
                           localRouteMark: F.config.userspaceMark)
    }

    @Test(arguments: PacketTracerTests.cases)
    func sameOutcomeThroughAListener(_ c: PacketTracerTests.Case) {
        let result = Self.trace(c.packet, Self.ruleset)
        switch c.expect {
        case .endpoints(let endpoints, _):
            #expect(result.listenerPorts.count == 1, "one listener: \(result.outcomes)")
            #expect(result.endpoints.isEmpty, "no DNAT to an endpoint in userspace mode")
            guard let port = result.listenerPorts.first, let key = Self.keyByPort[c.packet.proto]?[port], let spec = Self.specs[key] else {
                Issue.record("no listener behind the tproxy: \(result.outcomes)")
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

    /// No rule touches conntrack or NAT, so the kernel never turns conntrack on for the userspace mode.
    @Test func noConntrackNoNAT() {
        for table in Self.ruleset.tables {
            #expect(!table.chains.contains { $0.base?.type == .nat }, "\(table.family): no nat chain")
            for chain in table.chains {
                for rule in chain.rules {
                    for e in rule.expressions {
                        switch e {
                        case .ctState, .ctStatus, .dnat, .masquerade:
                            Issue.record("\(chain.name): \(e) needs conntrack")
                        default:
                            break
                        }
                    }
                }
            }
        }
    }

    @Test func everyTproxyHasAListenerAndEveryListenerATproxy() {
        var redirected: Set<ListenerKey> = []
        for table in Self.ruleset.tables {
            for chain in table.chains {
                for rule in chain.rules {
                    for case .tproxy(let address, let port) in rule.expressions {
                        #expect(address == UserspaceSteering.listenAddress(table.family.ipFamily))
                        let proto: NFTL4Proto = rule.expressions.contains(.match(.l4proto, .l4proto(.udp))) ? .udp
                            : rule.expressions.contains(.match(.l4proto, .l4proto(.sctp))) ? .sctp : .tcp
                        guard let key = Self.keyByPort[proto]?[port] else { Issue.record("tproxy to unknown port \(port)"); continue }
                        #expect(key.family == table.family.ipFamily)
                        redirected.insert(key)
                    }
                }
            }
        }
        #expect(redirected == Set(Self.specs.keys))
        #expect(Self.ruleset.tables.allSatisfy { t in !t.chains.contains { $0.name.hasPrefix("endpoint-") } }, "no endpoint chains")
    }

    @Test func listenerPortsAreReachableOnlyThroughTproxy() {
        guard let (key, port) = Self.ports.ports.first(where: { $0.key.family == .ipv4 && $0.key.name.protocol == .tcp }) else {
            Issue.record("no IPv4 TCP listener in the fixture"); return
        }
        let direct = Self.trace(P.packet("172.16.0.1", "192.168.0.10", port), Self.ruleset)
        #expect(direct.isDropped, "\(key): a direct connection to the listener port is dropped: \(direct.outcomes)")
        let loopback = Self.trace(P.packet("127.0.0.1", "127.0.0.1", port, origin: .local), Self.ruleset)
        #expect(loopback.isDropped, "\(key): a local process connecting to the listener is dropped: \(loopback.outcomes)")
    }

    @Test func aListenerWithoutAPortIsRejectedLikeNoEndpoints() {
        var ports = ListenerPorts(range: 20000...20000)  // one TCP port for many listeners
        ports.update(Self.specs.keys)
        let ruleset = F.compile(Self.state, listeners: ports)
        let unassigned = Self.specs.keys.filter { ports.port($0) == nil && $0.family == .ipv4 && $0.scope == .cluster && $0.name.protocol == .tcp }
        guard let key = unassigned.first, let info = Self.state.services[key.name], let ip = info.clusterIPs.first(where: \.isIPv4) else {
            Issue.record("expected a listener without a port"); return
        }
        let result = Self.trace(TracePacket(from: F.ip("10.244.0.100"), to: ip, .tcp, port: info.port, origin: .inbound(interface: "eth0")), ruleset)
        #expect(result.isRejected, "\(key) without a port: \(result.outcomes)")
    }

    @Test func incrementalCompileFollowsPortChanges() throws {
        var ports = Self.ports
        let first = RulesetCompiler(config: F.config, node: F.node, listeners: ports).compile(Self.state, previous: nil)
        #expect(first.ruleset == Self.ruleset)
        // Another range: every port changes; the previous fragments must not be reused.
        ports = ListenerPorts(range: 21000...29999)
        ports.update(Self.specs.keys)
        let next = RulesetCompiler(config: F.config, node: F.node, listeners: ports).compile(Self.state, previous: first)
        #expect(next.ruleset == F.compile(Self.state, listeners: ports))
        #expect(next.ruleset != first.ruleset)
        #expect(try first.ruleset.applying(RulesetDiff.partialSync(from: first, to: next)) == next.ruleset)
    }
}
