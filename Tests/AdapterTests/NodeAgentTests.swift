import Foundation
import Testing
import TestSupport

/// `kproxy node` in network namespaces: a node namespace runs the control plane (`ip netns exec`) and the
/// agent (`nsenter --net`, so the pods' namespaces under /run/netns outlive it); pods get namespaces,
/// addresses from kproxy-cni, processes, probes, restarts and graceful deletion, and a restarted agent
/// adopts them. Everything the test made is removed at the end, even when it fails.
@Suite(.serialized) struct NodeAgentTests {
    static let nodeIP = "192.168.77.2"

    final class Cluster {
        let dir: String
        let node: TestNetns
        let binary: String
        var controlPlane: Process?
        var agent: Process?
        let marker: String
        /// In pods' command lines (never in the agent's or control plane's, whose paths hold `marker`).
        var processMarker: String { "pm:" + marker }

        init() throws {
            binary = try #require(ProxyDaemonE2ETests.binary, "kproxy binary not built")
            let cni = URL(fileURLWithPath: binary).deletingLastPathComponent().appendingPathComponent("kproxy-cni").path
            marker = NetnsSupport.uniqueSuffix()
            dir = NSTemporaryDirectory() + "kproxy-node-\(marker)"
            try FileManager.default.createDirectory(atPath: dir + "/bin", withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: cni, toPath: dir + "/bin/kproxy-cni")
            node = try TestNetns("node")
            // The node's own address, on one end of a veth pair that leads nowhere.
            try node.exec(["ip", "link", "add", "uplink0", "type", "veth", "peer", "name", "uplink1"])
            try node.exec(["ip", "addr", "add", "\(NodeAgentTests.nodeIP)/24", "dev", "uplink0"])
            try node.exec(["ip", "link", "set", "uplink0", "up"])
            try node.exec(["ip", "link", "set", "uplink1", "up"])
            controlPlane = try ProxyDaemonE2ETests.start(node, [binary, "controlplane", "--data-dir", dir + "/cp", "--listen", "127.0.0.1:6443",
                                                                "--write-kubeconfig", dir + "/kubeconfig", "--node-monitor-grace-period", "3"],
                                                         log: dir + "/controlplane.log")
            let up = try waitUntilBlocking(within: .seconds(20)) { try self.kubectl(["get", "--raw", "/readyz"]).status == 0 }
            try #require(up, "control plane up: \(log("controlplane"))")
            try startAgent()
        }

        func startAgent() throws {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/usr/bin/nsenter")
            p.arguments = ["--net=/run/netns/\(node.name)", binary, "node", "--kubeconfig", dir + "/kubeconfig", "--node", "n1",
                           "--cni-conf-dir", dir + "/net.d", "--cni-bin-dir", dir + "/bin", "--cni-cache-dir", dir + "/cni",
                           "--root-dir", dir + "/root", "--ipam-data-dir", dir + "/ipam", "--node-ip", NodeAgentTests.nodeIP,
                           "--cluster-dns", "10.96.0.10", "--node-lease-duration-seconds", "4"]
            let path = dir + "/agent.log"
            if !FileManager.default.fileExists(atPath: path) { _ = FileManager.default.createFile(atPath: path, contents: nil) }
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
            handle.seekToEndOfFile()
            p.standardOutput = handle; p.standardError = handle
            try p.run()
            agent = p
        }

        /// Stops the agent the way a crash would (SIGKILL): its pods keep running.
        func killAgent() {
            if let agent { NetnsSupport.stop(agent) }
            agent = nil
        }

        func log(_ name: String) -> String { String(((try? String(contentsOfFile: "\(dir)/\(name).log", encoding: .utf8)) ?? "").suffix(3000)) }

        @discardableResult
        func kubectl(_ args: [String], input: String? = nil) throws -> NetnsSupport.Output {
            try NetnsSupport.run([NetnsSupport.ipTool, "netns", "exec", node.name, "kubectl", "--kubeconfig", dir + "/kubeconfig",
                                  "--cache-dir", dir + "/cache"] + args, input: input)
        }

