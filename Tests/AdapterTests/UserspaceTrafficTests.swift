import Balancer
import BalancerCore
import Foundation
import KubeAPI
import Logging
import ProxyCore
import ProxyDaemon
import Testing
import TestSupport

/// `--mode userspace` end to end in throwaway namespaces: `ProxySyncer` with the nftables target redirecting
/// Service traffic to the in-process `Balancer`, whose loops live in the node namespace. Same topology as
/// the nftables traffic tests (`ProxyTrafficTests.Cluster`).
@Suite("Userspace traffic", .enabled(if: NetnsSupport.isAvailable, "needs root and ip"), .serialized)
struct UserspaceTrafficTests {
    static let clusterIP = ProxyTrafficTests.clusterIP, udpClusterIP = ProxyTrafficTests.udpClusterIP

    /// A syncer in userspace mode and the balancer behind it (stop it with `drain(timeout: .zero)`).
    struct Proxy {
        let syncer: ProxySyncer
        let listeners: BalancerTarget

        init(_ cluster: ProxyTrafficTests.Cluster, scheduler: SchedulerKind = .roundrobin, health: HealthPolicy = HealthPolicy()) throws {
            var logger = Logger(label: "userspace-traffic-test")
            logger.logLevel = .debug
            let target = try NFTablesTarget(namespace: .named(cluster.node.name))
            var config = BalancerConfig(threads: 2, retry: RetryPolicy(tries: 4, firstTimeout: .milliseconds(250)))
            config.namespacePath = "/var/run/netns/\(cluster.node.name)"
            config.clusterCIDRs = NFTablesApplierTests.config.clusterCIDRs
            listeners = BalancerTarget(balancer: try Balancer(config: config, logger: logger), scheduler: scheduler, health: health)
            let node = NodeInfo(name: NFTablesApplierTests.nodeName, nodeIPs: [NFTablesApplierTests.ip(ProxyTrafficTests.nodeIP)])
            syncer = ProxySyncer(config: NFTablesApplierTests.config, node: node, target: target, conntrack: target,
                                 listeners: listeners, logger: logger)
        }

        func stop() async { await listeners.drain(timeout: .zero) }
    }

    static func answers(_ cluster: ProxyTrafficTests.Cluster, count: Int, port: Int = 80) throws -> [String: Int] {
        var seen: [String: Int] = [:]
        for _ in 0..<count {
            seen[try ProxyTrafficTests.who(from: cluster.node, "http://\(clusterIP):\(port)/who") ?? "failed", default: 0] += 1
        }
        return seen
    }

    static func web(_ addresses: [String], affinity: Int? = nil) -> (Service, EndpointSlice) {
        (NFTablesApplierTests.service("web", [clusterIP], [ProxyTrafficTests.http], affinity: affinity),
         NFTablesApplierTests.slice("web", "1", port: 8080, addresses: addresses))
    }

    @Test(arguments: SchedulerKind.allCases)
    func tcpReachesEveryEndpoint(scheduler: SchedulerKind) async throws {
        let cluster = try ProxyTrafficTests.Cluster()
        defer { cluster.destroy() }
        try cluster.startHTTP("a")
        try cluster.startHTTP("b")
        let proxy = try Proxy(cluster, scheduler: scheduler)
        let (service, slice) = Self.web(["10.244.1.2", "10.244.2.2"])
        try await ProxyTrafficTests.load(proxy.syncer, service, slice, full: true)
        let seen = try Self.answers(cluster, count: 30)
        await proxy.stop()
        #expect(seen["failed"] == nil, "\(seen)")
        if scheduler == .maglev {
            // One client address: consistent hashing sends all of its connections to one endpoint.
            #expect(seen.count == 1, "\(seen)")
        } else {
            #expect(seen["a"] != nil && seen["b"] != nil, "both pods answer: \(seen)")
        }
    }

