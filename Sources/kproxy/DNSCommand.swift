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

    @Option(help: "kubeconfig of the cluster to watch (default: $KUBECONFIG, else the in-cluster service account when run in a pod).") var kubeconfig: String?
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
        var upstreams = try upstream.map { try ResolvConf.parseUpstream($0) }
        if upstreams.isEmpty, let text = try? String(contentsOfFile: resolvConf, encoding: .utf8) {
            upstreams = ResolvConf.nameservers(in: text)
        }
        var config = DNSDaemonConfig(listenHost: host, listenPort: port,
                                     zone: ZoneOptions(zone: zoneName, ttl: ttl, pods: podMode, endpointPodNames: endpointPodNames),
                                     upstreams: upstreams, threads: threads ?? System.coreCount)
        if !metricsBindAddress.isEmpty { config.metrics = try HostPort.parse(metricsBindAddress) }
        let client = try KubeClient(config: ClientConfig.load(kubeconfig: kubeconfig))
        let daemon: DNSDaemon
        do { daemon = try await DNSDaemon.start(config, client: client, logger: logger) } catch {
            try? await client.shutdown()
            throw error
        }
        try await Signals.runUntilTerminated { await daemon.run() }
        await daemon.shutdown()
        try? await client.shutdown()
    }
}
