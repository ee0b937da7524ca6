import ArgumentParser
import Foundation
import KubeClient
import Logging
import NodeAgent
import Synchronization

struct NodeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "node",
        abstract: "Run the node agent: register the node, attach pods with the CNI configuration as a container runtime does, and run their containers as processes.",
        discussion: """
        Pods are processes in network namespaces under /run/netns (kproxy-<pod uid>); images are not pulled, so \
        a container runs its `command`. Run it in the node's mount namespace (not under `ip netns exec`, which \
        gives it a private one): pods' namespaces must outlive it, so a restarted agent adopts them.
        """
    )

    @Option(help: "kubeconfig of the cluster.") var kubeconfig: String
    @Option(help: "Name of this node.") var node: String
    @Option(help: "Directory of CNI network configurations.") var cniConfDir = "/etc/cni/net.d"
    @Option(help: "Directories of CNI plugin binaries, comma-separated.") var cniBinDir = "/opt/cni/bin"
    @Option(help: "Where CNI results are cached (libcni's layout, as containerd keeps them).") var cniCacheDir = "/var/lib/cni"
    @Option(help: "Directory for pod records and container logs.") var rootDir = "/var/lib/kproxy/node"
    @Option(help: "Cluster DNS server addresses for pods' resolv.conf, comma-separated (default: the CNI result's dns).") var clusterDns: String?
    @Option(help: "Cluster domain.") var clusterDomain = "cluster.local"
    @Option(help: "This node's addresses, comma-separated (default: those of its interfaces).") var nodeIp: String?
    @Option(help: "IPAM data directory written into a generated conflist (default: the plugin's own).") var ipamDataDir: String?
    @Option(help: "The host's resolver file, for search domains and dnsPolicy Default.") var resolvConf = "/etc/resolv.conf"
    @Option(help: "Node Lease duration in seconds (renewed every quarter of it).") var nodeLeaseDurationSeconds = 40
    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.") var logLevel: Logger.Level = .info

    func validate() throws {
        guard nodeLeaseDurationSeconds >= 4 else { throw ValidationError("--node-lease-duration-seconds must be at least 4") }
        guard !node.isEmpty else { throw ValidationError("--node must not be empty") }
    }

    func run() async throws {
        var logger = Logger(label: "kproxy.node")
        logger.logLevel = logLevel
        var config = AgentConfig(nodeName: node)
        let list = { (text: String?) in (text ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty } }
        config.cniConfDir = cniConfDir
        config.cniBinDirs = list(cniBinDir)
        config.cniCacheDir = cniCacheDir
        config.rootDir = rootDir
        config.clusterDNS = list(clusterDns)
        config.clusterDomain = clusterDomain
        config.nodeIPs = list(nodeIp)
        config.ipamDataDir = ipamDataDir
        config.hostResolvConf = resolvConf
        config.leaseDuration = nodeLeaseDurationSeconds
        let client = try KubeClient(config: ClientConfig.load(kubeconfig: kubeconfig))
        let agent = NodeAgent(config: config, client: client, logger: logger)
        let log = logger
        let failed = Mutex(false)
        try await Signals.runUntilTerminated {
            do { try await agent.run() } catch is CancellationError {} catch {
                log.error("node agent failed: \(error)")
                failed.withLock { $0 = true }
            }
        }
        try await client.shutdown()
        if failed.withLock({ $0 }) { throw ExitCode.failure }
    }
}