    @Test func udpFlowsReachEveryEndpointAndStick() async throws {
        let cluster = try ProxyTrafficTests.Cluster()
        defer { cluster.destroy() }
        try cluster.startUDP("a")
        try cluster.startUDP("b")
        let proxy = try Proxy(cluster)
        let dns = ServicePort(name: "dns", protocol: .udp, port: 53, targetPort: 5353)
        let service = NFTablesApplierTests.service("dns", [Self.udpClusterIP], [dns])
        let slice = NFTablesApplierTests.slice("dns", "1", port: 5353, protocol: .udp, name: "dns", addresses: ["10.244.1.2", "10.244.2.2"])
        try await ProxyTrafficTests.load(proxy.syncer, service, slice, full: true)
        var seen: [String: Int] = [:]
        var sticky = true
        let base = 41_000 + Int.random(in: 0..<1000)
        for i in 0..<8 {
            let first = try ProxyTrafficTests.udpAsk(from: cluster.node, Self.udpClusterIP, 53, sourcePort: base + i)
            let again = try ProxyTrafficTests.udpAsk(from: cluster.node, Self.udpClusterIP, 53, sourcePort: base + i)
            seen[first ?? "failed", default: 0] += 1
            if first != again { sticky = false }
        }
        // The removed endpoint gets no more datagrams: the same flow now reaches b.
        try await ProxyTrafficTests.load(proxy.syncer, service,
                                         NFTablesApplierTests.slice("dns", "1", port: 5353, protocol: .udp, name: "dns", addresses: ["10.244.2.2"]),
                                         full: false)
        var afterRemoval: [String: Int] = [:]
        for i in 0..<8 { afterRemoval[try ProxyTrafficTests.udpAsk(from: cluster.node, Self.udpClusterIP, 53, sourcePort: base + i) ?? "failed", default: 0] += 1 }
        await proxy.stop()
        #expect(seen["failed"] == nil && seen["a"] != nil && seen["b"] != nil, "flows spread over both pods: \(seen)")
        #expect(sticky, "a flow sticks to its endpoint")
        #expect(afterRemoval == ["b": 8], "sessions to the removed endpoint are closed: \(afterRemoval)")
    }

    @Test func leastconnSendsNewConnectionsToTheIdleEndpoint() async throws {
        let cluster = try ProxyTrafficTests.Cluster()
        defer { cluster.destroy() }
        try cluster.startHTTP("a")
        try cluster.startHTTP("b")
        let proxy = try Proxy(cluster, scheduler: .leastconn)
        let (service, slice) = Self.web(["10.244.1.2", "10.244.2.2"])
        try await ProxyTrafficTests.load(proxy.syncer, service, slice, full: true)
        // Hold one connection open (connected, nothing sent): its endpoint has one active connection.
        let holder = try Self.holdConnection(cluster, to: Self.clusterIP, port: 80)
        defer { NetnsSupport.stop(holder) }
        let whileHeld = try Self.answers(cluster, count: 10)
        NetnsSupport.stop(holder)
        let drained = try waitUntilBlocking(within: .seconds(10)) { try Self.answers(cluster, count: 4).count == 2 }
        await proxy.stop()
        #expect(whileHeld.count == 1 && whileHeld["failed"] == nil, "every new connection goes to the idle pod: \(whileHeld)")
        #expect(drained, "with the held connection closed both pods get connections again")
    }

    @Test func affinityStickThenExpires() async throws {
        let cluster = try ProxyTrafficTests.Cluster()
        defer { cluster.destroy() }
        try cluster.startHTTP("a")
        try cluster.startHTTP("b")
        let proxy = try Proxy(cluster, scheduler: .roundrobin)
        let (service, slice) = Self.web(["10.244.1.2", "10.244.2.2"], affinity: 2)
        try await ProxyTrafficTests.load(proxy.syncer, service, slice, full: true)
        let sticky = try Self.answers(cluster, count: 10)
        let first = sticky.keys.first ?? ""
        // Round robin would alternate; affinity holds until 2 s pass without a new connection.
        let deadline = Date().addingTimeInterval(2.5)
        while Date() < deadline { usleep(100_000) }
        let moved = try waitUntilBlocking(within: .seconds(8)) { try ProxyTrafficTests.who(from: cluster.node, "http://\(Self.clusterIP)/who") != first }
        await proxy.stop()
        #expect(sticky.count == 1 && sticky["failed"] == nil, "one pod answers while the affinity holds: \(sticky)")
        #expect(moved, "after the timeout the client may go elsewhere")
    }

