import Foundation
import KubeAPI
import NFTables
import ProxyCore
import Testing
import Values

/// The applier against the real kernel: compiled rulesets for a small cluster, full and partial syncs,
/// compared with what the kernel reads back and with what `nft -f` makes of the model's text.
@Suite("NFTables applier", .enabled(if: NetnsSupport.isAvailable, "needs root and ip"), .serialized)
struct NFTablesApplierTests {
    static func ip(_ text: String) -> IPAddress { IPAddress(text) ?? IPAddress(ipv4: 0) }
    static func cidr(_ text: String) -> CIDR? { CIDR(text) }

    static let nodeName = "node-a"
    static let node = NodeInfo(name: nodeName, nodeIPs: [ip("192.168.50.1"), ip("fd00:50::1")])
    static let config = ProxyConfig(clusterCIDRs: [cidr("10.244.0.0/16"), cidr("fd00:244::/64")].compactMap { $0 },
                                    serviceCIDRs: [cidr("10.96.0.0/16"), cidr("fd00:96::/112")].compactMap { $0 })

    static func service(_ name: String, _ clusterIPs: [String], _ ports: [ServicePort], type: ServiceType = .clusterIP,
                        affinity: Int? = nil) -> Service {
        var spec = ServiceSpec(type: type, ports: ports, clusterIP: clusterIPs.first, clusterIPs: clusterIPs)
        if let affinity {
            spec.sessionAffinity = .clientIP
            spec.sessionAffinityConfig = SessionAffinityConfig(clientIP: ClientIPConfig(timeoutSeconds: affinity))
        }
        return Service(metadata: ObjectMeta(name: name, namespace: "default"), spec: spec)
    }

    static func slice(_ service: String, _ suffix: String, family: AddressType = .ipv4, port: Int,
                      protocol proto: ServiceProtocol = .tcp, name: String? = "http", addresses: [String],
                      nodeName: String = "node-b") -> EndpointSlice {
        EndpointSlice(metadata: ObjectMeta(name: "\(service)-\(suffix)", namespace: "default",
                                           labels: [EndpointSlice.serviceNameLabel: service]),
                      addressType: family,
                      endpoints: addresses.map { Endpoint(addresses: [$0], conditions: EndpointConditions(ready: true), nodeName: nodeName) },
                      ports: [EndpointPort(name: name, protocol: proto, port: port)])
    }

    /// ClusterIP with two endpoints, a NodePort, UDP DNS, an affinity service, a service without endpoints and
    /// a dual-stack one.
    static func cluster(webEndpoints: [String] = ["10.244.1.5", "10.244.2.5"]) -> ProxyState {
        let http = ServicePort(name: "http", protocol: .tcp, port: 80, targetPort: 8080)
        let services = [
            service("web", ["10.96.0.10"], [http]),
            service("np", ["10.96.0.12"], [ServicePort(name: "http", protocol: .tcp, port: 80, nodePort: 30080)], type: .nodePort),
            service("dns", ["10.96.0.53"], [ServicePort(name: "dns", protocol: .udp, port: 53)]),
            service("sticky", ["10.96.0.15"], [http], affinity: 600),
            service("empty", ["10.96.0.11"], [http]),
            service("dual", ["10.96.0.22", "fd00:96::22"], [http]),
            service("big", ["10.96.0.24"], [http]),
        ]
        let slices = [
            slice("web", "1", port: 8080, addresses: webEndpoints),
            slice("np", "1", port: 8080, addresses: ["10.244.1.6"]),
            slice("dns", "1", port: 53, protocol: .udp, name: "dns", addresses: ["10.244.0.53"]),
            slice("sticky", "1", port: 8080, addresses: ["10.244.1.9", "10.244.2.9"]),
            slice("empty", "1", port: 8080, addresses: []),
            slice("dual", "1", port: 8080, addresses: ["10.244.1.22"]),
            slice("dual", "v6", family: .ipv6, port: 8080, addresses: ["fd00:244::22"]),
            // Beyond the cascade limit: a named numgen verdict map.
            slice("big", "1", port: 8080, addresses: (1...40).map { "10.244.4.\($0)" }),
        ]
        return ProxyState(services: services, endpointSlices: slices)
    }

    static func compile(_ state: ProxyState) -> NFTRuleset {
        RulesetCompiler(config: config, node: node).compile(state)
    }

