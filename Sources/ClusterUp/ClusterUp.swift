import Foundation
import Glibc
import KubeAPI
import KubeClient
import LinuxSystem
import Logging
import NIOCore
import NIOPosix
import NodeAgent
import ProxyDaemon
import Synchronization
import Dispatch

/// `kproxy up`: the cluster of `UpPlan` brought up on this machine, kept running (daemons restarted when
/// they die) and removed again. What is on disk (`up.json`) is enough for `kproxy down` from another
/// process to remove everything.
public final class ClusterUp: Sendable {
    public struct Options: Sendable {
        public var nodes = 2
        public var proxyMode = UpPlan.ProxyMode.nftables
        public var stateDir = "/var/lib/kproxy/up"
        public var kproxyBinary: String
        public var cniBinary: String
        /// The host loopback port of the API forwarder (taken when free, else any free port).
        public var hostPort = 6443
        public var network = UpPlan.Network.hostGateway
        public init(kproxyBinary: String, cniBinary: String) { self.kproxyBinary = kproxyBinary; self.cniBinary = cniBinary }
    }

    /// What `kproxy down` reads.
    public struct Record: Codable, Sendable {
        public var plan: UpPlan
        public var supervisorPid: Int32
        public var hostPort: Int?
    }

    public let plan: UpPlan
    public let supervisor: Supervisor
    private let logger: Logger
    private let group: MultiThreadedEventLoopGroup
    private let forwarder: Mutex<Forwarder?>
    private let background: Mutex<[Task<Void, Never>]>
    private let stopping = Atomic<Bool>(false)

    /// The state dir's lock (held while the cluster runs; `kproxy down` and a second `kproxy up` test it).
    private let lock: Int32
    /// The API client of this process (the control plane's route sync), shut down at teardown.
    private let client = Mutex<KubeClient?>(nil)
    /// Whether the network was begun: a start that failed before must not remove namespaces it did not make.
    private let networkBegun = Atomic<Bool>(false)
    private let repairsDone = DispatchSemaphore(value: 0)
    private let repairsStarted = Atomic<Bool>(false)

    private init(plan: UpPlan, logger: Logger, lock: Int32) {
        self.plan = plan; self.logger = logger; self.lock = lock
        supervisor = Supervisor(logger: logger)
        group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        forwarder = Mutex(nil); background = Mutex([])
    }

    /// Builds the cluster and returns once every node is Ready and the cluster DNS serves. `progress` gets a
    /// line per step. On failure everything made so far is removed before the error is thrown.
    public static func up(_ options: Options, runID: String, logger: Logger, progress: @escaping @Sendable (String) -> Void) async throws -> ClusterUp {
        let plan = try UpPlan(runID: runID, stateDir: options.stateDir, nodes: options.nodes, proxyMode: options.proxyMode, network: options.network)
        let lock = try StateDir.claim(plan)
        let cluster = ClusterUp(plan: plan, logger: logger, lock: lock)
        do {
            try await cluster.bringUp(options, progress: progress)
            return cluster
        } catch {
            progress("start failed: \(error); removing what was made (logs were in \(plan.stateDir)/logs)")
            await cluster.tearDown(keepLogs: true)
            throw error
        }
    }

    private func writeRecord(hostPort: Int?) throws {
        let data = try JSONEncoder().encode(Record(plan: plan, supervisorPid: getpid(), hostPort: hostPort))
        do throws(SystemError) { try PrivateFiles.write(Array(data), to: plan.stateFile) } catch { throw UpError.failed("\(error)") }
    }

