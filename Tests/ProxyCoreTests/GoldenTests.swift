import Foundation
import KubeAPI
import Testing
@testable import ProxyCore

/// Compiled rulesets compared with files in `Golden/` (canonical nft text). `UPDATE_GOLDEN=1` rewrites them.
struct GoldenTests {
    typealias F = Fixtures

    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var state: @Sendable () -> ProxyState
        var config: ProxyConfig
        /// Userspace mode: compile with listener ports for the state's listeners.
        var userspace = false
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "empty", state: { ProxyState() }, config: ProxyConfig()),
        Case(name: "cluster", state: { F.clusterState() }, config: F.config),
        Case(name: "cluster-masquerade-all-nodeport-addresses", state: { F.clusterState() },
             config: ProxyConfig(clusterCIDRs: [F.cidr("10.244.0.0/16")], masqueradeAll: true,
                                 nodePortAddresses: [F.cidr("192.168.0.0/24")])),
        Case(name: "cluster-userspace", state: { F.clusterState() }, config: F.config, userspace: true),
    ]

    static func goldenURL(_ name: String) -> URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden/\(name).nft")
    }

    static func render(_ c: Case) -> String {
        let state = c.state()
        return F.compile(state, config: c.config, listeners: c.userspace ? F.listenerPorts(state) : nil).nftText()
    }

    @Test(arguments: cases)
    func golden(_ c: Case) throws {
        let text = Self.render(c)
        let url = Self.goldenURL(c.name)
        if ProcessInfo.processInfo.environment["UPDATE_GOLDEN"] == "1" {
            try text.write(to: url, atomically: true, encoding: .utf8)
        }
        let expected = try String(contentsOf: url, encoding: .utf8)
        #expect(text == expected, "regenerate with UPDATE_GOLDEN=1 if the change is intended")
    }

    @Test func compileIsDeterministic() {
        let a = F.compile(F.clusterState())
        let b = F.compile(F.clusterState())
        #expect(a == b)
    }
}
