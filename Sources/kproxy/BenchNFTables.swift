import Bench
import ArgumentParser
import Foundation
import KubeAPI
import Logging
import NFTables
import ProxyCore
import ProxyDaemon
import LinuxSystem

/// `kproxy bench nftables`: the nftables mode's sync costs at N Services × M endpoints, each size in fresh
/// network namespaces of its own, next to `nft -f` loading the ruleset upstream kube-proxy's nftables mode
/// writes for the same Services (a chain per Service and per endpoint, `numgen random mod N vmap`) — what
/// users run today. kproxy is driven through its real sync loop (`ProxySyncer` over the netlink target):
/// a full sync, then one endpoint changed at a time and new Services added, each timed from the event to
/// the kernel's commit; then a batch the kernel refuses at validation, and the same changes again, to show
/// a failed batch leaves nothing behind that slows later ones.
struct BenchNFTablesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "nftables",
        abstract: "nftables sync costs (full, one endpoint, a new Service) versus `nft -f` of upstream's layout, in private network namespaces (run as root)."
    )

    @Option(help: "Service counts, comma-separated.") var services = "1000,10000,50000"
    @Option(help: "Endpoints per service.") var endpoints = 10
    @Option(help: "Endpoint changes timed per size.") var changes = 200
    @Option(help: "New Services timed per size.") var newServices = 20
    @Option(help: "Largest size also loaded through upstream's `nft -f` (it takes minutes beyond).") var upstreamMax = 10_000
    @Option(help: "Service counts for the connection-rate comparison, comma-separated (empty: skip).")
    var connectionRateServices = "100,10000"
    @Option(help: "Write the results as JSON to FILE.") var json: String?

    func run() async throws {
        let sizes = services.split(separator: ",").compactMap { Int($0) }
        print("kproxy bench nftables: \(endpoints) endpoints per Service, each size in fresh network namespaces")
        var results: [SyncBenchResult] = []
        for n in sizes {
            let result = try await SyncBench(services: n, endpoints: endpoints, changes: changes, newServices: newServices,
                                             upstream: n <= upstreamMax).run()
            results.append(result)
            print(result.line)
        }
        print("")
        print(SyncBenchResult.table(results))
        var rate: ConnectionRateBench.Result?
        let rateCounts = connectionRateServices.split(separator: ",").compactMap { Int($0) }
        if !rateCounts.isEmpty { rate = try ConnectionRateBench.run(serviceCounts: rateCounts) }
        if let json {
            var object: [String: Any] = ["results": results.map(\.json), "endpoints_per_service": endpoints]
            if let rate { object["connection_rate"] = rate.json }
            let data = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
            try data.write(to: URL(fileURLWithPath: json))
            print("JSON written to \(json)")
        }
    }
}
