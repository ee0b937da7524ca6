import DNSCore
import Foundation
import KubeAPI
import Testing
@testable import NodeCore
import Values

@Suite("Pod lifecycle: phase, status, restarts, probes, resolv.conf, launch")
struct PodLifecycleTests {
    typealias C = ContainerRuntimeState
    static let t0 = Date(timeIntervalSince1970: 1_767_225_600)
    static func term(_ code: Int) -> C.Termination { C.Termination(exitCode: code, reason: C.Termination.reason(exitCode: code), startedAt: t0, finishedAt: t0) }
    static func c(_ state: C.State, last: C.Termination? = nil) -> C { C(name: "c", image: "i", state: state, lastTermination: last) }

    @Test(arguments: [
        ([c(.waiting(reason: "ContainerCreating", message: nil))], "Always", PodPhase.pending),
        ([c(.running(startedAt: t0))], "Always", .running),
        ([c(.running(startedAt: t0)), c(.waiting(reason: "ContainerCreating", message: nil))], "Always", .pending),
        ([c(.waiting(reason: "CrashLoopBackOff", message: nil), last: term(1))], "Always", .running),
        ([c(.terminated(term(0)))], "Never", .succeeded),
        ([c(.terminated(term(1)))], "Never", .failed),
        ([c(.terminated(term(0))), c(.terminated(term(2)))], "Never", .failed),
        ([c(.terminated(term(0)))], "OnFailure", .succeeded),
        ([c(.waiting(reason: "CrashLoopBackOff", message: nil), last: term(1))], "OnFailure", .running),
        ([c(.terminated(term(0)))], "Always", .running),
    ])
    func phase(containers: [C], policy: String, expected: PodPhase) {
        #expect(PodStatusBuilder.phase(containers, restartPolicy: policy) == expected)
    }

    @Test func statusKeepsTransitionTimesAndReportsContainers() {
        var previous = PodStatus()
        previous.conditions = [PodCondition(type: .podScheduled, status: .true, lastTransitionTime: "2025-01-01T00:00:00Z")]
        var running = Self.c(.running(startedAt: Self.t0), last: Self.term(137))
        running.restartCount = 2
        let first = PodStatusBuilder.status(previous: previous, sandboxReady: true, podIPs: ["10.244.1.5"], hostIPs: ["192.168.1.2"],
                                            containers: [running], restartPolicy: "Always", now: Self.t0)
        #expect(first.phase == .running && first.podIP == "10.244.1.5" && first.hostIPs?.first?.ip == "192.168.1.2")
        #expect(first.conditions?.first { $0.type == .ready }?.status == .false)
        #expect(first.conditions?.first { $0.type == .podScheduled }?.lastTransitionTime == "2025-01-01T00:00:00Z")
        #expect(first.containerStatuses?.first?.restartCount == 2)
        #expect(first.containerStatuses?.first?.lastState?.terminated?.exitCode == 137)
        #expect(first.containerStatuses?.first?.state?.running != nil)
        running.ready = true
        let later = Self.t0.addingTimeInterval(60)
        let second = PodStatusBuilder.status(previous: first, sandboxReady: true, podIPs: ["10.244.1.5"], hostIPs: [],
                                             containers: [running], restartPolicy: "Always", now: later)
        #expect(second.conditions?.first { $0.type == .ready }?.status == .true)
        #expect(second.conditions?.first { $0.type == .ready }?.lastTransitionTime == KubeTime.format(later))
        #expect(second.conditions?.first { $0.type == .initialized }?.lastTransitionTime == KubeTime.format(Self.t0))
        #expect(second.startTime == KubeTime.format(Self.t0))
    }

    @Test(arguments: [
        (nil as String?, 0, true), ("Always", 0, true), ("OnFailure", 0, false), ("OnFailure", 1, true), ("Never", 1, false),
    ])
    func restartPolicy(policy: String?, exitCode: Int, restarts: Bool) {
        #expect(ContainerRestart.shouldRestart(policy: policy, exitCode: exitCode) == restarts)
    }

    @Test func firstRestartIsImmediateThenBackOffDoublesToFiveMinutesAndResetsAfterTenMinutesOfRunning() {
        var backoff = 0.0, delays: [Double] = []
        for _ in 0..<7 {
            let (d, b) = ContainerRestart.delay(previous: backoff, ranFor: 1)
            delays.append(d); backoff = b
        }
        #expect(delays == [0, 10, 20, 40, 80, 160, 300])
        #expect(ContainerRestart.delay(previous: backoff, ranFor: 600) == (0, 0))
    }

