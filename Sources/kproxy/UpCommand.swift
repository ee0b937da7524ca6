import ArgumentParser
import ClusterUp
import Foundation
import Logging
import Synchronization

struct UpCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "up",
        abstract: "Run a whole cluster on this machine: a control plane and N nodes (kproxy node + kproxy proxy), each in a network namespace of its own.",
        discussion: """
        Everything runs inside network namespaces this command creates (a control plane, one per node, an external \
        client and the segment that joins them); nothing is configured in the host's namespace. Pods on different \
        nodes reach each other by host-gw routes (kproxy proxy --node-routes); the cluster DNS runs as kproxy dns \
        pods behind kube-dns (10.96.0.10). kubectl on the host uses STATE/kubeconfig (a forwarder on 127.0.0.1). \
        Daemons that die are restarted. Ctrl-C or `kproxy down` removes everything.
        """
    )

    @Option(help: "Number of nodes (node-a, node-b, …).") var nodes = 2
    @Option(help: "Proxy mode of every node: nftables or userspace.") var proxyMode: UpPlan.ProxyMode = .nftables
    @Option(help: "host-gw (all members on one bridged segment, host-gw pod routes) or vxlan (a subnet per member behind a router, no shared layer 2; pods across nodes through a VXLAN tunnel).")
    var network: UpPlan.Network = .hostGateway
    @Option(help: "Directory for the cluster's state: kubeconfig, logs, pid files, the control plane's data.") var stateDir = "/var/lib/kproxy/up"
    @Option(help: "The kproxy-cni binary installed into each node's CNI bin dir (default: next to kproxy).") var cniPlugin: String?
    @Option(help: "Host loopback port for kubectl (taken when free, else any free port).") var apiPort = 6443
    @Flag(help: "Run the demo, remove the cluster and exit (non-zero when a step fails).") var demo = false
    @Option(help: "Log level of this process: trace, debug, info, notice, warning, error, critical.") var logLevel: Logger.Level = .notice

    func validate() throws {
        guard getuid() == 0 else { throw ValidationError("kproxy up needs root (network namespaces, nftables)") }
        guard (1...26).contains(nodes) else { throw ValidationError("--nodes must be between 1 and 26") }
    }

    func run() async throws {
        var logger = Logger(label: "kproxy.up")
        logger.logLevel = logLevel
        let kproxy = try Self.ownExecutable()
        let cni = cniPlugin ?? (URL(fileURLWithPath: kproxy).deletingLastPathComponent().path + "/kproxy-cni")
        guard FileManager.default.isExecutableFile(atPath: cni) else { throw ValidationError("no kproxy-cni at \(cni) (build it, or pass --cni-plugin)") }
        var options = ClusterUp.Options(kproxyBinary: kproxy, cniBinary: cni)
        options.nodes = nodes; options.proxyMode = proxyMode; options.network = network; options.stateDir = stateDir; options.hostPort = apiPort
        // A run id whose namespace names are all free (another cluster may run with another state dir).
        var candidate = ""
        for _ in 0..<32 {
            candidate = String(format: "%06x", UInt32.random(in: 0...0xffffff))
            if (try? UpPlan(runID: candidate, stateDir: stateDir, nodes: nodes, proxyMode: proxyMode, network: network))
                .map({ $0.namespaces.allSatisfy { access("/run/netns/\($0)", F_OK) != 0 } }) ?? false { break }
        }
        let runID = candidate
        let say: @Sendable (String) -> Void = { line in FileHandle.standardOutput.write(Data((line + "\n").utf8)) }
        let start = ContinuousClock.now
        let (settings, log) = (options, logger)
        let failed = Mutex(false)
        try await Signals.runUntilTerminated {
            let cluster: ClusterUp
            do { cluster = try await ClusterUp.up(settings, runID: runID, logger: log, progress: say) } catch {
                if !(error is CancellationError) { say("kproxy up failed: \(error)"); failed.withLock { $0 = true } }
                return
            }
            let ready = start.duration(to: .now)
            say("""

            cluster ready in \(ready.formatted(.units(allowed: [.seconds], fractionalPart: .show(length: 1)))): \(cluster.plan.nodes.count) node(s), proxy mode \(cluster.plan.proxyMode.rawValue)
              export KUBECONFIG=\(cluster.plan.kubeconfig)
              kubectl get nodes -o wide; kubectl get pods -A -o wide
              logs: \(cluster.plan.stateDir)/logs   namespaces: ip netns list | grep kpup-\(cluster.plan.runID)
              stop: Ctrl-C, or kproxy down --state-dir \(cluster.plan.stateDir)
            """)
            if demo {
                do { try await Demo(cluster: cluster, logger: log, say: say).run(); say("\ndemo passed") } catch {
                    if !(error is CancellationError) { say("demo failed: \(error)"); failed.withLock { $0 = true } }
                }
            } else {
                while !Task.isCancelled { try? await Task.sleep(for: .seconds(3600)) }
            }
            let keepLogs = failed.withLock { $0 }
            say("removing the cluster" + (keepLogs ? " (logs kept in \(cluster.plan.stateDir)/logs)" : ""))
            let left = await cluster.tearDown(keepLogs: keepLogs)
            if left.isEmpty { say("removed") } else { say("left behind: \(left.joined(separator: "; "))"); failed.withLock { $0 = true } }
        }
        if failed.withLock({ $0 }) { throw ExitCode.failure }
    }

    /// This binary, resolved (daemons and pods are started from it).
    static func ownExecutable() throws -> String {
        guard let path = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") else {
            throw ValidationError("cannot resolve /proc/self/exe")
        }
        return path
    }
}

struct DownCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "down",
        abstract: "Remove a cluster made by `kproxy up`: its processes, network namespaces and state dir."
    )
    @Option(help: "The state dir given to kproxy up.") var stateDir = "/var/lib/kproxy/up"

    func run() async throws {
        let problems = try await ClusterUp.down(stateDir: stateDir) { print($0) }
        if !problems.isEmpty { throw ExitCode.failure }
    }
}

extension UpPlan.ProxyMode: ExpressibleByArgument {}
extension UpPlan.Network: ExpressibleByArgument {}