    private func bringUp(_ options: Options, progress: @escaping @Sendable (String) -> Void) async throws {
        let started = ContinuousClock.now
        func step(_ text: String) {
            let s = started.duration(to: .now).components
            progress(String(format: "[%5.1fs] ", Double(s.seconds) + Double(s.attoseconds) / 1e18) + text)
        }
        try writeRecord(hostPort: nil)
        try Topology.checkFree(plan)
        networkBegun.store(true, ordering: .relaxed)
        try await Topology.create(plan)
        step("network: namespaces \(plan.namespaces.joined(separator: ", ")); " + (plan.network == .vxlan
            ? "a subnet per member routed by \(plan.segmentNetns), pods across nodes through VXLAN"
            : "segment 192.168.50.0/24 on bridge \(plan.segmentBridge) in \(plan.segmentNetns), pods across nodes by host-gw routes"))
        for node in plan.nodes { try installCNI(node: node.role, options: options) }

        let processes = plan.processes(kproxy: options.kproxyBinary)
        guard let controlPlane = processes.first else { throw UpError.failed("no control plane in the plan") }
        try supervisor.keep(controlPlane)
        let admin = try await waitForFile(plan.generatedKubeconfig, timeout: .seconds(20), what: "the control plane's kubeconfig")
        let fwd = try await startForwarder(preferredPort: options.hostPort)
        try writeRecord(hostPort: fwd.port)
        try writeKubeconfig(admin, server: "https://127.0.0.1:\(fwd.port)", to: plan.kubeconfig)
        try writeKubeconfig(admin, server: plan.nodeServer, to: plan.nodeKubeconfig)
        let client = try KubeClient(config: ClientConfig.load(kubeconfig: plan.kubeconfig), logger: logger)
        self.client.withLock { $0 = client }  // the route sync below keeps using it: shut down at teardown
        try await poll("control plane ready", timeout: .seconds(20)) { _ = try await client.get(Namespace.self, name: "kube-system"); return true }
        step("control plane ready: \(plan.nodeServer) in \(plan.controlPlane.netns); host kubectl through 127.0.0.1:\(fwd.port)")

        for process in processes.dropFirst() { try supervisor.keep(process) }
        // The control plane is no node: it reaches pods (answers to their API calls) by host-gw routes too.
        let routes = NodeRouteSync(client: client, nodeName: "", namespacePath: "/run/netns/\(plan.controlPlane.netns)",
                                   mode: plan.network == .vxlan ? .vxlan : .hostGateway, logger: logger)
        background.withLock { $0.append(Task { await routes.run() }) }
        try await poll("every node Ready", timeout: .seconds(30)) {
            let nodes = try await client.list(Node.self).items
            return nodes.count == plan.nodes.count && nodes.allSatisfy(\.isReady)
        }
        startRepairs()
        step("nodes Ready: \(plan.nodes.map { "\($0.role) (\($0.address), proxy mode \(plan.proxyMode.rawValue))" }.joined(separator: ", "))")

        try await createDNS(client: client, kproxy: options.kproxyBinary)
        try await poll("cluster DNS ready", timeout: .seconds(30)) {
            let d = try await client.get(Deployment.self, name: "kproxy-dns", namespace: "kube-system")
            return (d.status.availableReplicas ?? 0) >= (d.spec.replicas ?? 1)
        }
        step("cluster DNS: kproxy dns ×\(dnsReplicas) in kube-system behind kube-dns (\(plan.clusterDNS))")
    }

    /// Every second, on a thread of its own (netlink blocks): the nodes' configuration the kernel drops when
    /// a link goes down is put back once it is up again.
    private func startRepairs() {
        let thread = OSThread { [self] in
            var lastError = ""
            while !stopping.load(ordering: .relaxed) {
                usleep(1_000_000)
                if stopping.load(ordering: .relaxed) { break }
                let (repaired, errors) = Topology.repairNodes(plan)
                for line in repaired { logger.notice("network repaired: \(line)") }
                let error = errors.joined(separator: "; ")
                if error != lastError && !error.isEmpty { logger.warning("network repair: \(error)") }  // once per distinct failure
                lastError = error
            }
            repairsDone.signal()
        }
        do throws(SystemError) {
            try thread.start()
            repairsStarted.store(true, ordering: .relaxed)
        } catch { logger.error("cannot start the network repair thread: \(error)") }
    }

    private var dnsReplicas: Int { min(2, plan.nodes.count) }

    private func installCNI(node: String, options: Options) throws {
        let bin = "\(plan.nodeDir(node))/cni-bin"
        try FileManager.default.createDirectory(atPath: bin, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: options.cniBinary, toPath: "\(bin)/kproxy-cni")
        // The reference portmap plugin, when installed, chains after kproxy-cni for hostPort.
        if FileManager.default.isExecutableFile(atPath: "/usr/lib/cni/portmap") {
            try FileManager.default.copyItem(atPath: "/usr/lib/cni/portmap", toPath: "\(bin)/portmap")
        }
    }

    private func startForwarder(preferredPort: Int) async throws -> Forwarder {
        let ns = "/run/netns/\(plan.controlPlane.netns)"
        let make = { (port: Int) in
            try await Forwarder.start(group: self.group, host: "127.0.0.1", port: port, netnsPath: ns,
                                      target: "\(self.plan.controlPlane.address)", targetPort: self.plan.apiPort, logger: self.logger)
        }
        let f: Forwarder
        do { f = try await make(preferredPort) } catch { f = try await make(0) }  // taken: any free port
        forwarder.withLock { $0 = f }
        return f
    }

    private func writeKubeconfig(_ admin: String, server: String, to path: String) throws {
        let lines = admin.split(separator: "\n", omittingEmptySubsequences: false).map { line -> String in
            line.trimmingCharacters(in: .whitespaces).hasPrefix("server: ") ? "    server: \(server)" : String(line)
        }
        do throws(SystemError) { try PrivateFiles.write(lines.joined(separator: "\n"), to: path) } catch { throw UpError.failed("\(error)") }
    }

    private func waitForFile(_ path: String, timeout: Duration, what: String) async throws -> String {
        var text = ""
        try await poll(what, timeout: timeout) {
            text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
            return text.contains("token:")
        }
        return text
    }

