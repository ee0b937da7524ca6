import Foundation
import NFTables
import ProxyCore
import Testing

/// Kernel tests of the batch writer: each test in a fresh network namespace, inspected with `nft list`.
@Suite("NFTables batches", .enabled(if: NetnsSupport.isAvailable, "needs root and ip"), .serialized)
struct NFTablesBatchTests {
    static let table = NFTTableID(family: .ip, name: "kptest")

    static func serviceMap(_ name: String) -> KernelSet {
        KernelSet(table: table, name: name, key: [.ipv4Address, .inetProtocol, .inetService], data: .verdict,
                  comment: "ClusterIP, protocol and port to service chain")
    }

    static func key(_ address: String, _ proto: UInt8, _ port: UInt16) -> [UInt8] {
        KernelKey.concat([KernelKey.address(address) ?? [], KernelKey.proto(proto), KernelKey.port(port)])
    }

    /// `ip daddr . meta l4proto . th dport vmap @name`
    static func vmapRule(_ map: String) -> KernelRule {
        KernelRule(chain: "services", [
            .payload(base: .network, offset: 16, length: 4, destination: .r32(0)),
            .meta(.l4proto, destination: .r32(1)),
            .payload(base: .transport, offset: 2, length: 2, destination: .r32(2)),
            .lookup(source: .r32(0), set: .named(map), destination: .verdict, inverted: false),
        ], comment: "dispatch to services")
    }

    static func baseCommands() -> [KernelCommand] {
        [
            .addTable(table, comment: "kproxy test table"),
            .addChain(table, NFTChain(name: "services", comment: "service dispatch")),
            .addChain(table, NFTChain(name: "svc-a", comment: "service a")),
            .addChain(table, NFTChain(name: "nat-prerouting",
                                      base: NFTBaseChain(type: .nat, hook: .prerouting, priority: -100))),
            .addSet(serviceMap("service-ips")),
            .addElements(table, set: "service-ips", [
                KernelElement(key: key("10.96.0.10", 6, 80), data: .verdict(.goto("svc-a")), comment: "ns/a:http"),
                KernelElement(key: key("10.96.0.11", 17, 53), data: .verdict(.drop)),
            ]),
            .addRule(table, KernelRule(chain: "nat-prerouting", [.verdict(.jump("services"))])),
            .addRule(table, vmapRule("service-ips")),
            .addRule(table, KernelRule(chain: "svc-a", [.counter, .verdict(.accept)], comment: "service a")),
        ]
    }

    @Test func batchCreatesTableChainsMapAndRules() throws {
        let node = try TestNetns("nft")
        defer { node.destroy() }
        let connection = try NFTablesConnection(namespace: .named(node.name))
        try connection.apply(Self.baseCommands())
        let text = try node.exec(["nft", "list", "table", "ip", "kptest"])
        #expect(text.contains("map service-ips"), "\(text)")
        #expect(text.contains("type ipv4_addr . inet_proto . inet_service : verdict"), "\(text)")
        #expect(text.contains("10.96.0.10 . tcp . 80 comment \"ns/a:http\" : goto svc-a"), "\(text)")
        #expect(text.contains("10.96.0.11 . udp . 53 : drop"), "\(text)")
        #expect(text.contains("type nat hook prerouting priority dstnat; policy accept;"), "\(text)")
        #expect(text.contains("ip daddr . meta l4proto . th dport vmap @service-ips comment \"dispatch to services\""), "\(text)")
        #expect(text.contains("counter packets 0 bytes 0 accept comment \"service a\""), "\(text)")
        // The root namespace holds nothing of ours.
        let root = try NetnsSupport.run(["nft", "list", "table", "ip", "kptest"])
        #expect(root.status != 0)
    }

    @Test func failingMessageRollsBackTheWholeBatch() throws {
        let node = try TestNetns("nft")
        defer { node.destroy() }
        let connection = try NFTablesConnection(namespace: .named(node.name))
        var commands = Self.baseCommands()
        // A jump to a chain that does not exist, in the middle of the batch.
        commands.insert(.addRule(Self.table, KernelRule(chain: "svc-a", [.verdict(.jump("missing-chain"))],
                                                        comment: "broken")), at: 6)
        #expect {
            try connection.apply(commands)
        } throws: { error in
            guard let error = error as? NFTablesError else { return false }
            return error.operation == "add rule" && error.object.contains("broken") && error.errno == ENOENT
        }
        let listing = try node.execStatus(["nft", "list", "tables"])
        #expect(listing.stdout.isEmpty, "nothing of the failed batch may be visible: \(listing.stdout)")
        // The connection stays usable and a correct batch applies.
        try connection.apply(Self.baseCommands())
        #expect(try node.exec(["nft", "list", "tables"]).contains("table ip kptest"))
    }

    @Test func elementTimeoutsAndDynamicSets() throws {
        let node = try TestNetns("nft")
        defer { node.destroy() }
        let connection = try NFTablesConnection(namespace: .named(node.name))
        let affinity = KernelSet(table: Self.table, name: "affinity-a", key: [.ipv4Address],
                                 flags: [.dynamic, .timeout], timeoutMilliseconds: 10_800_000)
        try connection.apply([
            .addTable(Self.table, comment: nil),
            .addChain(Self.table, NFTChain(name: "endpoint-a")),
            .addSet(affinity),
            .addElements(Self.table, set: "affinity-a", [
                KernelElement(key: KernelKey.address("10.244.1.5") ?? [], timeoutMilliseconds: 60_000),
            ]),
            .addRule(Self.table, KernelRule(chain: "endpoint-a", [
                .payload(base: .network, offset: 12, length: 4, destination: .r32(0)),
                .dynset(.update("affinity-a", from: .r32(0))),
            ])),
        ])
        let text = try node.exec(["nft", "list", "table", "ip", "kptest"])
        #expect(text.contains("flags dynamic,timeout"), "\(text)")
        #expect(text.contains("timeout 3h"), "\(text)")
        #expect(text.contains("10.244.1.5 timeout 1m expires"), "\(text)")
        #expect(text.contains("update @affinity-a { ip saddr }"), "\(text)")
    }

    @Test func numgenVerdictMapOverAnonymousMap() throws {
        let node = try TestNetns("nft")
        defer { node.destroy() }
        let connection = try NFTablesConnection(namespace: .named(node.name))
        let anonymous = KernelSet(table: Self.table, name: "", key: [.integer32], data: .verdict)
        try connection.apply([
            .addTable(Self.table, comment: nil),
            .addChain(Self.table, NFTChain(name: "ep-1")),
            .addChain(Self.table, NFTChain(name: "ep-2")),
            .addChain(Self.table, NFTChain(name: "svc")),
            .addRule(Self.table, KernelRule(chain: "svc", [
                .numgen(destination: .r32(0), modulus: 2, random: true, offset: 0),
                .lookup(source: .r32(0), set: .anonymous(anonymous, [
                    KernelElement(key: KernelKey.host32(0), data: .verdict(.goto("ep-1"))),
                    KernelElement(key: KernelKey.host32(1), data: .verdict(.goto("ep-2"))),
                ]), destination: .verdict, inverted: false),
            ])),
        ])
        let text = try node.exec(["nft", "list", "chain", "ip", "kptest", "svc"])
        #expect(text.contains("numgen random mod 2 vmap { 0 : goto ep-1, 1 : goto ep-2 }"), "\(text)")
    }
}
