import ArgumentParser
import Balancer
import BalancerCore
import Foundation
import KubeAPI
import KubeClient
import Logging
import ProxyCore
import ProxyDaemon
import Values

struct ProxyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "proxy",
        abstract: "Make Service addresses work on this node (kube-proxy's job): nftables DNAT, or a userspace L4 balancer.",
        discussion: """
            --mode nftables programs the kernel to DNAT Service traffic to endpoints (one netlink batch per sync). \
            --mode userspace hands it (nftables `tproxy`, no conntrack or NAT; a policy route for fwmark 0x8000, \
            table 27504) to transparent listeners of kproxy's own on loopback ports from --proxy-port-range, which balance TCP connections and UDP sessions over the endpoints with --scheduler, \
            retry a failed connect on another endpoint and eject endpoints that keep failing. On SIGTERM the userspace \
            mode closes its listeners (a new kproxy on the same ports takes over queued connections when \
            net.ipv4.tcp_migrate_req is 1, which it sets) and lets open connections finish.
            """
    )

    @Option(help: "kubeconfig of the API server (kproxy's control plane or a real kube-apiserver).") var kubeconfig: String?
    @Option(help: "This node's name (default: the host name).") var node: String?
    @Option(help: "Proxy mode: nftables or userspace.") var mode = "nftables"
    @Option(help: "Userspace mode: roundrobin, leastconn, p2c, random or maglev.") var scheduler = "roundrobin"
    @Option(help: "Userspace mode: a UDP session ends after this long without datagrams (Go duration).") var udpIdleTimeout = "60s"
    @Option(help: "Userspace mode: local ports for the listeners (FROM-TO).") var proxyPortRange = "20000-29999"
    @Option(help: "Userspace mode: event-loop threads (default: one per core).") var userspaceThreads: Int?
    @Option(help: "Userspace mode: on SIGTERM, how long open connections may take to finish (Go duration).") var drainTimeout = "30s"
    @Option(help: "Pod network range(s), comma-separated; traffic from outside to ClusterIPs is masqueraded.") var clusterCidr: String?
    @Option(help: "Service range(s), comma-separated; packets to unallocated addresses in them are dropped.") var serviceCidr: String?
    @Option(help: "Only local addresses in these CIDRs (comma-separated) accept NodePort traffic.") var nodeportAddresses: String?
    @Flag(help: "Masquerade all traffic sent to ClusterIPs.") var masqueradeAll = false
    @Flag(help: "Keep host-gw routes in this node's routing table: each other Node's pod CIDRs via its InternalIP (routes of protocol 75 only; off by default).")
    var nodeRoutes = false
    @Option(help: "With --node-routes: host-gw (the other Nodes' InternalIPs as gateways, on one segment) or vxlan (a VXLAN tunnel, device kproxy.vxlan, UDP 4789, for nodes that share no layer 2).")
    var nodeRoutesMode = "host-gw"
    @Option(help: "Address for /metrics (empty disables).") var metricsBindAddress = "127.0.0.1:10249"
    @Option(help: "Address for /healthz and /livez (empty disables).") var healthzBindAddress = "127.0.0.1:10256"
    @Option(help: "Minimum time between syncs (Go duration, e.g. 1s).") var minSyncPeriod = "0s"
    @Option(help: "Full resync period (Go duration).") var syncPeriod = "1h"
    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.") var logLevel: Logger.Level = .info

    func validate() throws {
        guard mode == "nftables" || mode == "userspace" else { throw ValidationError("--mode must be nftables or userspace") }
        guard SchedulerKind(rawValue: scheduler) != nil else {
            throw ValidationError("--scheduler must be one of \(SchedulerKind.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        _ = try Self.portRange(proxyPortRange)
        if let userspaceThreads, userspaceThreads < 1 { throw ValidationError("--userspace-threads must be at least 1") }
        _ = try GoDuration.parse(udpIdleTimeout)
        _ = try GoDuration.parse(drainTimeout)
        _ = try GoDuration.parse(minSyncPeriod)
        _ = try GoDuration.parse(syncPeriod)
    }

    func run() async throws {
        var logger = Logger(label: "kproxy.proxy")
        logger.logLevel = logLevel
        let nodeName = node ?? ProcessInfo.processInfo.hostName
        let client = try KubeClient(config: try ClientConfig.load(kubeconfig: kubeconfig), logger: logger)
        var proxy = ProxyConfig()
        proxy.clusterCIDRs = try CIDRList.parse(clusterCidr, flag: "--cluster-cidr")
        proxy.serviceCIDRs = try CIDRList.parse(serviceCidr, flag: "--service-cidr")
        proxy.nodePortAddresses = try CIDRList.parse(nodeportAddresses, flag: "--nodeport-addresses")
        proxy.masqueradeAll = masqueradeAll
        var runner = ProxyRunnerConfig(nodeName: nodeName)
        runner.nodeRoutes = nodeRoutes
        guard let routesMode = NodeRouteSync.Mode(rawValue: nodeRoutesMode) else {
            throw ValidationError("--node-routes-mode must be host-gw or vxlan, not \(nodeRoutesMode)")
        }
        runner.nodeRoutesMode = routesMode
        runner.minSyncPeriod = try GoDuration.parse(minSyncPeriod)
        runner.syncPeriod = try GoDuration.parse(syncPeriod)
        runner.metricsAddress = metricsBindAddress.isEmpty ? nil : try HostPort.parse(metricsBindAddress)
        runner.healthzAddress = healthzBindAddress.isEmpty ? nil : try HostPort.parse(healthzBindAddress)

        let target = try NFTablesTarget()
        let userspace: BalancerTarget?
        Self.setBridgeNetfilter(mode != "userspace", logger)
        if mode == "userspace" {
            Self.enableListenerMigration(logger)
            var config = BalancerConfig(threads: userspaceThreads ?? ProcessInfo.processInfo.activeProcessorCount,
                                        udpIdleTimeout: try GoDuration.parse(udpIdleTimeout), drainTimeout: try GoDuration.parse(drainTimeout))
            config.steeringMark = proxy.userspaceMark
            config.families = proxy.families.map(\.ipFamily)
            config.clusterCIDRs = proxy.clusterCIDRs
            let balancer = try Balancer(config: config, logger: logger)
            userspace = BalancerTarget(balancer: balancer, scheduler: SchedulerKind(rawValue: scheduler) ?? .roundrobin)
        } else {
            userspace = nil
            do {
                if try Balancer.removeSteeringRoutes(mark: proxy.userspaceMark) {
                    logger.info("removed the userspace mode's policy route (fwmark 0x\(String(proxy.userspaceMark, radix: 16)))")
                }
            } catch {
                logger.warning("could not check for the userspace mode's policy route: \(error)")
            }
        }
        // No conntrack in userspace mode: its ruleset never turns it on, so there are no flows to clean.
        let syncer = ProxySyncer(config: proxy, node: NodeInfo(name: nodeName), target: target, conntrack: userspace == nil ? target : nil,
                                 listeners: userspace, portRange: try Self.portRange(proxyPortRange), logger: logger)
        var extraMetrics: (@Sendable () -> String)?
        if let userspace { extraMetrics = { userspace.exposition() } }
        let daemon = ProxyRunner(client: client, syncer: syncer, config: runner, extraMetrics: extraMetrics, logger: logger)
        logger.info("kproxy proxy on node \(nodeName), mode \(mode)\(mode == "userspace" ? ", scheduler \(scheduler)" : "")")
        let log = logger
        let drain = try GoDuration.parse(drainTimeout)
        try await Signals.runUntilTerminated {
            do { try await daemon.run() } catch { log.error("proxy stopped: \(error)") }
            if let userspace {
                // Not a child of the cancelled task: the wait must not end at once.
                log.info("draining: listeners closed, waiting up to \(drain) for open connections")
                await Task { await userspace.drain(timeout: drain) }.value
            }
        }
        try? await client.shutdown()
    }
}

extension ProxyCommand {
    /// `FROM-TO`, both in 1…65535, FROM ≤ TO.
    static func portRange(_ text: String) throws -> ClosedRange<UInt16> {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 2, let from = UInt16(parts[0]), let to = UInt16(parts[1]), from > 0, from <= to else {
            throw ValidationError("--proxy-port-range: expected FROM-TO, e.g. 20000-29999, got \(text)")
        }
        return from...to
    }

    /// Sets `net.ipv4.tcp_migrate_req` (per network namespace): when this process closes a listener, connections
    /// still in its accept queue move to another listener of the same SO_REUSEPORT group (the process replacing
    /// it) instead of being reset.
    static func enableListenerMigration(_ logger: Logger) {
        let path = "/proc/sys/net/ipv4/tcp_migrate_req"
        do { try "1\n".write(toFile: path, atomically: false, encoding: .utf8) } catch {
            logger.warning("could not set \(path) to 1 (\(error)); a restart may reset connections still queued")
        }
    }
}

extension ProxyCommand {
    /// `net.bridge.bridge-nf-call-iptables`/`ip6tables` (per network namespace, present when the kernel has
    /// br_netfilter). The nftables mode needs it on: a reply between two pods on one bridge is switched at layer
    /// 2 and must still meet conntrack to be un-DNATed. The userspace mode needs it off: with it on, a pod's
    /// packet to a Service runs the IP prerouting hooks inside the bridge, and the socket `tproxy` assigns there
    /// is dropped when the packet then enters IP input (`ip_rcv` orphans any socket not prefetched by BPF), so
    /// the SYN finds no listener. Its rules use no conntrack, so nothing needs bridged packets to be seen.
    static func setBridgeNetfilter(_ on: Bool, _ logger: Logger) {
        for family in ["iptables", "ip6tables"] {
            let path = "/proc/sys/net/bridge/bridge-nf-call-\(family)"
            guard let current = try? String(contentsOfFile: path, encoding: .utf8) else { continue }  // no br_netfilter
            let want = on ? "1" : "0"
            guard current.trimmingCharacters(in: .whitespacesAndNewlines) != want else { continue }
            do {
                try "\(want)\n".write(toFile: path, atomically: false, encoding: .utf8)
                logger.info("set net.bridge.bridge-nf-call-\(family) to \(want) for this proxy mode")
            } catch {
                logger.warning("could not set \(path) to \(want): \(error); Service traffic from pods on a bridge may fail")
            }
        }
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