    /// Polls `check` every 100 ms until it is true; errors count as not yet.
    func poll(_ what: String, timeout: Duration, _ check: () async throws -> Bool) async throws {
        let deadline = ContinuousClock.now + timeout
        var last = ""
        while true {
            try Task.checkCancellation()
            do { if try await check() { return } } catch { last = "\(error)" }
            guard ContinuousClock.now < deadline else {
                throw UpError.failed("timed out after \(timeout) waiting for \(what)\(last.isEmpty ? "" : ": \(last)"); logs in \(plan.stateDir)/logs")
            }
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    private func createDNS(client: KubeClient, kproxy: String) async throws {
        let labels: [String: Any] = ["k8s-app": "kube-dns"]
        let deployment: [String: Any] = [
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": ["name": "kproxy-dns", "namespace": "kube-system", "labels": labels],
            "spec": [
                "replicas": dnsReplicas,
                "selector": ["matchLabels": labels],
                "template": [
                    "metadata": ["labels": labels],
                    "spec": [
                        "dnsPolicy": "Default",
                        "containers": [[
                            "name": "dns", "image": "kproxy",
                            // In-cluster config: KUBERNETES_SERVICE_HOST/PORT and the service-account token the agent mounts.
                            "command": [kproxy, "dns", "--listen", "0.0.0.0:53", "--resolv-conf", "/dev/null",
                                        "--metrics-bind-address", "0.0.0.0:9153"],
                            "ports": [["name": "dns", "containerPort": 53, "protocol": "UDP"], ["name": "dns-tcp", "containerPort": 53, "protocol": "TCP"]],
                            // Ready once its index has synced (CoreDNS's ready plugin), so a restarted pod serves no SERVFAIL.
                            "readinessProbe": ["httpGet": ["path": "/ready", "port": 9153], "periodSeconds": 1],
                        ] as [String: Any]],
                    ] as [String: Any],
                ] as [String: Any],
            ] as [String: Any],
        ]
        let service: [String: Any] = [
            "apiVersion": "v1", "kind": "Service",
            "metadata": ["name": "kube-dns", "namespace": "kube-system", "labels": labels],
            "spec": [
                "clusterIP": plan.clusterDNS.description, "selector": labels,
                "ports": [["name": "dns", "protocol": "UDP", "port": 53, "targetPort": 53],
                          ["name": "dns-tcp", "protocol": "TCP", "port": 53, "targetPort": 53]],
            ] as [String: Any],
        ]
        _ = try await client.rawRequest("POST", KubeClient.RequestPath(info: Service.resourceInfo, namespace: "kube-system"),
                                        body: try JSONSerialization.data(withJSONObject: service))
        _ = try await client.rawRequest("POST", KubeClient.RequestPath(info: Deployment.resourceInfo, namespace: "kube-system"),
                                        body: try JSONSerialization.data(withJSONObject: deployment))
    }

    /// Stops the daemons and the forwarder, kills what is left in the cluster's namespaces and removes them
    /// and the state dir (the logs too unless `keepLogs`).
    /// Returns what could not be removed.
    @discardableResult
    public func tearDown(keepLogs: Bool = false) async -> [String] {
        stopping.store(true, ordering: .relaxed)
        let tasks = background.withLock { $0 }
        for task in tasks { task.cancel() }
        for task in tasks { await task.value }
        if let client = client.withLock({ $0 }) { try? await client.shutdown() }
        await supervisor.stop(grace: .seconds(3))
        if let f = forwarder.withLock({ $0 }) { await f.close() }
        try? await group.shutdownGracefully()
        if repairsStarted.load(ordering: .relaxed) { await Blocking.wait(repairsDone) }  // its pass ends before the namespaces go
        let problems = networkBegun.load(ordering: .relaxed) ? await Blocking.removeNetwork(plan) : []
        for problem in problems { logger.error("down: \(problem)") }
        StateDir.remove(plan.stateDir, keepLogs: keepLogs)
        Sys.close(lock)
        return problems
    }

    /// `kproxy down`: asks the `kproxy up` of `stateDir` to stop (SIGTERM) and waits for it; then removes
    /// whatever is left, also when that process is gone (killed). Returns what could not be removed.
    public static func down(stateDir: String, progress: (String) -> Void) async throws -> [String] {
        let file = "\(stateDir)/up.json"
        guard let data = FileManager.default.contents(atPath: file) else {
            throw UpError.failed("no cluster recorded in \(stateDir) (no up.json)")
        }
        let record = try JSONDecoder().decode(Record.self, from: data)
        // Only the holder of the state dir's lock is signalled: a pid alone may belong to anyone by now.
        if StateDir.isHeld(stateDir) {
            progress("stopping kproxy up (pid \(record.supervisorPid))")
            kill(record.supervisorPid, SIGTERM)
            let deadline = ContinuousClock.now + .seconds(30)
            while StateDir.isHeld(stateDir), ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(50)) }
        }
        let problems = await Blocking.removeNetwork(record.plan)
        StateDir.remove(stateDir, keepLogs: false)
        progress(problems.isEmpty ? "removed: namespaces \(record.plan.namespaces.joined(separator: ", ")) and \(stateDir)" : "left behind: \(problems)")
        return problems
    }
}

extension Blocking {
    /// `Topology.remove` off the cooperative pool (it kills, waits and unmounts).
    static func removeNetwork(_ plan: UpPlan) async -> [String] {
        await run { () -> [String] in Topology.remove(plan) }
    }

    /// Waits for `semaphore` off the cooperative pool.
    static func wait(_ semaphore: DispatchSemaphore) async {
        await run { semaphore.wait() }
    }
}
