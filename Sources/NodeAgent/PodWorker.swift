import DNSCore
import CNICore
import Foundation
import Glibc
import KubeAPI
import KubeClient
import LinuxSystem
import Logging
import NodeCore
import Values

/// What every pod worker shares: the API client, the CNI runner and the node's settings.
struct AgentContext: Sendable {
    let config: AgentConfig
    let client: KubeClient
    let cni: CNIRunner<ProcessPluginExecutor>
    let logger: Logger
    /// The conflist in use (read from the conf dir when a sandbox is made).
    let conflist: @Sendable () throws(CNIError) -> NetConfList
    let hostIPs: [String]
    let serviceEnvironment: @Sendable () async -> [(String, String)]
    let hostResolv: ResolverConfig
    let events: KubeEventRecorder
    /// The credentials projected into pods (nil: the agent has no bearer token or CA to give).
    let serviceAccount: ServiceAccountFiles?
}

/// A pod's service-account token and the API server's CA.
struct ServiceAccountFiles: Sendable {
    var token: String
    var caPEM: Data
}

/// One pod on this node, from its sandbox to its removal: the network namespace and CNI attachment,
/// its containers as processes with restarts and probes, its status, and the graceful termination.
/// All of the pod's state lives in this actor; process exits and probe results arrive as messages.
actor PodWorker {
    let uid: String
    private let ctx: AgentContext
    private var pod: Pod
    private var logger: Logger

    private struct Sandbox {
        var attachment: CNIAttachment
        var network: String
        var result: JSONValue
        var podIPs: [String]
        var files: PodFiles
    }
    private var sandbox: Sandbox?

    private struct Run {
        var spec: Container
        var state: ContainerRuntimeState
        var pid: pid_t?
        var startTicks: UInt64 = 0
        var startedAt: Date?
        var backoff = 0.0
        /// Bumped at every start, so the exit of an earlier run is not taken for this one's.
        var generation = 0
        var probes: [ProbeTracker.Kind: ProbeTracker] = [:]
        var probeTask: Task<Void, Never>?
        var restartTask: Task<Void, Never>?
        var environment: [String] = []
    }
    private var runs: [String: Run] = [:]
    private var order: [String] = []
    private var terminating: Task<Void, Never>?
    private var finished = false
    private var statusTask: Task<Void, Never>?
    private var statusDirty = false
    private var sandboxRetry: Task<Void, Never>?
    private var sandboxFailures = 0
    private let onGone: @Sendable (String) async -> Void

    init(pod: Pod, context: AgentContext, onGone: @escaping @Sendable (String) async -> Void) {
        self.uid = pod.metadata.uid ?? ""
        self.pod = pod
        self.ctx = context
        self.onGone = onGone
        var logger = context.logger
        logger[metadataKey: "pod"] = "\(pod.metadata.namespace ?? "")/\(pod.metadata.name ?? "")"
        self.logger = logger
        for c in pod.spec.containers {
            order.append(c.name)
            runs[c.name] = Run(spec: c, state: ContainerRuntimeState(name: c.name, image: c.image ?? "",
                                                                    state: .waiting(reason: "ContainerCreating", message: nil)))
        }
    }

    private var namespace: String { pod.metadata.namespace ?? "" }
    var identity: (String, String) { (namespace, name) }
    private var name: String { pod.metadata.name ?? "" }
    private var podDir: String { ctx.config.podDir(uid) }

    // MARK: - Messages from the agent

    /// The pod as the API has it now.
    func update(_ latest: Pod) {
        pod = latest
        if latest.metadata.deletionTimestamp != nil { beginTermination(deleteObject: true) }
    }

    /// The pod object is gone (force-deleted): stop it and clean up, without deleting anything in the API.
    func objectDeleted() { beginTermination(deleteObject: false) }

    /// Starts a new pod: sandbox, then containers.
    func start() async {
        guard !finished, terminating == nil else { return }
        if isCompleted(pod) { return }  // a finished pod left from before: nothing to run
        await makeSandbox()
    }

    /// Takes over a pod a previous agent started: the attachment from the CNI cache (checked), running
    /// processes from the record; a container whose process is gone counts as ended with unknown status.
    func adopt(_ record: PodRecord) async {
        guard let list = try? ctx.conflist() else { await makeSandbox(); return }
        let attachment = attachmentFor(netns: record.netns)
        guard NetnsFiles.isMounted(record.netns), let entry = cachedEntry(list, attachment) else {
            logger.warning("cannot adopt: namespace or CNI cache missing; making the sandbox again")
            await makeSandbox()
            return
        }
        do {
            try await ctx.cni.check(list, attachment, cachedResult: entry.result)
        } catch {
            logger.warning("CNI CHECK failed (\(error)); the attachment is kept, as containerd does")
        }
        sandbox = Sandbox(attachment: attachment, network: list.name, result: entry.result, podIPs: record.podIPs, files: podFiles)
        let now = Date()
        for name in order {
            guard var run = runs[name] else { continue }
            if let r = record.containers[name], r.pid > 0, ProcFS.alive(r.pid, ticks: r.startTicks) {
                run.pid = r.pid; run.startTicks = r.startTicks; run.startedAt = r.startedAt; run.backoff = r.backoff
                run.state.restartCount = r.restartCount
                run.state.state = .running(startedAt: r.startedAt)
                run.state.containerID = containerID(name, r.restartCount)
                run.generation += 1
                runs[name] = run
                watchAdopted(name, pid: r.pid, ticks: r.startTicks, generation: run.generation)
                startProbes(name)
                logger.info("adopted container \(name) (pid \(r.pid))")
            } else if let r = record.containers[name], r.pid == 0 {
                run.state.restartCount = r.restartCount
                run.backoff = r.backoff
                runs[name] = run
                startContainer(name)
            } else if let r = record.containers[name] {
                // The kubelet's answer for a container it lost track of.
                run.state.restartCount = r.restartCount
                run.backoff = r.backoff
                runs[name] = run
                exited(name, generation: run.generation,
                       termination: .init(exitCode: 137, reason: "ContainerStatusUnknown", startedAt: r.startedAt, finishedAt: now))
            } else {
                runs[name] = run
                startContainer(name)
            }
        }
        markStatusDirty()
    }

    // MARK: - Logs

    /// One run's log: the file and the run it belongs to.
    struct LogFile: Sendable { var path: String; var container: String; var generation: Int }

    /// The current run's log, or the previous run's (`kubectl logs --previous`).
    func logFile(container: String, previous: Bool) -> LogFile? {
        guard let run = runs[container] else { return nil }
        var restart = previous ? run.state.restartCount - 1 : run.state.restartCount
        // Between runs (back-off), the current log is the last run's, as the kubelet shows it.
        if !previous, run.pid == nil, !FileManager.default.fileExists(atPath: logPath(container, restart)) { restart -= 1 }
        guard restart >= 0 else { return nil }
        let path = logPath(container, restart)
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        let current = !previous && restart == run.state.restartCount
        return LogFile(path: path, container: container, generation: current ? run.generation : -1)
    }

    /// Whether the run that writes `log` still runs.
    func isRunning(_ log: LogFile) -> Bool {
        guard let run = runs[log.container] else { return false }
        return run.generation == log.generation && run.pid != nil
    }

    // MARK: - Exec

    /// What a command run in a container (exec) needs: the container's namespaces, files and environment.
    struct ExecContext: Sendable {
        var netns: String, files: PodFiles, hostname: String
        var environment: [String], workingDir: String
    }

    func execContext(container: String) -> ExecContext? {
        guard let run = runs[container], run.pid != nil, let sandbox else { return nil }
        return ExecContext(netns: sandbox.attachment.netns, files: sandbox.files,
                           hostname: pod.spec.hostname ?? name, environment: run.environment,
                           workingDir: run.spec.workingDir.flatMap { $0.isEmpty ? nil : $0 } ?? "/")
    }

    /// The containers, in order (exec without `container` takes the first).
    var containerNames: [String] { order }

    // MARK: - Sandbox

    /// The attachment's result cache file (libcni's `results/<network>-<id>-<ifname>`).
    private func cachePath(_ list: NetConfList, _ a: CNIAttachment) -> String {
        "\(ctx.config.cniResultsDir)/\(CNICacheEntry.fileName(network: list.name, a))"
    }

    private func cachedEntry(_ list: NetConfList, _ a: CNIAttachment) -> CNICacheEntry? {
        guard let data = FileManager.default.contents(atPath: cachePath(list, a)),
              let json = try? JSONValue(parsing: Array(data)) else { return nil }
        return try? CNICacheEntry(json: json)
    }

    private func attachmentFor(netns: String) -> CNIAttachment {
        CNIAttachment(containerID: uid, netns: netns, podNamespace: namespace, podName: name, podUID: uid)
    }

    private func makeSandbox() async {
        guard !finished, terminating == nil else { return }
        let netns = ctx.config.netnsPath(uid)
        do {
            let list = try ctx.conflist()
            try PrivateFiles.makeDirectory(podDir)
            try await NetnsFiles.create(netns)
            let attachment = attachmentFor(netns: netns)
            let runtimeConfig = CNIRunner<ProcessPluginExecutor>.portMappingsConfig(ContainerLaunch.portMappings(pod))
            let result = try await ctx.cni.add(list, attachment, runtimeConfig: runtimeConfig)
            let entry = CNICacheEntry(attachment: attachment, networkName: list.name, result: result, capabilityArgs: runtimeConfig)
            try PrivateFiles.makeDirectory(ctx.config.cniResultsDir)
            try PrivateFiles.write(entry.json.serialized(), to: cachePath(list, attachment))
            let parsed = try CNIResult(json: result)
            let ips = parsed.ips.map { $0.address.address.description }
            let nameservers = ctx.config.clusterDNS.isEmpty ? parsed.dns.nameservers : ctx.config.clusterDNS
            let resolv = ResolvConf.clusterFirst(namespace: namespace, clusterDomain: ctx.config.clusterDomain, clusterDNS: nameservers,
                                                 host: ctx.hostResolv)
            let resolvPath = podDir + "/resolv.conf"
            try writeFile(resolvPath, pod.spec.dnsPolicy == "Default" ? ResolvConf.hostDefault(ctx.hostResolv) : resolv)
            let hostsPath = podDir + "/hosts"
            try writeFile(hostsPath, EtcHosts.render(podIPs: ips, hostname: pod.spec.hostname ?? name, subdomain: pod.spec.subdomain,
                                                     namespace: namespace, clusterDomain: ctx.config.clusterDomain))
            try writeServiceAccount()
            sandbox = Sandbox(attachment: attachment, network: list.name, result: result, podIPs: ips, files: podFiles)
            sandboxFailures = 0
            logger.info("sandbox ready: \(ips.joined(separator: ", ")) in \(netns)")
            saveRecord()
            for name in order { startContainer(name) }
        } catch {
            sandboxFailures += 1
            let delay = min(30.0, pow(2, Double(min(sandboxFailures, 5))))
            logger.error("failed to create the pod sandbox: \(error); retrying in \(Int(delay)) s")
            for name in order {
                runs[name]?.state.state = .waiting(reason: "ContainerCreating", message: "failed to create the pod sandbox: \(error)")
            }
            markStatusDirty()
            recordEvent(.warning, "FailedCreatePodSandBox", "Failed to create pod sandbox: \(error)")
            sandboxRetry = Task { [weak self] in
                try? await Task.sleep(for: .milliseconds(Int(delay * 1000)))
                guard !Task.isCancelled else { return }
                await self?.makeSandbox()
            }
        }
    }

    /// The pod's resolv.conf, hosts and (unless `automountServiceAccountToken: false`) service-account
    /// directory, under the pod's dir.
    private var podFiles: PodFiles {
        PodFiles(resolvConf: podDir + "/resolv.conf", hosts: podDir + "/hosts",
                 serviceAccount: mountsServiceAccount && ctx.serviceAccount != nil ? podDir + "/serviceaccount" : nil)
    }

    private var mountsServiceAccount: Bool {
        pod.spec.unknownFields.values["automountServiceAccountToken"]?.boolValue != false
    }

    /// What in-cluster clients read (client-go's rest.InClusterConfig): the token, the CA that signs the API
    /// server's certificate and the pod's namespace. The control plane has one credential, so the token is
    /// the agent's own, as a cluster with a single service-account token would project it.
    private func writeServiceAccount() throws {
        guard mountsServiceAccount, let account = ctx.serviceAccount else { return }
        let dir = podDir + "/serviceaccount"
        try PrivateFiles.makeDirectory(dir)
        try PrivateFiles.write(Array(account.token.utf8), to: dir + "/token")
        try PrivateFiles.write(Array(account.caPEM), to: dir + "/ca.crt")
        try PrivateFiles.write(Array(namespace.utf8), to: dir + "/namespace")
    }

    private func writeFile(_ path: String, _ text: String) throws {
        try Data(text.utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
    }

    // MARK: - Containers

    private func containerID(_ name: String, _ restart: Int) -> String { "kproxy://\(uid)-\(name)-\(restart)" }

    private func logPath(_ name: String, _ restart: Int) -> String { "\(podDir)/logs/\(name)/\(restart).log" }

    private func startContainer(_ name: String) {
        guard runs[name] != nil, sandbox != nil, terminating == nil, !finished else { return }
        runs[name]?.restartTask = nil
        Task { self.launch(name, serviceEnvironment: await ctx.serviceEnvironment()) }
    }

    private func launch(_ name: String, serviceEnvironment: [(String, String)]) {
        guard var run = runs[name], let sandbox, terminating == nil, !finished else { return }
        let context = ContainerLaunch.Context(podIP: sandbox.podIPs.first ?? "", hostIP: ctx.hostIPs.first ?? "",
                                              nodeName: ctx.config.nodeName, serviceEnvironment: serviceEnvironment)
        let spec: ProcessSpec
        switch ContainerLaunch.process(run.spec, pod: pod, context: context, isExecutable: { access($0, X_OK) == 0 }) {
        case .failure(let refusal):
            run.state.state = .waiting(reason: refusal.reason, message: refusal.message)
            runs[name] = run
            logger.warning("container \(name): \(refusal.reason): \(refusal.message)")
            recordEvent(.warning, "Failed", "Error: \(refusal.message)", container: name)
            markStatusDirty()
            return
        case .success(let s): spec = s
        }
        let log = logPath(name, run.state.restartCount)
        let fd: Int32
        do {
            try PrivateFiles.makeDirectory((log as NSString).deletingLastPathComponent)
            fd = try Sys.check("open log", log) { open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o640) }
        } catch {
            run.state.state = .waiting(reason: "CreateContainerError", message: "\(error)")
            runs[name] = run
            markStatusDirty()
            return
        }
        defer { Sys.close(fd) }
        var options = Spawn.Options(netnsPath: sandbox.attachment.netns, files: sandbox.files,
                                    hostname: pod.spec.hostname ?? pod.metadata.name, workingDir: spec.workingDir)
        options.stdout = fd; options.stderr = fd
        do {
            let pid = try Spawn.start(spec.argv, environment: spec.environment, options)
            let now = Date()
            run.pid = pid
            run.startTicks = ProcFS.startTicks(pid) ?? 0
            run.startedAt = now
            run.generation += 1
            run.environment = spec.environment
            run.state.state = .running(startedAt: now)
            run.state.containerID = containerID(name, run.state.restartCount)
            run.state.ready = false
            run.state.started = run.spec.startupProbe == nil
            runs[name] = run
            let generation = run.generation
            Reaper.shared.watch(pid) { [weak self] exit in
                let end = Date()
                Task {
                    await self?.exited(name, generation: generation,
                                       termination: .init(exitCode: exit.reported, signal: exit.signal.map(Int.init),
                                                          reason: ContainerRuntimeState.Termination.reason(exitCode: exit.reported),
                                                          startedAt: now, finishedAt: end))
                }
            }
            logger.info("started container \(name) (pid \(pid)): \(spec.argv.joined(separator: " "))")
            recordEvent(.normal, "Started", "Started container \(name)", container: name)
            startProbes(name)
            saveRecord()
            markStatusDirty()
        } catch {
            run.state.state = .waiting(reason: "RunContainerError", message: "\(error)")
            runs[name] = run
            logger.warning("container \(name): \(error)")
            markStatusDirty()
            scheduleRestart(name, ranFor: 0)
        }
    }


    /// A process this agent did not start (adopted): polled, since only its parent can wait for it.
    private func watchAdopted(_ name: String, pid: Int32, ticks: UInt64, generation: Int) {
        Task { [weak self] in
            let started = await self?.runs[name]?.startedAt
            while !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(500))
                if !ProcFS.alive(pid, ticks: ticks) { break }
                guard let self, await self.runs[name]?.generation == generation else { return }
            }
            // Its exit code went to its new parent: unknown here, reported as the kubelet does.
            await self?.exited(name, generation: generation,
                               termination: .init(exitCode: 137, reason: "ContainerStatusUnknown", startedAt: started, finishedAt: Date()))
        }
    }

    private func exited(_ name: String, generation: Int, termination: ContainerRuntimeState.Termination) {
        guard var run = runs[name], run.generation == generation, run.pid != nil || termination.reason == "ContainerStatusUnknown" else { return }
        run.pid = nil
        run.probeTask?.cancel(); run.probeTask = nil
        run.state.ready = false
        run.state.lastTermination = termination
        let ranFor = termination.startedAt.map { termination.finishedAt.timeIntervalSince($0) } ?? 0
        logger.info("container \(name) ended: exit \(termination.exitCode) after \(Int(ranFor)) s")
        if terminating == nil, ContainerRestart.shouldRestart(policy: pod.spec.restartPolicy?.rawValue, exitCode: termination.exitCode) {
            runs[name] = run
            scheduleRestart(name, ranFor: ranFor)
        } else {
            run.state.state = .terminated(termination)
            run.state.lastTermination = nil
            runs[name] = run
            if terminating == nil, order.allSatisfy({ if case .terminated = runs[$0]?.state.state { true } else { false } }) {
                // A finished pod (Succeeded/Failed) gives its address back, as the kubelet tears down its sandbox.
                Task { await self.releaseSandbox() }
            }
        }
        saveRecord()
        markStatusDirty()
    }

    private func scheduleRestart(_ name: String, ranFor: Double) {
        guard var run = runs[name] else { return }
        let (delay, backoff) = ContainerRestart.delay(previous: run.backoff, ranFor: ranFor)
        run.backoff = backoff
        run.state.restartCount += 1
        run.state.state = .waiting(reason: "CrashLoopBackOff",
                                   message: "back-off \(Int(delay))s restarting failed container=\(name) pod=\(self.name)_\(namespace)(\(uid))")
        if delay > 0 { recordEvent(.warning, "BackOff", "Back-off restarting failed container \(name) in pod \(self.name)_\(namespace)(\(uid))", container: name) }
        run.restartTask = Task { [weak self] in
            try? await Task.sleep(for: .milliseconds(Int(delay * 1000)))
            guard !Task.isCancelled else { return }
            await self?.startContainer(name)
        }
        runs[name] = run
    }

    // MARK: - Probes

    private func startProbes(_ name: String) {
        guard var run = runs[name], let sandbox else { return }
        var trackers: [ProbeTracker.Kind: (ProbeTracker, ProbeAction)] = [:]
        let ip = sandbox.podIPs.first ?? ""
        for (kind, probe) in [(ProbeTracker.Kind.startup, run.spec.startupProbe), (.readiness, run.spec.readinessProbe),
                              (.liveness, run.spec.livenessProbe)] {
            guard let probe else { continue }
            guard let action = ContainerLaunch.probeAction(probe, container: run.spec, podIP: ip) else {
                logger.warning("container \(name): \(kind) probe has no usable handler; it fails")
                trackers[kind] = (ProbeTracker(kind: kind, timing: ContainerLaunch.probeTiming(probe)), .exec(["/bin/false"]))
                continue
            }
            trackers[kind] = (ProbeTracker(kind: kind, timing: ContainerLaunch.probeTiming(probe)), action)
        }
        run.probes = trackers.mapValues(\.0)
        if trackers.isEmpty {
            run.state.started = true
            run.state.ready = true
            runs[name] = run
            markStatusDirty()
            return
        }
        if trackers[.startup] == nil { run.state.started = true }
        if trackers[.readiness] == nil { run.state.ready = run.state.started }
        let generation = run.generation
        let netns = sandbox.attachment.netns, files = sandbox.files, env = run.environment
        let actions = trackers.mapValues(\.1)
        run.probeTask = Task { [weak self] in
            let begin = ContinuousClock.now
            var lastRun: [ProbeTracker.Kind: Double] = [:]
            while !Task.isCancelled {
                let elapsed = Double((ContinuousClock.now - begin).components.seconds)
                    + Double((ContinuousClock.now - begin).components.attoseconds) / 1e18
                guard let self, let probes = await self.probeState(name, generation) else { return }
                let startupDone = probes[.startup]?.passing ?? true
                for kind in [ProbeTracker.Kind.startup, .readiness, .liveness] {
                    guard let tracker = probes[kind], let action = actions[kind] else { continue }
                    if kind == .startup ? startupDone : !startupDone { continue }
                    guard tracker.isDue(elapsed: elapsed, lastRun: lastRun[kind]) else { continue }
                    lastRun[kind] = elapsed
                    let ok = await Prober.run(action, timeout: tracker.timing.timeout, netnsPath: netns, files: files,
                                              environment: env)
                    await self.probed(name, generation, kind, ok)
                }
                try? await Task.sleep(for: .milliseconds(100))
            }
        }
        runs[name] = run
        markStatusDirty()
    }

    private func probeState(_ name: String, _ generation: Int) -> [ProbeTracker.Kind: ProbeTracker]? {
        guard let run = runs[name], run.generation == generation, run.pid != nil, terminating == nil else { return nil }
        return run.probes
    }

    private func probed(_ name: String, _ generation: Int, _ kind: ProbeTracker.Kind, _ ok: Bool) {
        guard var run = runs[name], run.generation == generation, var tracker = run.probes[kind] else { return }
        let flipped = tracker.record(success: ok)
        run.probes[kind] = tracker
        switch kind {
        case .startup:
            if flipped && tracker.passing {
                run.state.started = true
                if run.probes[.readiness] == nil { run.state.ready = true }
            }
        case .readiness:
            if flipped { run.state.ready = tracker.passing && run.state.started }
        case .liveness:
            break
        }
        runs[name] = run
        if flipped { markStatusDirty() }
        if !ok {
            let probe = switch kind { case .readiness: "Readiness"; case .liveness: "Liveness"; case .startup: "Startup" }
            recordEvent(.warning, "Unhealthy", "\(probe) probe failed", container: name)
        }
        if tracker.demandsRestart, let pid = run.pid {
            logger.info("container \(name) failed its \(kind) probe \(tracker.timing.failureThreshold) times; restarting it")
            kill(-pid, SIGKILL)
        }
    }

    // MARK: - Termination

    private func beginTermination(deleteObject: Bool) {
        guard terminating == nil, !finished else { return }
        sandboxRetry?.cancel()
        let grace = pod.metadata.deletionGracePeriodSeconds ?? pod.spec.terminationGracePeriodSeconds ?? 30
        terminating = Task { await self.terminate(grace: max(0, grace), deleteObject: deleteObject) }
    }

    private func terminate(grace: Int64, deleteObject: Bool) async {
        logger.info("stopping pod (grace \(grace) s)")
        for name in order {
            runs[name]?.probeTask?.cancel()
            runs[name]?.restartTask?.cancel()
            if let pid = runs[name]?.pid {
                kill(-pid, SIGTERM)
                if deleteObject { recordEvent(.normal, "Killing", "Stopping container \(name)", container: name) }
            }
        }
        let deadline = ContinuousClock.now + .seconds(grace)
        while ContinuousClock.now < deadline, order.contains(where: { runs[$0]?.pid != nil }) {
            try? await Task.sleep(for: .milliseconds(50))
        }
        for name in order { if let pid = runs[name]?.pid { kill(-pid, SIGKILL) } }
        let killDeadline = ContinuousClock.now + .seconds(5)
        while ContinuousClock.now < killDeadline, order.contains(where: { runs[$0]?.pid != nil }) {
            try? await Task.sleep(for: .milliseconds(20))
        }
        markStatusDirty()
        await flushStatus()
        await releaseSandbox()
        try? FileManager.default.removeItem(atPath: podDir)
        finished = true
        if deleteObject {
            var options = KubeAPI.DeleteOptions()
            options.gracePeriodSeconds = 0
            options.preconditions = Preconditions(uid: uid)
            do {
                try await ctx.client.delete(Pod.self, name: name, namespace: namespace, options: options)
            } catch {
                logger.debug("final delete: \(error)")
            }
        }
        logger.info("pod stopped and removed")
        await onGone(uid)
    }

    /// CNI DEL (in reverse, with the cached result), then the namespace goes; the cache entry last, so a
    /// DEL that failed is retried by the next agent.
    private func releaseSandbox() async {
        guard let list = try? ctx.conflist() else { return }
        let attachment = sandbox?.attachment ?? attachmentFor(netns: ctx.config.netnsPath(uid))
        let cached = sandbox?.result ?? cachedEntry(list, attachment)?.result
        do {
            try await ctx.cni.del(list, attachment, cachedResult: cached)
            try NetnsFiles.remove(attachment.netns)
            _ = unlink(cachePath(list, attachment))
            sandbox = nil
        } catch {
            logger.error("failed to tear down the sandbox: \(error)")
        }
    }

    // MARK: - Status

    private func markStatusDirty() {
        statusDirty = true
        guard statusTask == nil else { return }
        statusTask = Task {
            try? await Task.sleep(for: .milliseconds(50))  // coalesce a burst of changes into one write
            await self.flushStatus()
        }
    }

    private func flushStatus() async {
        statusTask = nil
        guard statusDirty, !finished else { return }
        statusDirty = false
        let status = PodStatusBuilder.status(previous: pod.status, sandboxReady: sandbox != nil, podIPs: sandbox?.podIPs ?? [],
                                             hostIPs: ctx.hostIPs, containers: order.compactMap { runs[$0]?.state },
                                             restartPolicy: pod.spec.restartPolicy?.rawValue, now: Date())
        guard status != pod.status else { return }
        do {
            let body = JSONValue.object(["status": try KubeJSON.toJSONValue(status)])
            let updated = try await ctx.client.patch(Pod.self, name: name, namespace: namespace, patchType: .merge, body: body, subresource: "status")
            pod.status = updated.status
        } catch {
            logger.warning("status update failed: \(error); will retry")
            statusDirty = true
            statusTask = Task {
                try? await Task.sleep(for: .seconds(1))
                await self.flushStatus()
            }
        }
    }

    /// An Event about the pod (or one of its containers, `fieldPath: spec.containers{name}`), as the kubelet
    /// records them; repeats are counted by the recorder.
    private func recordEvent(_ type: EventRecord.Kind, _ reason: String, _ message: String, container: String? = nil) {
        var reference = EventRecord.reference(to: pod)
        if let container { reference.fieldPath = "spec.containers{\(container)}" }
        let record = EventRecord(involvedObject: reference, type: type, reason: reason, message: message)
        let events = ctx.events
        Task { await events.record(record) }
    }

    // MARK: - Record

    private func saveRecord() {
        guard let sandbox else { return }
        var containers: [String: ContainerRecord] = [:]
        for name in order {
            guard let run = runs[name] else { continue }
            // A container between runs (back-off) is kept with pid 0, so its restart count and back-off survive.
            containers[name] = ContainerRecord(pid: run.pid ?? 0, startTicks: run.pid == nil ? 0 : run.startTicks,
                                               startedAt: run.startedAt ?? Date(), restartCount: run.state.restartCount, backoff: run.backoff)
        }
        let record = PodRecord(uid: uid, namespace: namespace, name: name, netns: sandbox.attachment.netns,
                               podIPs: sandbox.podIPs, containers: containers)
        do {
            let data = try JSONEncoder().encode(record)
            try PrivateFiles.write(Array(data), to: podDir + "/state.json")
        } catch {
            logger.error("cannot save the pod record: \(error)")
        }
    }

    private func isCompleted(_ pod: Pod) -> Bool { pod.status.phase == .succeeded || pod.status.phase == .failed }
}