    static func expectKernelHolds(_ applier: NetlinkRulesetApplier, _ ruleset: NFTRuleset,
                                  sourceLocation: SourceLocation = #_sourceLocation) throws {
        for (expected, actual) in try applier.compare(ruleset) {
            guard let actual else {
                Issue.record("table \(expected.id) missing in the kernel", sourceLocation: sourceLocation)
                continue
            }
            let differences = expected.differences(from: actual)
            #expect(differences.isEmpty, "\(expected.id): \(differences.joined(separator: "\n"))", sourceLocation: sourceLocation)
            #expect(expected.ruleCount == actual.ruleCount, sourceLocation: sourceLocation)
        }
    }

    @Test func fullSyncThenKernelEqualsModel() throws {
        let node = try TestNetns("app")
        defer { node.destroy() }
        let applier = try NetlinkRulesetApplier(namespace: .named(node.name))
        let ruleset = Self.compile(Self.cluster())
        #expect(ruleset.tables.count == 2)
        try applier.applyFull(ruleset)
        try Self.expectKernelHolds(applier, ruleset)
        // A second full sync adopts the table (no error, same content).
        try applier.applyFull(ruleset)
        try Self.expectKernelHolds(applier, ruleset)
    }

    /// Our batch and `nft -f` of the model's text leave the same listing, in both modes (the userspace one
    /// has tproxy, socket and route-chain expressions of its own).
    @Test(arguments: ["nftables", "userspace"])
    func kernelListingMatchesNftLoadingTheModelText(mode: String) throws {
        let viaBatch = try TestNetns("bat")
        defer { viaBatch.destroy() }
        let viaText = try TestNetns("txt")
        defer { viaText.destroy() }
        let state = Self.cluster()
        var ports = ListenerPorts(range: 20000...29999)
        ports.update(state.listenerSpecs(node: Self.node).keys)
        let ruleset = RulesetCompiler(config: Self.config, node: Self.node, listeners: mode == "userspace" ? ports : nil).compile(state)
        try NetlinkRulesetApplier(namespace: .named(viaBatch.name)).applyFull(ruleset)
        try viaText.exec(["nft", "-f", "-"], input: ruleset.nftText())
        for family in ["ip", "ip6"] {
            let batchText = try viaBatch.exec(["nft", "list", "table", family, NFTNames.defaultTable])
            let textText = try viaText.exec(["nft", "list", "table", family, NFTNames.defaultTable])
            let left = Self.normalized(batchText), right = Self.normalized(textText)
            let firstDifference = zip(left, right).first { $0 != $1 }
            #expect(left == right, "first difference: \(firstDifference.map { "\($0.0)  vs  \($0.1)" } ?? "lengths \(left.count) vs \(right.count)")")
        }
    }

    /// Listing lines, sorted (element order within a line is the kernel's), without counters.
    static func normalized(_ text: String) -> [String] {
        text.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }.sorted()
    }

    @Test func partialSyncChangesOnlyWhatDiffers() throws {
        let node = try TestNetns("par")
        defer { node.destroy() }
        let applier = try NetlinkRulesetApplier(namespace: .named(node.name))
        let before = Self.compile(Self.cluster())
        try applier.applyFull(before)
        let after = Self.compile(Self.cluster(webEndpoints: ["10.244.1.5", "10.244.3.5", "10.244.4.5"]))
        let transaction = RulesetDiff.partialSync(from: before, to: after)
        #expect(!transaction.isEmpty)
        try applier.apply(transaction)
        try Self.expectKernelHolds(applier, after)
        // And back, removing endpoint chains.
        try applier.apply(RulesetDiff.partialSync(from: after, to: before))
        try Self.expectKernelHolds(applier, before)
    }

    @Test func failedTransactionLeavesThePreviousRulesetInPlace() throws {
        let node = try TestNetns("bad")
        defer { node.destroy() }
        let applier = try NetlinkRulesetApplier(namespace: .named(node.name))
        let ruleset = Self.compile(Self.cluster())
        try applier.applyFull(ruleset)
        guard let table = ruleset.tables.first else { return }
        var broken = RulesetDiff.partialSync(from: ruleset, to: Self.compile(Self.cluster(webEndpoints: ["10.244.9.9"])))
        broken.operations.append(.addRule(table.id, chain: "no-such-chain", NFTRule([.verdict(.accept)])))
        #expect(throws: NFTablesError.self) { try applier.apply(broken) }
        try Self.expectKernelHolds(applier, ruleset)
    }
}