    @Test func probesFlipOnlyAtTheirThresholds() {
        var readiness = ProbeTracker(kind: .readiness, timing: ProbeTiming(successThreshold: 2, failureThreshold: 3))
        #expect(!readiness.passing)
        let flips = [true, true, false, false, false].map { readiness.record(success: $0) }
        #expect(flips == [false, true, false, false, true])
        #expect(!readiness.passing && !readiness.demandsRestart)

        var liveness = ProbeTracker(kind: .liveness, timing: ProbeTiming(failureThreshold: 2))
        #expect(liveness.passing)
        liveness.record(success: false)
        #expect(!liveness.demandsRestart)
        liveness.record(success: false)
        #expect(liveness.demandsRestart)

        let timing = ProbeTiming(initialDelay: 5, period: 10)
        let startup = ProbeTracker(kind: .startup, timing: timing)
        #expect(!startup.passing)
        #expect(!startup.isDue(elapsed: 4, lastRun: nil) && startup.isDue(elapsed: 5, lastRun: nil))
        #expect(!startup.isDue(elapsed: 14, lastRun: 5) && startup.isDue(elapsed: 15, lastRun: 5))
    }

    @Test func resolvConfIsTheKubeletsClusterFirst() {
        let host = ResolverConfig(parsing: "# comment\nnameserver 192.168.1.1\nnameserver 8.8.8.8\nsearch corp.example\noptions edns0\n")
        #expect(host == ResolverConfig(nameservers: ["192.168.1.1", "8.8.8.8"], search: ["corp.example"], options: ["edns0"]))
        #expect(ResolvConf.clusterFirst(namespace: "demo", clusterDomain: "cluster.local", clusterDNS: ["10.96.0.10"], host: host) == """
        nameserver 10.96.0.10
        search demo.svc.cluster.local svc.cluster.local cluster.local corp.example
        options ndots:5

        """)
        #expect(ResolvConf.clusterFirst(namespace: "demo", clusterDomain: "cluster.local", clusterDNS: [], host: host)
                == "nameserver 192.168.1.1\nnameserver 8.8.8.8\nsearch corp.example\noptions edns0\n")
    }

    static func pod(_ container: Container) -> Pod {
        var meta = ObjectMeta(name: "web-1", namespace: "demo")
        meta.uid = "u1"
        return Pod(metadata: meta, spec: PodSpec(containers: [container]))
    }

    static let context = ContainerLaunch.Context(podIP: "10.244.1.5", hostIP: "192.168.1.2", nodeName: "n1",
                                                 serviceEnvironment: ContainerLaunch.kubernetesServiceEnvironment(clusterIP: "10.96.0.1", port: 443))

    @Test func launchBuildsArgvAndEnvironment() throws {
        var c = Container(name: "web", image: "python")
        c.command = ["python3", "-m", "http.server"]
        c.args = ["$(PORT)", "$$(PORT)", "$(UNSET)"]
        var ip = EnvVar(name: "MY_IP", value: nil)
        ip.unknownFields.values["valueFrom"] = ["fieldRef": ["fieldPath": "status.podIP"]]
        c.env = [EnvVar(name: "PORT", value: "8080"), ip, EnvVar(name: "URL", value: "http://$(MY_IP):$(PORT)/")]
        c.workingDir = "/tmp"
        let spec = try ContainerLaunch.process(c, pod: Self.pod(c), context: Self.context, isExecutable: { $0 == "/usr/bin/python3" }).get()
        #expect(spec.argv == ["/usr/bin/python3", "-m", "http.server", "8080", "$(PORT)", "$(UNSET)"])
        #expect(spec.environment.contains("URL=http://10.244.1.5:8080/"))
        #expect(spec.environment.contains("KUBERNETES_SERVICE_HOST=10.96.0.1") && spec.environment.contains("KUBERNETES_SERVICE_PORT=443"))
        #expect(spec.environment.contains("HOSTNAME=web-1"))
        #expect(spec.workingDir == "/tmp")
    }

    @Test func launchRefusesWhatItCannotRun() {
        let noCommand = Container(name: "web", image: "nginx")
        #expect(throws: ContainerLaunch.Refusal.self) { try ContainerLaunch.process(noCommand, pod: Self.pod(noCommand), context: Self.context, isExecutable: { _ in true }).get() }
        var missing = Container(name: "web", image: "x")
        missing.command = ["no-such-program"]
        if case .failure(let r) = ContainerLaunch.process(missing, pod: Self.pod(missing), context: Self.context, isExecutable: { _ in false }) {
            #expect(r.reason == "CreateContainerError" && r.message.contains("executable file not found"))
        } else { Issue.record("a missing program must be refused") }
    }

    @Test func probeActionsResolveNamedPortsAndDefaults() {
        var c = Container(name: "web", image: "x")
        var port = ContainerPort(); port.name = "http"; port.containerPort = 8080
        c.ports = [port]
        var probe = Probe()
        probe.httpGet = Probe.HTTPGetAction()
        probe.httpGet?.port = .string("http")
        probe.httpGet?.path = "healthz"
        #expect(ContainerLaunch.probeAction(probe, container: c, podIP: "10.244.1.5")
                == .http(host: "10.244.1.5", port: 8080, path: "/healthz", https: false, headers: []))
        var tcp = Probe()
        tcp.tcpSocket = Probe.TCPSocketAction()
        tcp.tcpSocket?.port = .string("nope")
        #expect(ContainerLaunch.probeAction(tcp, container: c, podIP: "10.244.1.5") == nil)
        tcp.tcpSocket?.port = .int(9000)
        #expect(ContainerLaunch.probeAction(tcp, container: c, podIP: "10.244.1.5") == .tcp(host: "10.244.1.5", port: 9000))
        #expect(ContainerLaunch.probeTiming(Probe()) == ProbeTiming())
    }
}

@Suite("Node API pieces: log tails and the remote-command protocol")
struct NodeAPITests {
    @Test(arguments: [
        ("a\nb\nc\n", nil as Int?, "a\nb\nc\n"), ("a\nb\nc\n", 2, "b\nc\n"), ("a\nb\nc\n", 5, "a\nb\nc\n"),
        ("a\nb\nc", 1, "c"), ("a\nb\nc\n", 0, ""), ("", 3, ""),
    ])
    func tail(text: String, lines: Int?, expected: String) {
        #expect(String(decoding: LogTail.lines(Array(text.utf8), tail: lines), as: UTF8.self) == expected)
    }

    @Test func negotiatesTheNewestProtocolTheClientOffers() {
        #expect(RemoteCommand.negotiate(["v4.channel.k8s.io, v5.channel.k8s.io"]) == "v5.channel.k8s.io")
        #expect(RemoteCommand.negotiate(["channel.k8s.io", "v4.channel.k8s.io"]) == "v4.channel.k8s.io")
        #expect(RemoteCommand.negotiate(["base64.channel.k8s.io"]) == nil)
    }

    @Test func requestQueryParsesRepeatedCommandsAndFlags() {
        let r = RemoteCommand.Request(query: "command=sh&command=-c&command=echo%20a%26b&container=app&stdin=true&stdout=1&tty=false")
        #expect(r.command == ["sh", "-c", "echo a&b"] && r.container == "app")
        #expect(r.stdin && r.stdout && !r.stderr && !r.tty)
        #expect(RemoteCommand.Request(query: r.query).command == r.command)
    }

    @Test func statusMessagesCarryTheExitCodeAsKubectlReadsIt() throws {
        let failed = RemoteCommand.statusMessage(exitCode: 7)
        #expect(failed.first == RemoteCommand.status)
        let json = try KubeJSON.decode(JSONValue.self, from: Data(failed.dropFirst()))
        #expect(json["status"]?.stringValue == "Failure" && json["reason"]?.stringValue == "NonZeroExitCode")
        #expect(json["details"]?["causes"]?.arrayValue?.first?["message"]?.stringValue == "7")
        #expect(try KubeJSON.decode(JSONValue.self, from: Data(RemoteCommand.statusMessage(exitCode: 0).dropFirst()))["status"]?.stringValue == "Success")
        let size = try #require(RemoteCommand.terminalSize(Array(#"{"Width":120,"Height":40}"#.utf8)))
        #expect(size.columns == 120 && size.rows == 40)
        #expect(RemoteCommand.terminalSize(Array("nonsense".utf8)) == nil)
    }
}