    @Test func deadEndpointIsSkippedWithoutClientFailures() async throws {
        let cluster = try ProxyTrafficTests.Cluster()
        defer { cluster.destroy() }
        try cluster.startHTTP("a")  // b's namespace exists but nothing listens there: connection refused
        let proxy = try Proxy(cluster)
        let (service, slice) = Self.web(["10.244.1.2", "10.244.2.2"])
        try await ProxyTrafficTests.load(proxy.syncer, service, slice, full: true)
        let seen = try Self.answers(cluster, count: 20)
        let metrics = proxy.listeners.exposition()
        await proxy.stop()
        #expect(seen == ["a": 20], "every request answered by the live pod: \(seen)")
        #expect(metrics.contains(#"kproxy_userspace_endpoint_ejected{service="default/web:http",protocol="tcp",scope="cluster",family="IPv4",endpoint="10.244.2.2:8080"} 1"#),
                "the dead endpoint is ejected: \(metrics)")
    }

    @Test func removedEndpointDrainsItsOpenConnection() async throws {
        let cluster = try ProxyTrafficTests.Cluster()
        defer { cluster.destroy() }
        try Self.startEcho(cluster, "a")
        try Self.startEcho(cluster, "b")
        let proxy = try Proxy(cluster)
        let echo = ServicePort(name: "echo", protocol: .tcp, port: 7, targetPort: 7007)
        let service = NFTablesApplierTests.service("echo", [Self.clusterIP], [echo])
        try await ProxyTrafficTests.load(proxy.syncer, service,
                                         NFTablesApplierTests.slice("echo", "1", port: 7007, name: "echo", addresses: ["10.244.1.2", "10.244.2.2"]),
                                         full: true)
        let flag = NSTemporaryDirectory() + "kp-drain-\(NetnsSupport.uniqueSuffix())"
        defer { try? FileManager.default.removeItem(atPath: flag) }
        // Connect, echo once, wait for the flag file, echo again on the same connection.
        let script = """
        import socket, sys, os, time
        s = socket.create_connection((sys.argv[1], 7), timeout=10)
        s.sendall(b"one\\n"); first = s.recv(64).decode().strip()
        print(first, flush=True)
        deadline = time.time() + 20
        while not os.path.exists(sys.argv[2]) and time.time() < deadline: time.sleep(0.05)
        s.sendall(b"two\\n"); print(s.recv(64).decode().strip(), flush=True)
        """
        let out = Pipe()
        let client = Process()
        client.executableURL = URL(fileURLWithPath: NetnsSupport.ipTool)
        client.arguments = ["netns", "exec", cluster.node.name, "/usr/bin/python3", "-c", script, Self.clusterIP, flag]
        client.standardOutput = out
        client.standardError = FileHandle.nullDevice
        try client.run()
        defer { NetnsSupport.stop(client) }
        let firstLine = Self.readLine(out)
        let owner = firstLine?.split(separator: " ").first.map(String.init) ?? ""
        // Remove the endpoint holding the connection.
        let keep = owner == "a" ? "10.244.2.2" : "10.244.1.2"
        try await ProxyTrafficTests.load(proxy.syncer, service,
                                         NFTablesApplierTests.slice("echo", "1", port: 7007, name: "echo", addresses: [keep]), full: false)
        _ = FileManager.default.createFile(atPath: flag, contents: nil)
        let secondLine = Self.readLine(out)
        client.waitUntilExit()
        await proxy.stop()
        #expect(firstLine?.hasSuffix("one") == true, "first echo: \(firstLine ?? "none")")
        #expect(secondLine == "\(owner) two", "the open connection to the removed endpoint goes on: \(secondLine ?? "none")")
    }

    @Test func nodePortFromAnExternalClient() async throws {
        let cluster = try ProxyTrafficTests.Cluster()
        defer { cluster.destroy() }
        let client = try cluster.addExternalClient()
        try cluster.startHTTP("a")
        let proxy = try Proxy(cluster)
        let port = ServicePort(name: "http", protocol: .tcp, port: 80, targetPort: 8080, nodePort: ProxyTrafficTests.nodePort)
        let service = NFTablesApplierTests.service("np", [Self.clusterIP], [port], type: .nodePort)
        try await ProxyTrafficTests.load(proxy.syncer, service, NFTablesApplierTests.slice("np", "1", port: 8080, addresses: ["10.244.1.2"]), full: true)
        let body = try ProxyTrafficTests.who(from: client, "http://\(ProxyTrafficTests.nodeIP):\(ProxyTrafficTests.nodePort)/who")
        let other = try ProxyTrafficTests.who(from: client, "http://\(ProxyTrafficTests.nodeIP):\(ProxyTrafficTests.nodePort + 1)/who")
        let clusterIP = try ProxyTrafficTests.who(from: client, "http://\(Self.clusterIP)/who")
        let local = try ProxyTrafficTests.who(from: cluster.node, "http://\(Self.clusterIP)/who")
        // tproxy steering needs no conntrack: after all that the node namespace tracks no flow (the
        // nftables mode would track every one).
        let tracked = try NetnsSupport.runChecked(["ip", "netns", "exec", cluster.node.name, "cat", "/proc/sys/net/netfilter/nf_conntrack_count"])
        await proxy.stop()
        #expect(body == "a", "NodePort from the external client reaches the pod through the balancer")
        #expect(other == nil, "another port is not the Service's")
        #expect(clusterIP == "a" && local == "a", "the ClusterIP from outside and from the node itself")
        #expect(tracked.trimmingCharacters(in: .whitespacesAndNewlines) == "0", "conntrack entries in the node namespace: \(tracked)")
    }

    /// `externalTrafficPolicy: Local` keeps the client's address, over TCP and UDP: the balancer connects to
    /// the local endpoint from the external client's address (transparently) and the ruleset brings the
    /// pod's replies back to it. Cluster-policy traffic still comes from the node.
    @Test func localPolicyKeepsTheClientAddress() async throws {
        let cluster = try ProxyTrafficTests.Cluster()
        defer { cluster.destroy() }
        let client = try cluster.addExternalClient()
        let log = NSTemporaryDirectory() + "kp-access-\(NetnsSupport.uniqueSuffix()).log"
        defer { try? FileManager.default.removeItem(atPath: log) }
        try cluster.startHTTP("a", log: log)
        try cluster.startUDP("b", echoPeer: true)
        let proxy = try Proxy(cluster)
        let here = NFTablesApplierTests.nodeName
        func local(_ slice: EndpointSlice) -> EndpointSlice {
            var s = slice
            s.endpoints = s.endpoints.map { var e = $0; e.nodeName = here; return e }
            return s
        }
        let tcpPort = ServicePort(name: "http", protocol: .tcp, port: 80, targetPort: 8080, nodePort: ProxyTrafficTests.nodePort)
        var web = NFTablesApplierTests.service("np", [Self.clusterIP], [tcpPort], type: .nodePort)
        web.spec.externalTrafficPolicy = .local
        try await ProxyTrafficTests.load(proxy.syncer, web, local(NFTablesApplierTests.slice("np", "1", port: 8080, addresses: ["10.244.1.2"])), full: true)
        let udpPort = ServicePort(name: "dns", protocol: .udp, port: 53, targetPort: 5353, nodePort: ProxyTrafficTests.nodePort + 1)
        var dns = NFTablesApplierTests.service("dns", [Self.udpClusterIP], [udpPort], type: .nodePort)
        dns.spec.externalTrafficPolicy = .local
        try await ProxyTrafficTests.load(proxy.syncer, dns, local(NFTablesApplierTests.slice("dns", "1", port: 5353, protocol: .udp, name: "dns",
                                                                                            addresses: ["10.244.2.2"])), full: false)
        let external = try ProxyTrafficTests.who(from: client, "http://\(ProxyTrafficTests.nodeIP):\(ProxyTrafficTests.nodePort)/who")
        let fromNode = try ProxyTrafficTests.who(from: cluster.node, "http://\(Self.clusterIP)/who")
        let udpExternal = try ProxyTrafficTests.udpAsk(from: client, ProxyTrafficTests.nodeIP, ProxyTrafficTests.nodePort + 1, sourcePort: 0)
        let udpInternal = try ProxyTrafficTests.udpAsk(from: cluster.node, Self.udpClusterIP, 53, sourcePort: 0)
        await proxy.stop()
        let access = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        let callers = access.split(separator: "\n").filter { $0.contains("GET /who") }.compactMap { $0.split(separator: " ").first.map(String.init) }
        #expect(external == "a" && fromNode == "a", "both reach the pod: \(String(describing: external)), \(String(describing: fromNode))")
        #expect(callers.suffix(2) == [ProxyTrafficTests.clientIP, "10.244.1.1"],
                "the pod saw the external client, then the node (cluster policy): \(callers)")
        #expect(udpExternal == "b \(ProxyTrafficTests.clientIP)", "UDP from outside keeps the client's address: \(String(describing: udpExternal))")
        #expect(udpInternal == "b 10.244.2.1", "UDP from the node comes from the node: \(String(describing: udpInternal))")
    }

    @Test func serviceWithoutEndpointsIsRefusedAtOnce() async throws {
        let cluster = try ProxyTrafficTests.Cluster()
        defer { cluster.destroy() }
        let proxy = try Proxy(cluster)
        let (service, slice) = Self.web([])
        try await ProxyTrafficTests.load(proxy.syncer, service, slice, full: true)
        let started = Date()
        let result = try NFTablesTrafficTests.fetch(from: cluster.node, "http://\(Self.clusterIP)/who")
        let took = Date().timeIntervalSince(started)
        await proxy.stop()
        #expect(result.status == 7, "refused (curl exit 7), got \(result.status)")
        #expect(took < 2, "refused at once, not timed out (\(took) s)")
    }

    /// Runs `server` (Python, given the pod's address) in pod "a" until it accepts on `targetPort`, then
    /// starts a balancer serving it as Service `name` at ClusterIP:`port`.
    private static func proxyToScript(_ cluster: ProxyTrafficTests.Cluster, _ server: String, name: String, port: Int,
                                      targetPort: Int) async throws -> Proxy {
        let pod = try cluster.pod("a")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: NetnsSupport.ipTool)
        process.arguments = ["netns", "exec", pod.pod.name, "/usr/bin/python3", "-c", server, pod.podAddress]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        cluster.processes.append(process)
        let probe = "import socket,sys; socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=1).close()"
        let up = try waitUntilBlocking(within: .seconds(10)) {
            try cluster.node.execStatus(["/usr/bin/python3", "-c", probe, pod.podAddress, "\(targetPort)"]).status == 0
        }
        try #require(up, "\(name) server did not start")
        let proxy = try Proxy(cluster)
        let servicePort = ServicePort(name: name, protocol: .tcp, port: port, targetPort: .int(targetPort))
        try await ProxyTrafficTests.load(proxy.syncer, NFTablesApplierTests.service(name, [Self.clusterIP], [servicePort]),
                                         NFTablesApplierTests.slice(name, "1", port: targetPort, name: name, addresses: ["10.244.1.2"]), full: true)
        return proxy
    }

    /// 32 MiB up, half-close, 32 MiB down through the balancer: every byte arrives (bulk traffic switches to
    /// splice; the receiver reads slowly at first, so back-pressure holds data in the balancer).
    @Test func bulkTransferBothWaysWithHalfClose() async throws {
        let cluster = try ProxyTrafficTests.Cluster()
        defer { cluster.destroy() }
        let server = """
        import hashlib, socket, sys
        l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); l.bind((sys.argv[1], 7008)); l.listen(8)
        def serve(c):
            h = hashlib.sha256()
            while True:
                b = c.recv(1 << 16)
                if not b: break
                h.update(b)
            c.sendall(h.hexdigest().encode() + b"\\n")
            block = bytes(range(256)) * 4096
            for _ in range(32): c.sendall(block)
        while True:
            c, _ = l.accept()
            try: serve(c)
            except OSError: pass  # the readiness probe leaves at once
            c.close()
        """
        let proxy = try await Self.proxyToScript(cluster, server, name: "bulk", port: 9000, targetPort: 7008)
        let client = """
        import hashlib, os, socket, sys, time
        s = socket.create_connection((sys.argv[1], 9000), timeout=20)
        data = os.urandom(32 << 20); s.sendall(data); s.shutdown(socket.SHUT_WR)
        time.sleep(0.3)  # let the balancer's buffers fill before reading
        got = b""
        while True:
            b = s.recv(1 << 20)
            if not b: break
            got += b
        digest, _, rest = got.partition(b"\\n")
        ok_up = digest.decode() == hashlib.sha256(data).hexdigest()
        ok_down = rest == (bytes(range(256)) * 4096) * 32
        print("up", ok_up, "down", ok_down, len(rest))
        """
        let result = try cluster.node.execStatus(["/usr/bin/python3", "-c", client, Self.clusterIP])
        let counters = proxy.listeners.exposition()
        await proxy.stop()
        #expect(result.stdout.hasPrefix("up True down True 33554432"), "\(result.stdout) \(result.stderr) \(counters)")
        #expect(counters.contains("kproxy_userspace_open_connections 0"), "the relay closed after both directions ended")
    }

    /// A server that speaks first (a banner, as SMTP or MySQL do): its bytes come with the connect's first
    /// edge, before the client sends anything, and reach the client; the client's answer and FIN reach it.
    @Test func serverSpeaksFirst() async throws {
        let cluster = try ProxyTrafficTests.Cluster()
        defer { cluster.destroy() }
        let server = """
        import socket, sys
        l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); l.bind((sys.argv[1], 7009)); l.listen(8)
        while True:
            c, _ = l.accept()
            try:
                c.sendall(b"220 ready\\n")
                got = b""
                while True:
                    b = c.recv(4096)
                    if not b: break
                    got += b
                c.sendall(b"heard " + got)
            except OSError: pass  # the readiness probe leaves at once
            c.close()
        """
        let proxy = try await Self.proxyToScript(cluster, server, name: "banner", port: 9001, targetPort: 7009)
        let client = """
        import socket, sys
        s = socket.create_connection((sys.argv[1], 9001), timeout=5)
        first = b""
        while not first.endswith(b"\\n"): first += s.recv(4096)
        s.sendall(b"hello"); s.shutdown(socket.SHUT_WR)
        rest = b""
        while True:
            b = s.recv(4096)
            if not b: break
            rest += b
        print(repr(first), repr(rest))
        """
        let result = try cluster.node.execStatus(["/usr/bin/python3", "-c", client, Self.clusterIP])
        let counters = proxy.listeners.exposition()
        await proxy.stop()
        #expect(result.stdout.hasPrefix("b'220 ready\\n' b'heard hello'"), "\(result.stdout) \(result.stderr) \(counters)")
        #expect(counters.contains("kproxy_userspace_open_connections 0"), "the relay closed after both directions ended")
    }

    /// Clients that reset their connections mid-request leave nothing behind, and the balancer keeps serving.
    @Test func resetsByClientsLeaveNothingOpen() async throws {
        let cluster = try ProxyTrafficTests.Cluster()
        defer { cluster.destroy() }
        try cluster.startHTTP("a")
        let proxy = try Proxy(cluster)
        let (service, slice) = Self.web(["10.244.1.2"])
        try await ProxyTrafficTests.load(proxy.syncer, service, slice, full: true)
        let script = """
        import socket, struct, sys, threading
        def one():
            for _ in range(20):
                s = socket.create_connection((sys.argv[1], 80), timeout=5)
                s.sendall(b"GET /who HTTP/1.1\\r\\nHost: x\\r\\n")
                s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)); s.close()
        ts = [threading.Thread(target=one) for _ in range(16)]
        [t.start() for t in ts]; [t.join() for t in ts]
        """
        _ = try cluster.node.exec(["/usr/bin/python3", "-c", script, Self.clusterIP])
        let drained = waitUntilBlocking(within: .seconds(10)) { proxy.listeners.exposition().contains("kproxy_userspace_open_connections 0") }
        let after = try ProxyTrafficTests.who(from: cluster.node, "http://\(Self.clusterIP)/who")
        await proxy.stop()
        #expect(drained, "every reset connection was closed")
        #expect(after == "a", "the balancer still serves")
    }

    /// An endpoint that never answers (its pod drops every packet) costs one connect timeout, then the retry
    /// on the other endpoint succeeds: no client failure.
    @Test func unansweredEndpointTimesOutAndTheRetrySucceeds() async throws {
        let cluster = try ProxyTrafficTests.Cluster()
        defer { cluster.destroy() }
        try cluster.startHTTP("a")
        // Inside pod b's own namespace only: drop everything arriving there.
        try cluster.pod("b").pod.exec(["nft", "add table ip blackhole ; add chain ip blackhole in { type filter hook input priority 0 ; policy drop ; }"])
        let proxy = try Proxy(cluster, scheduler: .roundrobin, health: HealthPolicy(consecutiveFailures: 100))
        let (service, slice) = Self.web(["10.244.1.2", "10.244.2.2"])
        try await ProxyTrafficTests.load(proxy.syncer, service, slice, full: true)
        var slowest = 0.0
        var seen: [String: Int] = [:]
        for _ in 0..<4 {
            let started = Date()
            seen[try ProxyTrafficTests.who(from: cluster.node, "http://\(Self.clusterIP)/who") ?? "failed", default: 0] += 1
            slowest = max(slowest, Date().timeIntervalSince(started))
        }
        let metrics = proxy.listeners.exposition()
        await proxy.stop()
        #expect(seen == ["a": 4], "every request answered: \(seen)")
        #expect(slowest >= 0.25, "a request that went to the silent endpoint first waited for the 250 ms connect timeout (\(slowest) s)")
        #expect(metrics.contains("kproxy_userspace_connect_retries_total "), "\(metrics)")
    }

    // MARK: helpers

    /// A TCP echo server on :7007 in pod `name`, prefixing each line with the pod's name.
    static func startEcho(_ cluster: ProxyTrafficTests.Cluster, _ name: String) throws {
        let pod = try cluster.pod(name)
        let script = """
        import socketserver, sys
        class H(socketserver.StreamRequestHandler):
            def handle(self):
                for line in self.rfile:
                    self.wfile.write(sys.argv[2].encode() + b" " + line); self.wfile.flush()
        socketserver.ThreadingTCPServer.allow_reuse_address = True
        socketserver.ThreadingTCPServer((sys.argv[1], 7007), H).serve_forever()
        """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: NetnsSupport.ipTool)
        process.arguments = ["netns", "exec", pod.pod.name, "/usr/bin/python3", "-c", script, pod.podAddress, name]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        cluster.processes.append(process)
        let ready = try waitUntilBlocking(within: .seconds(10)) {
            try cluster.node.execStatus(["/usr/bin/python3", "-c", "import socket,sys; socket.create_connection((sys.argv[1], 7007), timeout=1)", pod.podAddress]).status == 0
        }
        try #require(ready, "echo server in pod \(name) did not start")
    }

    /// A process in the node namespace holding one TCP connection to `address:port` open, once connected.
    static func holdConnection(_ cluster: ProxyTrafficTests.Cluster, to address: String, port: Int) throws -> Process {
        let script = "import socket,sys,time\ns=socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=5)\nprint('connected', flush=True)\ntime.sleep(60)"
        let out = Pipe()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: NetnsSupport.ipTool)
        process.arguments = ["netns", "exec", cluster.node.name, "/usr/bin/python3", "-c", script, address, "\(port)"]
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        guard readLine(out) == "connected" else {
            NetnsSupport.stop(process)
            throw NetnsSupport.CommandFailed(command: "hold connection", status: 1, stderr: "did not connect")
        }
        return process
    }

    /// One line from a pipe (blocking until it comes or the writer closes).
    static func readLine(_ pipe: Pipe) -> String? {
        var bytes: [UInt8] = []
        while true {
            let chunk = pipe.fileHandleForReading.readData(ofLength: 1)
            guard let byte = chunk.first else { break }
            if byte == UInt8(ascii: "\n") { break }
            bytes.append(byte)
        }
        return bytes.isEmpty ? nil : String(decoding: bytes, as: UTF8.self)
    }
}