        func jsonpath(_ args: [String], _ path: String) -> String {
            ((try? kubectl(args + ["-o", "jsonpath=\(path)"]))?.stdout ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        }

        func apply(_ yaml: String) throws {
            let r = try kubectl(["apply", "-f", "-"], input: yaml)
            try #require(r.status == 0, "kubectl apply: \(r.stderr)")
        }

        /// Pod namespaces the agent made for this cluster (their names carry the pod UIDs it recorded).
        func podNamespaces() -> [String] {
            let uids = (try? FileManager.default.contentsOfDirectory(atPath: dir + "/root/pods")) ?? []
            return uids.map { "kproxy-\($0)" }.filter { FileManager.default.fileExists(atPath: "/run/netns/\($0)") }
        }

        func ipamReservations() -> Int {
            let files = FileManager.default.enumerator(atPath: dir + "/ipam")?.allObjects as? [String] ?? []
            return files.filter { name in
                let base = (name as NSString).lastPathComponent
                return base.first?.isNumber == true && !base.hasPrefix("last_reserved") && base.contains(".")
            }.count
        }

        func veths() -> Int {
            ((try? node.exec(["ip", "-o", "link", "show", "type", "veth"])) ?? "").split(separator: "\n").filter { !$0.contains("uplink") }.count
        }

        /// Processes whose command line holds `text` (the test's marker).
        func processes(_ text: String) -> [Int32] {
            let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
            return entries.compactMap(Int32.init).filter { pid in
                guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return false }
                return String(decoding: data, as: UTF8.self).replacingOccurrences(of: "\0", with: " ").contains(text)
            }
        }

        /// The web Deployment's server processes (found by the MARKER variable in their environment).
        func webProcesses() -> Set<Int32> {
            Set(processes("http.server 8080").filter { pid in
                (try? String(contentsOfFile: "/proc/\(pid)/environ", encoding: .utf8))?.contains("MARKER=\(marker)") == true
            })
        }

        func destroy() {
            // Let the agent stop what it runs (CNI DEL), then remove whatever is left.
            if agent != nil { _ = try? kubectl(["delete", "pods", "--all", "--grace-period=1", "--timeout=20s"]) }
            killAgent()
            for ns in podNamespaces() {
                for pid in (((try? NetnsSupport.run([NetnsSupport.ipTool, "netns", "pids", ns]))?.stdout) ?? "").split(separator: "\n") {
                    if let p = Int32(pid) { kill(p, SIGKILL) }
                }
                _ = try? NetnsSupport.run([NetnsSupport.ipTool, "netns", "del", ns])
            }
            for pid in processes(processMarker) { kill(pid, SIGKILL) }
            if let controlPlane { NetnsSupport.stop(controlPlane) }
            node.destroy()
            try? FileManager.default.removeItem(atPath: dir)
        }
    }

    static func webDeployment(_ marker: String) -> String {
        """
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: web}
        spec:
          replicas: 2
          selector: {matchLabels: {app: web}}
          template:
            metadata: {labels: {app: web}}
            spec:
              containers:
              - name: web
                image: python
                command: ["python3", "-m", "http.server", "8080", "--directory", "/", "--bind", "0.0.0.0"]
                env: [{name: MARKER, value: "\(marker)"}]
                ports: [{name: http, containerPort: 8080}]
                readinessProbe: {httpGet: {path: /, port: http}, periodSeconds: 1}
        ---
        apiVersion: v1
        kind: Service
        metadata: {name: web}
        spec:
          selector: {app: web}
          ports: [{name: http, port: 80, targetPort: http}]
        """
    }

