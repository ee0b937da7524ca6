import DNSCore
import CNICore
import Foundation
import Glibc
import HTTPServing
import KubeAPI
import KubeClient
import LinuxSystem
import Logging
import NodeCore
import Values

/// `kproxy node`: registers the Node and keeps its Lease, writes the CNI configuration for the node's
/// pod CIDR when there is none, and runs the pods bound to it (a `PodWorker` each), adopting those a
/// previous agent left running.
public actor NodeAgent {
    private let config: AgentConfig
    private let client: KubeClient
    private let logger: Logger
    private var workers: [String: PodWorker] = [:]
    private var networkError: String? = "cni config uninitialized"
    private var nodeStatus = NodeStatus()
    private var facts: NodeObject.Facts
    private var serviceEnv: [(String, String)] = []

    public init(config: AgentConfig, client: KubeClient, logger: Logger) {
        self.config = config; self.client = client; self.logger = logger
        facts = NodeObject.Facts(name: config.nodeName, addresses: config.nodeIPs.isEmpty ? HostFacts.addresses() : config.nodeIPs,
                                 cpus: HostFacts.cpus(), memoryKiB: HostFacts.memoryKiB())
        facts.kernelVersion = HostFacts.kernel()
        facts.osImage = HostFacts.osImage()
        facts.bootID = HostFacts.bootID()
    }

    public func run() async throws {
        // Under `ip netns exec` the agent has a private mount namespace: the pods' namespaces it mounts in
        // /run/netns would be invisible outside it and lost with it.
        if let own = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/ns/mnt"),
           let host = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/1/ns/mnt"), own != host {
            logger.warning("running in a mount namespace of its own (\(own), not the host's \(host)), as under `ip netns exec`: pod namespaces under /run/netns will not be seen outside it and will not survive it; enter the node's network namespace with `nsenter --net=…` instead")
        }
        try PrivateFiles.makeDirectory(config.podsDir)
        let node = try await register()
        let cidr = try await waitForPodCIDR(node)
        let runner = CNIRunner(executor: ProcessPluginExecutor(), binDirs: config.cniBinDirs,
                               isExecutable: { access($0, X_OK) == 0 })
        try await ensureConflist(podCIDR: cidr, runner)
        await refreshServiceEnvironment()
        let confDir = config.cniConfDir
        let context = AgentContext(config: config, client: client, cni: runner, logger: logger,
                                   conflist: { () throws(CNIError) in try Self.loadConflist(confDir) },
                                   hostIPs: facts.addresses, serviceEnvironment: { [weak self] in await self?.serviceEnv ?? [] },
                                   hostResolv: ResolverConfig(parsing: (try? String(contentsOfFile: config.hostResolvConf, encoding: .utf8)) ?? ""),
                                   events: KubeEventRecorder(client: client, component: "kubelet", host: config.nodeName, logger: logger),
                                   serviceAccount: serviceAccountFiles())
        await checkNetwork(runner)
        try await updateNodeStatus()
        let server = try await startNodeServer()

        let pods = Informer(KubeListWatcher<Pod>(client: client, fieldSelector: "spec.nodeName=\(config.nodeName)"))
        try await withThrowingDiscardingTaskGroup { group in
            group.addTask { await pods.run() }
            group.addTask { await server.run() }
            group.addTask { try await self.heartbeat(runner) }
            group.addTask {
                for await event in pods.events {
                    await self.handle(event, pods: pods, context: context)
                }
            }
        }
    }

    // MARK: - Node and Lease

    private func register() async throws -> Node {
        var node: Node
        do {
            node = try await client.get(Node.self, name: config.nodeName)
            var labels = node.metadata.labels ?? [:]
            labels.merge(NodeObject.labels(facts)) { _, new in new }
            if labels != node.metadata.labels {
                node.metadata.labels = labels
                node = try await client.update(node)
            }
        } catch let error as KubeClientError where error.isNotFound {
            node = Node(metadata: ObjectMeta(name: config.nodeName, labels: NodeObject.labels(facts)))
            node = try await client.create(node)
            logger.info("registered node \(config.nodeName)")
        }
        nodeStatus = node.status
        return node
    }

    private func waitForPodCIDR(_ node: Node) async throws -> String {
        var node = node
        var logged = false
        while true {
            if let cidr = node.spec.podCIDR, !cidr.isEmpty { return cidr }
            if !logged { logger.info("waiting for the node's pod CIDR (the node IPAM controller assigns it)"); logged = true }
            try await Task.sleep(for: .milliseconds(200))
            node = try await client.get(Node.self, name: config.nodeName)
        }
    }

    /// Writes 10-kproxy.conflist when the conf dir holds no configuration, at the highest spec version its
    /// plugins all support (Debian's portmap stops at 1.0.0, which has no STATUS or GC).
    private func ensureConflist(podCIDR: String, _ runner: CNIRunner<ProcessPluginExecutor>) async throws {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: config.cniConfDir)) ?? []
        guard CNIConfDir.candidates(names).isEmpty else { return }
        try FileManager.default.createDirectory(atPath: config.cniConfDir, withIntermediateDirectories: true)
        let portmap = config.cniBinDirs.contains { access("\($0)/portmap", X_OK) == 0 }
        let version = try await runner.commonVersion(portmap ? ["kproxy-cni", "portmap"] : ["kproxy-cni"])
        guard let version else { throw CNIError(.incompatibleVersion, "kproxy-cni and portmap share no CNI version") }
        let text = KProxyConflist.render(podCIDR: podCIDR, clusterDNS: config.clusterDNS.first, clusterDomain: config.clusterDomain,
                                         withPortmap: portmap, ipamDataDir: config.ipamDataDir, cniVersion: version.description)
        let path = "\(config.cniConfDir)/\(KProxyConflist.fileName)"
        try Data(text.utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
        logger.info("wrote \(path) for pod CIDR \(podCIDR)")
    }

    static func loadConflist(_ dir: String) throws(CNIError) -> NetConfList {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
        var firstError: CNIError?
        for name in CNIConfDir.candidates(names) {
            guard let data = FileManager.default.contents(atPath: "\(dir)/\(name)") else { continue }
            do throws(CNIError) { return try CNIConfDir.parse(fileName: name, contents: Array(data)) } catch { firstError = firstError ?? error }
        }
        throw firstError ?? CNIError(.invalidConfig, "no network config found in \(dir)")
    }

    private func checkNetwork(_ runner: CNIRunner<ProcessPluginExecutor>) async {
        let before = networkError
        do {
            let list = try Self.loadConflist(config.cniConfDir)
            try await runner.status(list)
            networkError = nil
        } catch {
            networkError = "\(error)"
        }
        if networkError != before {
            if let e = networkError { logger.warning("network not ready: \(e)") } else { logger.info("network ready") }
        }
    }

    /// Renews the Lease every quarter of its duration (the kubelet's 10 s of 40 s) and writes the status
    /// every `statusInterval`, or at once when network readiness changes.
    private func heartbeat(_ runner: CNIRunner<ProcessPluginExecutor>) async throws {
        var lastStatus = ContinuousClock.now
        while !Task.isCancelled {
            do { try await renewLease() } catch { logger.warning("lease renewal failed: \(error)") }
            let before = networkError
            await checkNetwork(runner)
            await refreshServiceEnvironment()
            if networkError != before || ContinuousClock.now - lastStatus >= config.statusInterval {
                do { try await updateNodeStatus(); lastStatus = ContinuousClock.now } catch { logger.warning("node status update failed: \(error)") }
            }
            try await Task.sleep(for: .seconds(max(1, config.leaseDuration / 4)))
        }
    }

    private func renewLease() async throws {
        let node = try await client.get(Node.self, name: config.nodeName)
        let fresh = NodeObject.lease(node: node, now: Date(), durationSeconds: config.leaseDuration)
        do {
            var lease = try await client.get(Lease.self, name: config.nodeName, namespace: Lease.nodeLeaseNamespace)
            lease.spec.holderIdentity = fresh.spec.holderIdentity
            lease.spec.leaseDurationSeconds = fresh.spec.leaseDurationSeconds
            lease.spec.renewTime = fresh.spec.renewTime
            if lease.metadata.ownerReferences?.contains(where: { $0.uid == node.metadata.uid }) != true {
                lease.metadata.ownerReferences = fresh.metadata.ownerReferences
            }
            _ = try await client.update(lease)
        } catch let error as KubeClientError where error.isNotFound {
            _ = try await client.create(fresh, namespace: Lease.nodeLeaseNamespace)
        }
    }

    private func updateNodeStatus() async throws {
        var node = try await client.get(Node.self, name: config.nodeName)
        node.status = NodeObject.status(facts, networkError: networkError, previous: node.status, now: Date())
        node.status.unknownFields.values["daemonEndpoints"] = ["kubeletEndpoint": ["Port": .int(Int64(config.nodeAPIPort))]]
        let updated = try await client.updateStatus(node)
        nodeStatus = updated.status
    }

    /// The `kubernetes` Service's variables for new containers (absent until it can be read).
    private func refreshServiceEnvironment() async {
        guard let service = try? await client.get(Service.self, name: "kubernetes", namespace: "default"),
              let ip = service.spec.clusterIP, !ip.isEmpty, ip != "None",
              let port = service.spec.ports?.first(where: { $0.name == "https" })?.port ?? service.spec.ports?.first?.port else { return }
        serviceEnv = ContainerLaunch.kubernetesServiceEnvironment(clusterIP: ip, port: port)
    }

    /// The bearer token of the agent's kubeconfig (also what the node API accepts).
    private var bearerToken: String? {
        switch client.config.auth {
        case .bearerToken(let t): t
        case .bearerTokenFile(let path): (try? String(contentsOfFile: path, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
        default: nil
        }
    }

    /// What pods get as their service account (token and CA), and its mount point on the host: pods share the
    /// host's file system, so the empty directory a bind mount needs is made there once (under /run, gone at boot).
    private func serviceAccountFiles() -> ServiceAccountFiles? {
        guard let token = bearerToken, let ca = client.config.tls.caPEM else {
            logger.warning("no bearer token or CA in the kubeconfig: pods get no service-account token (in-cluster clients cannot start)")
            return nil
        }
        do {
            try FileManager.default.createDirectory(atPath: PodFiles.serviceAccountMountPoint, withIntermediateDirectories: true)
        } catch {
            logger.warning("cannot create \(PodFiles.serviceAccountMountPoint) (\(error)): pods get no service-account token")
            return nil
        }
        return ServiceAccountFiles(token: token, caPEM: ca)
    }

    private func startNodeServer() async throws -> HTTPServer {
        let token = bearerToken
        if token == nil { logger.warning("the kubeconfig has no bearer token: the node API refuses every request") }
        try PrivateFiles.makeDirectory(config.rootDir + "/pki")
        let addresses = (facts.addresses + ["127.0.0.1"]).compactMap { IPAddress($0) }
        let tls = try TLSCertificates.prepare(directory: config.rootDir + "/pki", addresses: addresses, dnsNames: [config.nodeName])
        let host = config.nodeAPIAddress
        let server = try await HTTPServer.bind(host: host, port: config.nodeAPIPort, tls: try tls.serverContext(),
                                               handler: NodeServer(agent: self, token: token), logger: logger,
                                               webSockets: NodeExecHandler(agent: self, token: token, logger: logger))
        logger.info("node API on \(server.localAddress)")
        return server
    }

    // MARK: - Pods

    private var synced = false

    private func handle(_ event: InformerEvent<Pod>, pods: Informer<Pod>, context: AgentContext) async {
        switch event {
        case .added(let pod), .updated(_, let pod):
            guard synced else { return }  // the first list is handled at .synced, after adoption
            await ensureWorker(pod, context: context)
        case .deleted(let pod):
            guard let uid = pod.metadata.uid, let worker = workers[uid] else { return }
            await worker.objectDeleted()
        case .synced:
            guard !synced else { return }
            synced = true
            await adoptAndCollect(pods.snapshot(), context: context)
        }
    }

    private func ensureWorker(_ pod: Pod, context: AgentContext) async {
        guard let uid = pod.metadata.uid, !uid.isEmpty else { return }
        if let worker = workers[uid] {
            await worker.update(pod)
            return
        }
        if pod.metadata.deletionTimestamp != nil, pod.status.phase == nil {
            // Deleted before it ever ran here: nothing to stop; let the API remove it.
            var options = KubeAPI.DeleteOptions()
            options.gracePeriodSeconds = 0
            options.preconditions = Preconditions(uid: uid)
            _ = try? await client.delete(Pod.self, name: pod.metadata.name ?? "", namespace: pod.metadata.namespace, options: options)
            return
        }
        let worker = makeWorker(pod, context: context)
        if pod.metadata.deletionTimestamp != nil { await worker.update(pod) } else { await worker.start() }
    }

    private func makeWorker(_ pod: Pod, context: AgentContext) -> PodWorker {
        let uid = pod.metadata.uid ?? ""
        let worker = PodWorker(pod: pod, context: context, onGone: { [weak self] uid in await self?.workerGone(uid) })
        workers[uid] = worker
        return worker
    }

    private func workerGone(_ uid: String) { workers.removeValue(forKey: uid) }

    /// The worker of pod `namespace/name`, for the node API.
    func worker(namespace: String, name: String) async -> PodWorker? {
        for worker in workers.values where await worker.identity == (namespace, name) { return worker }
        return nil
    }

    /// After the first list: adopt the pods recorded on disk that still exist, stop and clean up those
    /// that do not, start the rest, then CNI GC and remove namespaces nothing owns.
    private func adoptAndCollect(_ snapshot: [String: Pod], context: AgentContext) async {
        let byUID = Dictionary(snapshot.values.compactMap { p in p.metadata.uid.map { ($0, p) } }, uniquingKeysWith: { a, _ in a })
        let recorded = (try? FileManager.default.contentsOfDirectory(atPath: config.podsDir)) ?? []
        for uid in recorded {
            let path = config.podDir(uid) + "/state.json"
            let record = FileManager.default.contents(atPath: path).flatMap { try? JSONDecoder().decode(PodRecord.self, from: $0) }
            if let pod = byUID[uid], let record {
                let worker = makeWorker(pod, context: context)
                await worker.adopt(record)
                if pod.metadata.deletionTimestamp != nil { await worker.update(pod) }
            } else if let record {
                logger.info("pod \(record.namespace)/\(record.name) (\(uid)) is gone from the API: stopping what is left of it")
                // Its containers as recorded, so their processes are adopted and then stopped.
                let containers = record.containers.keys.sorted().map { Container(name: $0, image: "") }
                var ghost = Pod(metadata: ObjectMeta(name: record.name, namespace: record.namespace), spec: PodSpec(containers: containers))
                ghost.metadata.uid = uid
                ghost.spec.terminationGracePeriodSeconds = 0
                let worker = makeWorker(ghost, context: context)
                await worker.adopt(record)
                await worker.objectDeleted()
            } else {
                // Made before its sandbox was complete (the directory comes first): remove what there is.
                do { try NetnsFiles.remove(config.netnsPath(uid)) } catch { logger.warning("removing stale namespace of \(uid): \(error)") }
                try? FileManager.default.removeItem(atPath: config.podDir(uid))
            }
        }
        for pod in snapshot.values where workers[pod.metadata.uid ?? ""] == nil {
            await ensureWorker(pod, context: context)
        }
        await collectGarbage(context: context)
    }

    private func collectGarbage(context: AgentContext) async {
        // Only what this agent recorded is its own: other agents (other nodes on one machine, `ip netns`
        // users) keep namespaces in the same directory, so nothing there is removed by name.
        let live = Set(workers.keys)
        guard let list = try? Self.loadConflist(config.cniConfDir) else { return }
        let valid = live.map { CNIAttachment(containerID: $0, netns: config.netnsPath($0), podNamespace: "", podName: "", podUID: $0) }
        do {
            if try await context.cni.gc(list, valid: valid) { logger.info("CNI GC: \(valid.count) attachments kept") }
        } catch {
            logger.warning("CNI GC failed: \(error)")
        }
    }
}

/// Facts about this machine for the Node object.
enum HostFacts {
    static func cpus() -> Int { max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))) }

    static func memoryKiB() -> Int {
        let text = (try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8)) ?? ""
        for line in text.split(separator: "\n") where line.hasPrefix("MemTotal:") {
            return Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0
        }
        return 0
    }

    static func kernel() -> String {
        ((try? String(contentsOfFile: "/proc/sys/kernel/osrelease", encoding: .utf8)) ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
    }

    static func bootID() -> String {
        ((try? String(contentsOfFile: "/proc/sys/kernel/random/boot_id", encoding: .utf8)) ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
    }

    static func osImage() -> String {
        let text = (try? String(contentsOfFile: "/etc/os-release", encoding: .utf8)) ?? ""
        for line in text.split(separator: "\n") where line.hasPrefix("PRETTY_NAME=") {
            return String(line.dropFirst("PRETTY_NAME=".count)).trimmingCharacters(in: CharacterSet(charactersIn: "\""))
        }
        return "Linux"
    }

    /// The IPv4 and global IPv6 addresses of this network namespace's interfaces, loopback excluded.
    static func addresses() -> [String] {
        var head: UnsafeMutablePointer<ifaddrs>?
        guard getifaddrs(&head) == 0, let first = head else { return [] }
        defer { freeifaddrs(head) }
        var v4: [String] = [], v6: [String] = []
        var cursor: UnsafeMutablePointer<ifaddrs>? = first
        while let entry = cursor {
            defer { cursor = entry.pointee.ifa_next }
            guard let addr = entry.pointee.ifa_addr, entry.pointee.ifa_flags & UInt32(IFF_LOOPBACK) == 0 else { continue }
            // Not the pods' bridge or their veths: those carry pod-network addresses, not the node's.
            let ifName = String(cString: entry.pointee.ifa_name)
            if ifName == "kp0" || ifName.hasPrefix("veth") { continue }
            var host = [CChar](repeating: 0, count: Int(NI_MAXHOST))
            let family = Int32(addr.pointee.sa_family)
            guard family == AF_INET || family == AF_INET6 else { continue }
            let length = socklen_t(family == AF_INET ? MemoryLayout<sockaddr_in>.size : MemoryLayout<sockaddr_in6>.size)
            guard getnameinfo(addr, length, &host, socklen_t(host.count), nil, 0, NI_NUMERICHOST) == 0 else { continue }
            let text = String(decoding: host.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            if family == AF_INET { v4.append(text) } else if !text.hasPrefix("fe80") && !text.contains("%") { v6.append(text) }
        }
        return v4 + v6
    }
}
