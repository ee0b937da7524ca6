import ArgumentParser
import Foundation
import KubeAPI
import KubeClient
import Logging
import ProxyCore
import ProxyDaemon

struct ProxyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "proxy",
        abstract: "Make Service addresses work on this node (kube-proxy's job), programming nftables through netlink."
    )

    @Option(help: "kubeconfig of the API server (kproxy's control plane or a real kube-apiserver).") var kubeconfig: String?
    @Option(help: "This node's name (default: the host name).") var node: String?
    @Option(help: "Proxy mode: nftables.") var mode = "nftables"
    @Option(help: "Pod network range(s), comma-separated; traffic from outside to ClusterIPs is masqueraded.") var clusterCidr: String?
    @Option(help: "Service range(s), comma-separated; packets to unallocated addresses in them are dropped.") var serviceCidr: String?
    @Option(help: "Only local addresses in these CIDRs (comma-separated) accept NodePort traffic.") var nodeportAddresses: String?
    @Flag(help: "Masquerade all traffic sent to ClusterIPs.") var masqueradeAll = false
    @Option(help: "Address for /metrics (empty disables).") var metricsBindAddress = "127.0.0.1:10249"
    @Option(help: "Address for /healthz and /livez (empty disables).") var healthzBindAddress = "127.0.0.1:10256"
    @Option(help: "Minimum time between syncs (Go duration, e.g. 1s).") var minSyncPeriod = "0s"
    @Option(help: "Full resync period (Go duration).") var syncPeriod = "1h"
    @Option(help: "Log level: trace, debug, info, notice, warning, error.") var logLevel = "info"

    func validate() throws {
        guard mode == "nftables" else { throw ValidationError("--mode must be nftables (the only mode this build supports)") }
        _ = try GoDuration.parse(minSyncPeriod)
        _ = try GoDuration.parse(syncPeriod)
    }

    func run() async throws {
        var logger = Logger(label: "kproxy.proxy")
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .info
        let nodeName = node ?? ProcessInfo.processInfo.hostName
        let client = try KubeClient(config: try ClientConfig.load(kubeconfig: kubeconfig), logger: logger)
        var proxy = ProxyConfig()
        proxy.clusterCIDRs = try CIDRList.parse(clusterCidr, flag: "--cluster-cidr")
        proxy.serviceCIDRs = try CIDRList.parse(serviceCidr, flag: "--service-cidr")
        proxy.nodePortAddresses = try CIDRList.parse(nodeportAddresses, flag: "--nodeport-addresses")
        proxy.masqueradeAll = masqueradeAll
        var runner = ProxyRunnerConfig(nodeName: nodeName)
        runner.minSyncPeriod = try GoDuration.parse(minSyncPeriod)
        runner.syncPeriod = try GoDuration.parse(syncPeriod)
        runner.metricsAddress = metricsBindAddress.isEmpty ? nil : try HostPort.parse(metricsBindAddress)
        runner.healthzAddress = healthzBindAddress.isEmpty ? nil : try HostPort.parse(healthzBindAddress)

        let target = try NFTablesTarget()
        let syncer = ProxySyncer(config: proxy, node: NodeInfo(name: nodeName), target: target, conntrack: target, logger: logger)
        let daemon = ProxyRunner(client: client, syncer: syncer, config: runner, logger: logger)
        logger.info("kproxy proxy on node \(nodeName), mode \(mode)")
        let log = logger
        try await Signals.runUntilTerminated {
            do { try await daemon.run() } catch { log.error("proxy stopped: \(error)") }
        }
        try? await client.shutdown()
    }
}

/// Go's `time.ParseDuration` subset kube-proxy flags use: `0s`, `500ms`, `1m30s`, `1h`.
enum GoDuration {
    static func parse(_ text: String) throws -> Duration {
        if text == "0" { return .zero }
        var rest = Substring(text)
        var total = Duration.zero
        let units: [(String, Duration)] = [("ms", .milliseconds(1)), ("us", .microseconds(1)), ("ns", .nanoseconds(1)),
                                           ("h", .seconds(3600)), ("m", .seconds(60)), ("s", .seconds(1))]
        while !rest.isEmpty {
            let digits = rest.prefix { $0.isNumber || $0 == "." }
            guard let value = Double(digits), !digits.isEmpty else { throw ValidationError("invalid duration \(text)") }
            rest = rest.dropFirst(digits.count)
            guard let (unit, scale) = units.first(where: { rest.hasPrefix($0.0) }) else { throw ValidationError("invalid duration \(text): unit missing") }
            rest = rest.dropFirst(unit.count)
            total += scale * value
        }
        return total
    }
}

enum CIDRList {
    static func parse(_ text: String?, flag: String) throws -> [CIDR] {
        guard let text, !text.isEmpty else { return [] }
        return try text.split(separator: ",").map { part in
            guard let cidr = CIDR(String(part).trimmingCharacters(in: .whitespaces)) else { throw ValidationError("\(flag): invalid CIDR \(part)") }
            return cidr
        }
    }
}