    @Test(.enabled(if: NetnsSupport.isAvailable && FileManager.default.isExecutableFile(atPath: "/usr/bin/nsenter")))
    func podsRunInTheirNamespacesAndFollowTheirLifecycle() throws {
        let c = try Cluster()
        defer { c.destroy() }
        let ready = waitUntilBlocking(within: .seconds(20)) { c.jsonpath(["get", "node", "n1"], #"{.status.conditions[?(@.type=="Ready")].status}"#) == "True" }
        try #require(ready, "node Ready: \(c.log("agent"))")
        #expect(c.jsonpath(["-n", "kube-node-lease", "get", "lease", "n1"], "{.spec.holderIdentity}") == "n1")
        #expect(FileManager.default.fileExists(atPath: c.dir + "/net.d/10-kproxy.conflist"))
        // Namespaces the agent did not make are not its to collect, whatever their names.
        let foreign = "kproxy-\(c.marker)-foreign"
        try NetnsSupport.runChecked([NetnsSupport.ipTool, "netns", "add", foreign])
        defer { _ = try? NetnsSupport.run([NetnsSupport.ipTool, "netns", "del", foreign]) }

        // A Deployment's pods run in their own namespaces with the address kproxy-cni gave them.
        try c.apply(Self.webDeployment(c.marker))
        let running = waitUntilBlocking(within: .seconds(30)) {
            c.jsonpath(["get", "pods", "-l", "app=web"], #"{range .items[*]}{.status.conditions[?(@.type=="Ready")].status}{" "}{end}"#) == "True True"
        }
        try #require(running, "two ready web pods: \(c.log("agent"))")
        let ips = c.jsonpath(["get", "pods", "-l", "app=web"], "{.items[*].status.podIP}").split(separator: " ").map(String.init)
        #expect(ips.count == 2 && ips.allSatisfy { $0.hasPrefix("10.244.") })
        let uids = c.jsonpath(["get", "pods", "-l", "app=web"], "{.items[*].metadata.uid}").split(separator: " ").map(String.init)
        for (uid, ip) in zip(uids, ips) {
            let addresses = try NetnsSupport.runChecked([NetnsSupport.ipTool, "netns", "exec", "kproxy-\(uid)", "ip", "-o", "-4", "addr", "show", "eth0"])
            #expect(addresses.contains(ip + "/"))
        }
        let servers = c.webProcesses()
        #expect(servers.count == 2)
        for pid in servers {
            let link = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/ns/net")
            let node = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/ns/net")
            #expect(link != node)
        }
        let fetched = try c.node.exec(["curl", "-s", "--max-time", "2", "-o", "/dev/null", "-w", "%{http_code}", "http://\(ips[0]):8080/"])
        #expect(fetched == "200")
        #expect(waitUntilBlocking(within: .seconds(15)) {
            c.jsonpath(["get", "endpointslices", "-l", "kubernetes.io/service-name=web"], "{.items[*].endpoints[*].addresses[0]}")
                .split(separator: " ").map(String.init).sorted() == ips.sorted()
        })

        // Readiness gates the endpoint: not ready until the exec probe's file exists.
        let gate = "/tmp/kproxy-gate-\(c.marker)"
        defer { try? FileManager.default.removeItem(atPath: gate) }
        try c.apply("""
        apiVersion: v1
        kind: Pod
        metadata: {name: gated, labels: {app: web}}
        spec:
          terminationGracePeriodSeconds: 5
          containers:
          - name: app
            image: busybox
            command: ["sh", "-c", "echo start; cat /etc/resolv.conf /etc/hosts; hostname; trap 'echo bye; sleep 2; exit 0' TERM; while true; do sleep 0.2; done", "\(c.processMarker)"]
            readinessProbe: {exec: {command: ["test", "-f", "\(gate)"]}, periodSeconds: 1}
        """)
        let gatedIP = waitUntilBlocking(within: .seconds(20)) { !c.jsonpath(["get", "pod", "gated"], "{.status.podIP}").isEmpty }
        try #require(gatedIP)
        let ip = c.jsonpath(["get", "pod", "gated"], "{.status.podIP}")
        let readyOf = { c.jsonpath(["get", "endpointslices", "-l", "kubernetes.io/service-name=web"],
                                   #"{range .items[*].endpoints[?(@.addresses[0]==""# + ip + #"")]}{.conditions.ready}{end}"#) }
        #expect(waitUntilBlocking(within: .seconds(15)) { readyOf() == "false" }, "the gated endpoint is listed, not ready")
        #expect(FileManager.default.createFile(atPath: gate, contents: nil))
        #expect(waitUntilBlocking(within: .seconds(15)) { readyOf() == "true" }, "ready once its probe passes")

        // The pod sees the kubelet's resolv.conf and hosts file, and its name as hostname.
        let logPath = c.dir + "/root/pods/\(c.jsonpath(["get", "pod", "gated"], "{.metadata.uid}"))/logs/app/0.log"
        let output = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
        #expect(output.contains("nameserver 10.96.0.10"))
        #expect(output.contains("search default.svc.cluster.local svc.cluster.local cluster.local"))
        #expect(output.contains("options ndots:5"))
        #expect(output.contains("\(ip)\tgated"))
        #expect(output.split(separator: "\n").contains("gated"))

        // A graceful delete: SIGTERM, the endpoint terminating, then the pod, its namespace and address gone.
        let gatedUID = c.jsonpath(["get", "pod", "gated"], "{.metadata.uid}")
        let reservations = c.ipamReservations()
        try c.kubectl(["delete", "pod", "gated", "--wait=false"])
        let terminatingOf = { c.jsonpath(["get", "endpointslices", "-l", "kubernetes.io/service-name=web"],
                                         #"{range .items[*].endpoints[?(@.addresses[0]==""# + ip + #"")]}{.conditions.terminating}{end}"#) }
        #expect(waitUntilBlocking(within: .seconds(5)) { terminatingOf() == "true" }, "its endpoint terminating while it stops")
        let gone = try waitUntilBlocking(within: .seconds(20)) { try c.kubectl(["get", "pod", "gated"]).status != 0 }
        #expect(gone, "pod removed after its containers stopped: \(c.log("agent"))")
        #expect(!FileManager.default.fileExists(atPath: "/run/netns/kproxy-\(gatedUID)"))
        #expect(c.ipamReservations() == reservations - 1)
        #expect(!FileManager.default.fileExists(atPath: logPath), "the pod's files went with it")

        // kubectl logs (tail, follow, previous) and exec (streams, stdin, exit code, a terminal) through the control plane.
        try c.apply("""
        apiVersion: v1
        kind: Pod
        metadata: {name: talk}
        spec:
          containers:
          - {name: app, image: busybox, command: ["sh", "-c", "echo one; echo two; echo three; exec sleep 600", "\(c.processMarker)"]}
        """)
        #expect(waitUntilBlocking(within: .seconds(20)) { c.jsonpath(["get", "pod", "talk"], "{.status.phase}") == "Running" })
        #expect(waitUntilBlocking(within: .seconds(10)) { (try? c.kubectl(["logs", "talk"]))?.stdout == "one\ntwo\nthree\n" },
                "logs: \((try? c.kubectl(["logs", "talk"]))?.stderr ?? "")")
        #expect(try c.kubectl(["logs", "talk", "--tail=1"]).stdout == "three\n")
        let exec = try c.kubectl(["exec", "talk", "--", "sh", "-c", "echo out; echo err >&2; hostname; exit 7"])
        #expect(exec.status == 7, "exit code passed on: \(exec.stderr)")
        #expect(exec.stdout == "out\ntalk\n")
        #expect(exec.stderr.contains("err\n"))
        let echo = try c.kubectl(["exec", "-i", "talk", "--", "cat"], input: "through stdin\n")
        #expect(echo.status == 0 && echo.stdout == "through stdin\n")
        let inPod = try c.kubectl(["exec", "talk", "--", "cat", "/etc/resolv.conf"])
        #expect(inPod.stdout.contains("nameserver 10.96.0.10"))
        // `script` gives kubectl a terminal; its own stdin is a pipe held open (not the runner's, which may be
        // /dev/null: at its end of input script hangs up the terminal).
        let script = Process()
        script.executableURL = URL(fileURLWithPath: "/usr/bin/script")
        script.arguments = ["-qec", "stty cols 91 rows 17; \(NetnsSupport.ipTool) netns exec \(c.node.name) kubectl --kubeconfig \(c.dir)/kubeconfig exec -it talk -- sh -c 'for i in $(seq 50); do [ \"$(stty size)\" = \"17 91\" ] && break; sleep 0.1; done; tty; stty size'", "/dev/null"]
        let keepOpen = Pipe(), ttyOut = Pipe()
        script.standardInput = keepOpen
        script.standardOutput = ttyOut
        try script.run()
        let ttyText = String(decoding: ttyOut.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        script.waitUntilExit()
        try keepOpen.fileHandleForWriting.close()
        let tty = NetnsSupport.Output(status: script.terminationStatus, stdout: ttyText, stderr: "")
        // kubectl sends the terminal's size as the command starts; the command waits (bounded) for it to arrive.
        #expect(tty.stdout.contains("/dev/pts/") && tty.stdout.contains("17 91"), "a terminal of the client's size: \(tty.stdout) \(tty.stderr)")
        let follow = Process()
        follow.executableURL = URL(fileURLWithPath: NetnsSupport.ipTool)
        follow.arguments = ["netns", "exec", c.node.name, "kubectl", "--kubeconfig", c.dir + "/kubeconfig", "logs", "-f", "talk"]
        let followed = Pipe()
        follow.standardOutput = followed
        try follow.run()
        try c.kubectl(["delete", "pod", "talk", "--wait=false"])  // the container ends, so following ends
        follow.waitUntilExit()
        let streamed = String(decoding: followed.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(streamed.contains("one\ntwo\nthree\n"), "follow: \(streamed)")

        // A container that ignores SIGTERM is killed when its grace period ends.
        try c.apply("""
        apiVersion: v1
        kind: Pod
        metadata: {name: stubborn}
        spec:
          terminationGracePeriodSeconds: 2
          containers:
          - {name: app, image: busybox, command: ["sh", "-c", "trap '' TERM; while true; do sleep 0.2; done", "\(c.processMarker)"]}
        """)
        #expect(waitUntilBlocking(within: .seconds(20)) { c.jsonpath(["get", "pod", "stubborn"], "{.status.phase}") == "Running" })
        let deleteStart = ContinuousClock.now
        try c.kubectl(["delete", "pod", "stubborn", "--timeout=20s"])
        let took = ContinuousClock.now - deleteStart
        #expect(took >= .seconds(2) && took < .seconds(10), "SIGKILL after the 2 s grace period: took \(took)")

        // A crashing container restarts with back-off and reports its last exit.
        try c.apply("""
        apiVersion: v1
        kind: Pod
        metadata: {name: crash}
        spec:
          containers:
          - {name: app, image: busybox, command: ["sh", "-c", "echo attempt; exit 3", "\(c.processMarker)"]}
        """)
        #expect(waitUntilBlocking(within: .seconds(20)) { Int(c.jsonpath(["get", "pod", "crash"], "{.status.containerStatuses[0].restartCount}")) ?? 0 >= 1 })
        #expect(c.jsonpath(["get", "pod", "crash"], "{.status.containerStatuses[0].lastState.terminated.exitCode}") == "3")
        #expect(c.jsonpath(["get", "pod", "crash"], "{.status.containerStatuses[0].state.waiting.reason}") == "CrashLoopBackOff")
        #expect(try c.kubectl(["logs", "crash", "--previous"]).stdout == "attempt\n")
        // The kubelet's Events, as `kubectl describe pod` shows them.
        #expect(waitUntilBlocking(within: .seconds(10)) {
            let reasons = c.jsonpath(["get", "events", "--field-selector", "involvedObject.name=crash"], "{.items[*].reason}")
            return reasons.contains("Started") && reasons.contains("BackOff")
        }, "Started and BackOff events")
        #expect(c.jsonpath(["get", "events", "--field-selector", "involvedObject.name=crash,reason=Started"],
                           "{.items[0].involvedObject.fieldPath} {.items[0].source.component}") == "spec.containers{app} kubelet")

        // The agent dies: the node turns NotReady; a new agent adopts the running pods (same processes, no new ADD).
        let before = c.webProcesses()
        #expect(before.count == 2)
        // A pod that is force-deleted while the agent is down: the next agent stops what is left of it.
        try c.apply("""
        apiVersion: v1
        kind: Pod
        metadata: {name: orphan}
        spec:
          containers:
          - {name: app, image: busybox, command: ["sh", "-c", "sleep 600; :", "\(c.processMarker)-orphan"]}
        """)
        #expect(waitUntilBlocking(within: .seconds(20)) { c.jsonpath(["get", "pod", "orphan"], "{.status.phase}") == "Running" })
        let orphanUID = c.jsonpath(["get", "pod", "orphan"], "{.metadata.uid}")
        #expect(waitUntilBlocking(within: .seconds(10)) { !c.processes("\(c.processMarker)-orphan").isEmpty }, "the orphan runs")
        let reserved = c.ipamReservations()
        c.killAgent()
        try c.kubectl(["delete", "pod", "orphan", "--grace-period=0", "--force"])
        #expect(waitUntilBlocking(within: .seconds(20)) {
            c.jsonpath(["get", "node", "n1"], #"{.status.conditions[?(@.type=="Ready")].status}"#) == "Unknown"
        }, "node NotReady without heartbeats")
        #expect(waitUntilBlocking(within: .seconds(10)) {
            c.jsonpath(["get", "endpointslices", "-l", "kubernetes.io/service-name=web"], "{.items[*].endpoints[*].conditions.ready}")
                .split(separator: " ").allSatisfy { $0 == "false" }
        }, "the unreachable node's endpoints are not ready")
        try c.startAgent()
        #expect(waitUntilBlocking(within: .seconds(20)) {
            !FileManager.default.fileExists(atPath: "/run/netns/kproxy-\(orphanUID)") && c.processes("\(c.processMarker)-orphan").isEmpty
        }, "the force-deleted pod's namespace and process are gone")
        #expect(waitUntilBlocking(within: .seconds(20)) {
            c.jsonpath(["get", "node", "n1"], #"{.status.conditions[?(@.type=="Ready")].status}"#) == "True"
            && c.jsonpath(["get", "pods", "-l", "app=web"], #"{range .items[*]}{.status.conditions[?(@.type=="Ready")].status}{" "}{end}"#) == "True True"
        }, "adopted pods ready again: \(c.log("agent"))")
        let after = c.webProcesses()
        #expect(after == before, "the same processes")
        #expect(c.ipamReservations() == reserved - 1, "no new ADD; the orphan's address released")
        #expect(c.jsonpath(["get", "pods", "-l", "app=web"], "{.items[*].status.podIP}").split(separator: " ").map(String.init).sorted() == ips.sorted())
        #expect(c.log("agent").contains("adopted container web"))
        #expect(FileManager.default.fileExists(atPath: "/run/netns/\(foreign)"), "a restarted agent's GC left the foreign namespace alone")
    }

    /// 100 pods created and deleted leave nothing behind: veths, IPAM reservations, namespaces, processes.
    @Test(.enabled(if: NetnsSupport.isAvailable && FileManager.default.isExecutableFile(atPath: "/usr/bin/nsenter")))
    func hundredCreateDeleteCyclesLeakNothing() throws {
        let c = try Cluster()
        defer { c.destroy() }
        let ready = waitUntilBlocking(within: .seconds(20)) { c.jsonpath(["get", "node", "n1"], #"{.status.conditions[?(@.type=="Ready")].status}"#) == "True" }
        try #require(ready, "node Ready: \(c.log("agent"))")
        let baseline = (veths: c.veths(), reservations: c.ipamReservations())
        for round in 0..<10 {
            let pods = (0..<10).map { i in
                """
                apiVersion: v1
                kind: Pod
                metadata: {name: cycle-\(round)-\(i), labels: {cycle: "yes"}}
                spec:
                  terminationGracePeriodSeconds: 2
                  containers:
                  - {name: app, image: busybox, command: ["sh", "-c", "sleep 600; :", "\(c.processMarker)"]}
                """
            }.joined(separator: "\n---\n")
            try c.apply(pods)
            let started = waitUntilBlocking(within: .seconds(30)) {
                // Running containers that have not restarted (a command that exits at once would not count).
                c.jsonpath(["get", "pods", "-l", "cycle=yes"], "{.items[*].status.containerStatuses[0].ready}{\" \"}{.items[*].status.containerStatuses[0].restartCount}")
                    == Array(repeating: "true", count: 10).joined(separator: " ") + " " + Array(repeating: "0", count: 10).joined(separator: " ")
            }
            try #require(started, "round \(round): 10 pods running: \(c.log("agent"))")
            let deleted = try c.kubectl(["delete", "pods", "-l", "cycle=yes", "--timeout=30s"])
            try #require(deleted.status == 0, "round \(round): \(deleted.stderr)")
        }
        #expect(waitUntilBlocking(within: .seconds(10)) { c.podNamespaces().isEmpty }, "pod namespaces left: \(c.podNamespaces())")
        #expect(c.veths() == baseline.veths, "veths")
        #expect(c.ipamReservations() == baseline.reservations, "IPAM reservations")
        #expect(c.processes(c.processMarker).isEmpty, "processes")
        let records = (try? FileManager.default.contentsOfDirectory(atPath: c.dir + "/root/pods")) ?? []
        #expect(records.isEmpty, "pod records")
    }
}
