import ArgumentParser
import Foundation
import KubeAPI
import NFTables
import ProxyCore

/// `kproxy bench nftables`: how long programming N services × M endpoints takes through our one
/// libnftnl batch, next to `nft -f` loading the same ruleset as text (the path upstream takes via
/// knftables), each in a fresh network namespace of its own; and one endpoint's partial sync.
struct BenchNFTablesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "nftables",
        abstract: "Full and partial nftables sync times versus `nft -f`, in private network namespaces (run as root)."
    )

    @Option(help: "Service counts, comma-separated.") var services = "1000,10000,30000"
    @Option(help: "Endpoints per service.") var endpoints = 10
    @Option(help: "Service counts for the connection-rate comparison, comma-separated (empty: skip).")
    var connectionRateServices = "100,10000"

    func run() async throws {
        let sizes = services.split(separator: ",").compactMap { Int($0) }
        print("kproxy bench nftables: \(endpoints) endpoints per service, each measurement in a fresh network namespace")
        print("services  compile   full sync (batch)  nft -f (same rules)  ratio   partial (1 endpoint)  rules    peak RSS   partial: recompile + diff")
        for n in sizes {
            let state = Self.state(services: n, endpoints: endpoints)
            let compiler = RulesetCompiler(config: ProxyConfig(families: [.ip], clusterCIDRs: [CIDR("10.244.0.0/16")].compactMap { $0 }),
                                           node: NodeInfo(name: "bench"))
            let clock = ContinuousClock()
            var ruleset = NFTRuleset(tables: [])
            let compile = clock.measure { ruleset = compiler.compile(state) }
            let rules = ruleset.tables.reduce(0) { $0 + $1.chains.reduce(0) { $0 + $1.rules.count } }

            let ours = try Netns("b")
            defer { ours.delete() }
            let applier = try NetlinkRulesetApplier(namespace: .named(ours.name))
            let full = try clock.measure { try applier.applyFull(ruleset) }

            // One endpoint of one service changes: only its chains and elements move.
            var changed = state
            if let first = changed.endpoints.keys.sorted().first, var list = changed.endpoints[first], !list.isEmpty {
                list[0].address = IPAddress("10.250.0.1") ?? list[0].address
                changed.endpoints[first] = list
            }
            var next = NFTRuleset(tables: [])
            let recompile = clock.measure { next = compiler.compile(changed) }
            var partialTx = NFTTransaction()
            let diff = clock.measure { partialTx = RulesetDiff.partialSync(from: ruleset, to: next) }
            let partial = try clock.measure { try applier.apply(partialTx) }

            let text = ruleset.nftText()
            let file = NSTemporaryDirectory() + "kproxy-bench-\(n).nft"
            try text.write(toFile: file, atomically: true, encoding: .utf8)
            defer { try? FileManager.default.removeItem(atPath: file) }
            let theirs = try Netns("n")
            defer { theirs.delete() }
            let nft = try clock.measure { try Shell.run(["ip", "netns", "exec", theirs.name, "nft", "-f", file]) }

            let ratio = nft / full
            print(String(format: "%8d  %7.3fs  %17.3fs  %19.3fs  %5.1f×  %18.1fms  %7d  %6.0f MiB   %.0f + %.0f ms", n, compile.seconds, full.seconds,
                         nft.seconds, ratio, partial.seconds * 1000, rules, Self.peakRSSMiB(), recompile.seconds * 1000, diff.seconds * 1000))
        }
        let rateCounts = connectionRateServices.split(separator: ",").compactMap { Int($0) }
        if !rateCounts.isEmpty { try ConnectionRateBench.run(serviceCounts: rateCounts) }
    }

    static func state(services: Int, endpoints: Int) -> ProxyState {
        var ports: [ServicePortName: ServicePortInfo] = [:]
        var eps: [ServicePortName: [EndpointInfo]] = [:]
        for i in 0..<services {
            let name = ServicePortName(namespace: "bench", name: "svc-\(i)", port: "http", protocol: .tcp)
            let ip = IPAddress(ipv4: 0x0A60_0000 + UInt32(i + 10))  // 10.96.0.10 + i
            ports[name] = ServicePortInfo(name: name, clusterIPs: [ip], port: 80)
            eps[name] = (0..<endpoints).map { e in
                EndpointInfo(address: IPAddress(ipv4: 0x0AF4_0000 + UInt32(i * endpoints + e + 2)), port: 8080, nodeName: "bench")
            }
        }
        return ProxyState(services: ports, endpoints: eps)
    }

    static func peakRSSMiB() -> Double {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
              let kb = Double(line.split(separator: " ").dropFirst().first ?? "") else { return 0 }
        return kb / 1024
    }
}

/// A network namespace for one measurement, deleted afterwards.
struct Netns {
    let name: String
    init(_ tag: String) throws {
        name = "kp-bench-\(tag)-\(UInt32.random(in: 0..<UInt32.max) % 100_000)"
        try Shell.run(["ip", "netns", "add", name])
    }
    func delete() { _ = try? Shell.run(["ip", "netns", "del", name]) }
}

enum Shell {
    struct Failed: Error, CustomStringConvertible { var description: String }
    @discardableResult static func run(_ args: [String]) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = args
        let out = Pipe()
        p.standardOutput = out
        p.standardError = out
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        guard p.terminationStatus == 0 else { throw Failed(description: "\(args.joined(separator: " ")): \(text)") }
        return text
    }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
    static func / (a: Duration, b: Duration) -> Double { a.seconds / max(b.seconds, 1e-9) }
}

extension ContinuousClock {
    func measure(_ body: () throws -> Void) rethrows -> Duration {
        let start = now
        try body()
        return now - start
    }
}
