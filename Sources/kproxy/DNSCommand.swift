import ArgumentParser
import DNSCore
import DNSServer
import Foundation
import KubeClient
import Logging
import NIOCore
import NIOPosix

struct DNSCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dns",
        abstract: "Serve cluster DNS (Kubernetes DNS spec 1.1.0) over UDP and TCP, forwarding other names upstream."
    )

    @Option(help: "kubeconfig of the cluster to watch.") var kubeconfig: String
    @Option(help: "Address and port to serve DNS on (UDP and TCP).") var listen = "0.0.0.0:53"
    @Option(help: "Cluster domain.") var zone = "cluster.local"
    @Option(help: "Upstream resolver for names outside the zone (repeatable; HOST or HOST:PORT).") var upstream: [String] = []
    @Option(help: "Read upstream resolvers from this file when no --upstream is given.") var resolvConf = "/etc/resolv.conf"
    @Option(help: "TTL of cluster records, in seconds.") var ttl: UInt32 = 5
    @Option(help: "Pod records: disabled, insecure or verified.") var pods = "disabled"
    @Flag(help: "Name headless endpoints without a hostname after their pod.") var endpointPodNames = false
    @Option(help: "Address for /metrics, /health and /ready (empty to disable).") var metricsBindAddress = "127.0.0.1:9153"
    @Option(help: "Event loop threads (default: one per core).") var threads: Int?
    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.") var logLevel: Logger.Level = .info

    func run() async throws {
        var logger = Logger(label: "kproxy.dns")
        logger.logLevel = logLevel
        guard let zoneName = DNSName(zone) else { throw ValidationError("--zone \(zone) is not a domain name") }
        guard let podMode = PodRecordMode(rawValue: pods) else { throw ValidationError("--pods must be disabled, insecure or verified") }
        let (host, port) = try HostPort.parse(listen)
        let listenAddress = try SocketAddress(ipAddress: host, port: port)

        var upstreams = try upstream.map { try ResolvConf.parseUpstream($0) }
        if upstreams.isEmpty, let text = try? String(contentsOfFile: resolvConf, encoding: .utf8) {
            upstreams = ResolvConf.nameservers(in: text)
        }
        let selfForwarding = upstreams.filter { ResolvConf.isSelf($0, listen: listenAddress) }
        if !selfForwarding.isEmpty {
            logger.warning("not forwarding to \(selfForwarding.map { "\($0)" }): that is this server")
            upstreams.removeAll { ResolvConf.isSelf($0, listen: listenAddress) }
        }

        let client = try KubeClient(config: ClientConfig.load(kubeconfig: kubeconfig))
        let options = ZoneOptions(zone: zoneName, ttl: ttl, pods: podMode, endpointPodNames: endpointPodNames)
        let store = IndexStore(.unsynced(options))
        let metrics = DNSMetrics(server: "dns://\(listen)", zone: zoneName.description)
        let group = MultiThreadedEventLoopGroup(numberOfThreads: max(1, threads ?? System.coreCount))
        let forwarder = upstreams.isEmpty ? nil : try await Forwarder.start(upstreams: upstreams, group: group, logger: logger)
        let processor = QueryProcessor(store: store, forwarder: forwarder, metrics: metrics, logger: logger)
        let server = try await DNSServer.bind(host: host, port: port, processor: processor, group: group)
        logger.info("serving \(zoneName) on \(server.localAddress) (udp, tcp); upstreams \(upstreams.map { "\($0)" })")
        var http: DNSMetricsServer?
        if !metricsBindAddress.isEmpty {
            let (mhost, mport) = try HostPort.parse(metricsBindAddress)
            http = try await DNSMetricsServer.bind(host: mhost, port: mport, metrics: metrics, store: store, logger: logger)
        }
        let metricsServer = http
        let watcher = ClusterIndexWatcher(client: client, options: options, store: store, logger: logger)
        try await Signals.runUntilTerminated {
            await withDiscardingTaskGroup { group in
                group.addTask { await watcher.run() }
                if let metricsServer { group.addTask { await metricsServer.run() } }
                group.addTask { await processor.probeForLoops() }
            }
        }
        await server.close()
        await forwarder?.shutdown()
        try? await client.shutdown()
        try? await group.shutdownGracefully()
        logger.info("dns stopped")
    }
}
