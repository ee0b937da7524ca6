import Foundation
import KubeAPI
import Logging
import ProxyCore
import ProxyDaemon
import Testing
import TestSupport

/// Real traffic through `ProxySyncer` + `NFTablesTarget` in throwaway namespaces: a node namespace with the
/// kproxy table, two pod namespaces behind veths (each answering with its own name), and for NodePorts an
/// "external client" namespace. Nothing touches the root namespace.
@Suite("Proxy traffic", .enabled(if: NetnsSupport.isAvailable, "needs root and ip"), .serialized)
struct ProxyTrafficTests {
    static let clusterIP = "10.96.0.30", udpClusterIP = "10.96.0.31", nodeIP = "192.168.77.1", clientIP = "192.168.77.2"
    static let nodePort = 30080

    /// A node namespace with pods `a` (10.244.1.2) and `b` (10.244.2.2), each behind its own veth.
    final class Cluster {
        let node: TestNetns
        let pods: [String: VethPod]
        var processes: [Process] = []
        var extra: [TestNetns] = []
        var directories: [String] = []

        init() throws {
            node = try TestNetns("node")
            var pods: [String: VethPod] = [:]
            do {
                pods["a"] = try VethPod.create(host: node, hostAddress: "10.244.1.1", podAddress: "10.244.1.2", prefix: 24)
                pods["b"] = try VethPod.create(host: node, hostAddress: "10.244.2.1", podAddress: "10.244.2.2", prefix: 24)
                self.pods = pods
                try node.exec(["sysctl", "-q", "-w", "net.ipv4.ip_forward=1"])
                // Service addresses need a route for the output path to pick a source; inside the node only.
                try node.exec(["ip", "route", "add", "10.96.0.0/16", "dev", pods["a"]?.hostInterface ?? "lo"])
            } catch {
                pods.values.forEach { $0.pod.destroy() }
                node.destroy()
                throw error
            }
        }

        func pod(_ name: String) throws -> VethPod { try #require(pods[name]) }

        /// A namespace outside the cluster on the node's segment (`clientIP`, `nodeIP` its gateway).
        func addExternalClient() throws -> TestNetns {
            let client = try VethPod.create(host: node, hostAddress: ProxyTrafficTests.nodeIP, podAddress: ProxyTrafficTests.clientIP, prefix: 24)
            extra.append(client.pod)
            return client.pod
        }

        func destroy() {
            processes.forEach(NetnsSupport.stop)
            extra.forEach { $0.destroy() }
            directories.forEach { try? FileManager.default.removeItem(atPath: $0) }
            pods.values.forEach { $0.pod.destroy() }
            node.destroy()
        }

        /// Serves `GET /who` answering the pod's name, logging requests (with the client address) to `log`.
        func startHTTP(_ name: String, log: String? = nil) throws {
            let pod = try pod(name)
            let dir = NSTemporaryDirectory() + "kp-www-\(NetnsSupport.uniqueSuffix())"
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            directories.append(dir)
            try Data(name.utf8).write(to: URL(fileURLWithPath: dir + "/who"))
            let process = Process()
            process.executableURL = URL(fileURLWithPath: NetnsSupport.ipTool)
            process.arguments = ["netns", "exec", pod.pod.name, "/usr/bin/python3", "-m", "http.server", "8080",
                                 "--bind", pod.podAddress, "--directory", dir]
            process.standardOutput = FileHandle.nullDevice
            if let log {
                _ = FileManager.default.createFile(atPath: log, contents: nil)
                process.standardError = FileHandle(forWritingAtPath: log)
            } else {
                process.standardError = FileHandle.nullDevice
            }
            try process.run()
            processes.append(process)
            let ready = try waitUntilBlocking(within: .seconds(10)) { try who(from: node, "http://\(pod.podAddress):8080/who") == name }
            try #require(ready, "server in pod \(name) did not start")
        }

        /// A UDP server on :5353 answering every datagram with the pod's name (`echoPeer`: the name, a space
        /// and the sender's address).
        func startUDP(_ name: String, echoPeer: Bool = false) throws {
            let pod = try pod(name)
            let script = """
            import socket, sys
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.bind((sys.argv[1], 5353))
            while True:
                data, peer = s.recvfrom(512)
                s.sendto((sys.argv[2] + (" " + peer[0] if sys.argv[3] == "1" else "")).encode(), peer)
            """
            let process = Process()
            process.executableURL = URL(fileURLWithPath: NetnsSupport.ipTool)
            process.arguments = ["netns", "exec", pod.pod.name, "/usr/bin/python3", "-c", script, pod.podAddress, name, echoPeer ? "1" : "0"]
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            processes.append(process)
            let ready = try waitUntilBlocking(within: .seconds(10)) {
                try udpAsk(from: node, pod.podAddress, 5353, sourcePort: 0)?.split(separator: " ").first.map(String.init) == name
            }
            try #require(ready, "UDP server in pod \(name) did not start")
        }
    }

    /// The body of `GET url` from `namespace`, or nil when curl failed.
    static func who(from namespace: TestNetns, _ url: String) throws -> String? {
        let output = try NFTablesTrafficTests.fetch(from: namespace, url)
        return output.status == 0 ? output.stdout : nil
    }

    /// Sends one datagram from `sourcePort` (0: any) and returns the reply, or nil after a timeout.
    static func udpAsk(from namespace: TestNetns, _ address: String, _ port: Int, sourcePort: Int) throws -> String? {
        let script = """
        import socket, sys
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("", int(sys.argv[3])))
        s.settimeout(2)
        s.sendto(b"hello", (sys.argv[1], int(sys.argv[2])))
        print(s.recvfrom(512)[0].decode(), end="")
        """
        let output = try namespace.execStatus(["/usr/bin/python3", "-c", script, address, "\(port)", "\(sourcePort)"])
        return output.status == 0 ? output.stdout : nil
    }

    static func syncer(_ cluster: Cluster, flushConntrack: Bool = true) throws -> ProxySyncer {
        let target = try NFTablesTarget(namespace: .named(cluster.node.name))
        let node = NodeInfo(name: NFTablesApplierTests.nodeName, nodeIPs: [NFTablesApplierTests.ip(nodeIP)])
        return ProxySyncer(config: NFTablesApplierTests.config, node: node, target: target,
                           conntrack: flushConntrack ? target : nil, logger: Logger(label: "proxy-traffic-test"))
    }

    static let http = ServicePort(name: "http", protocol: .tcp, port: 80, targetPort: 8080)

    static func load(_ syncer: ProxySyncer, _ service: Service, _ slice: EndpointSlice, full: Bool) async throws {
        await syncer.setService(service, key: service.key)
        await syncer.setSlice(slice, key: slice.key)
        let result = await syncer.sync(full: full)
        try #require(result.error == nil, "sync failed: \(result.error ?? "")")
        #expect(result.full == full)
    }

    /// Which pods answer `count` requests to the ClusterIP from the node.
    static func answers(_ cluster: Cluster, count: Int) throws -> [String: Int] {
        var seen: [String: Int] = [:]
        for _ in 0..<count {
            seen[try who(from: cluster.node, "http://\(clusterIP):80/who") ?? "failed", default: 0] += 1
        }
        return seen
    }

    @Test(arguments: [true, false])
    func sessionAffinityPinsTheClient(affinity: Bool) async throws {
        let cluster = try Cluster()
        defer { cluster.destroy() }
        try cluster.startHTTP("a")
        try cluster.startHTTP("b")
        let syncer = try Self.syncer(cluster)
        let service = NFTablesApplierTests.service("sticky", [Self.clusterIP], [Self.http], affinity: affinity ? 600 : nil)
        let slice = NFTablesApplierTests.slice("sticky", "1", port: 8080, addresses: ["10.244.1.2", "10.244.2.2"])
        try await Self.load(syncer, service, slice, full: true)

        let seen = try Self.answers(cluster, count: affinity ? 20 : 40)
        #expect(seen["failed"] == nil, "\(seen)")
        if affinity {
            #expect(seen.count == 1, "with ClientIP affinity one pod answers every request: \(seen)")
        } else {
            // 40 random picks between two endpoints all landing on one: probability 2^-39.
            #expect(seen["a"] != nil && seen["b"] != nil, "without affinity both pods answer: \(seen)")
        }
    }

    @Test func nodePortFromAnExternalClientIsMasqueraded() async throws {
        let cluster = try Cluster()
        defer { cluster.destroy() }
        let client = try cluster.addExternalClient()
        let log = NSTemporaryDirectory() + "kp-np-\(NetnsSupport.uniqueSuffix()).log"
        defer { try? FileManager.default.removeItem(atPath: log) }
        try cluster.startHTTP("a", log: log)
        let syncer = try Self.syncer(cluster)
        let port = ServicePort(name: "http", protocol: .tcp, port: 80, targetPort: 8080, nodePort: Self.nodePort)
        let service = NFTablesApplierTests.service("np", [Self.clusterIP], [port], type: .nodePort)
        let slice = NFTablesApplierTests.slice("np", "1", port: 8080, addresses: ["10.244.1.2"])
        try await Self.load(syncer, service, slice, full: true)

        let body = try Self.who(from: client, "http://\(Self.nodeIP):\(Self.nodePort)/who")
        #expect(body == "a", "NodePort from the external client reaches the pod")
        // The pod saw the node as the client (masquerade), so its reply went back through the node.
        let requests = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        let fromNode = requests.split(separator: "\n").filter { $0.contains("GET /who") && $0.hasPrefix("10.244.1.1 ") }
        #expect(!fromNode.isEmpty, "pod log: \(requests)")
        #expect(!requests.contains(Self.clientIP), "the client address must be masqueraded: \(requests)")
        // An unused port on the node is not forwarded anywhere.
        #expect(try Self.who(from: client, "http://\(Self.nodeIP):\(Self.nodePort + 1)/who") == nil)
    }

    @Test func externalIPFromAnExternalClientReachesThePod() async throws {
        let cluster = try Cluster()
        defer { cluster.destroy() }
        let client = try cluster.addExternalClient()
        // The external client routes the externalIP to the node, as an upstream router would.
        let externalIP = "203.0.113.10"
        try client.exec(["ip", "route", "add", "\(externalIP)/32", "via", Self.nodeIP])
        let log = NSTemporaryDirectory() + "kp-eip-\(NetnsSupport.uniqueSuffix()).log"
        defer { try? FileManager.default.removeItem(atPath: log) }
        try cluster.startHTTP("a", log: log)
        let syncer = try Self.syncer(cluster)
        var service = NFTablesApplierTests.service("eip", [Self.clusterIP], [Self.http])
        service.spec.externalIPs = [externalIP]
        try await Self.load(syncer, service, NFTablesApplierTests.slice("eip", "1", port: 8080, addresses: ["10.244.1.2"]), full: true)

        #expect(try Self.who(from: client, "http://\(externalIP)/who") == "a", "externalIP from the external client reaches the pod")
        let requests = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        #expect(!requests.contains(Self.clientIP), "external traffic (policy Cluster) is masqueraded: \(requests)")
        // Another port on the externalIP is not the Service's.
        #expect(try Self.who(from: client, "http://\(externalIP):81/who") == nil)
    }

    /// The ip6 table: an IPv6 ClusterIP is DNAT-ed to an IPv6 pod, and a port it does not serve is rejected.
    @Test func ipv6ClusterIPReachesThePod() async throws {
        let cluster = try Cluster()
        defer { cluster.destroy() }
        let pod = try VethPod.create(host: cluster.node, hostAddress: "fd00:244:9::1", podAddress: "fd00:244:9::2", prefix: 64)
        cluster.extra.append(pod.pod)
        try cluster.node.exec(["sysctl", "-q", "-w", "net.ipv6.conf.all.forwarding=1"])
        try cluster.node.exec(["ip", "-6", "route", "add", "fd00:96::/112", "dev", pod.hostInterface])
        // The server can bind its address only once duplicate address detection has passed.
        let settled = try waitUntilBlocking(within: .seconds(10)) {
            let podTentative = try pod.pod.exec(["ip", "-6", "addr", "show", "tentative"])
            let nodeTentative = try cluster.node.exec(["ip", "-6", "addr", "show", "tentative"])
            return !podTentative.contains("fd00:244:9::2") && !nodeTentative.contains("fd00:244:9::1")
        }
        try #require(settled, "IPv6 addresses stayed tentative")
        let dir = NSTemporaryDirectory() + "kp-www6-\(NetnsSupport.uniqueSuffix())"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        cluster.directories.append(dir)
        try Data("v6".utf8).write(to: URL(fileURLWithPath: dir + "/who"))
        let server = Process()
        server.executableURL = URL(fileURLWithPath: NetnsSupport.ipTool)
        server.arguments = ["netns", "exec", pod.pod.name, "/usr/bin/python3", "-m", "http.server", "8080",
                            "--bind", "fd00:244:9::2", "--directory", dir]
        server.standardOutput = FileHandle.nullDevice
        server.standardError = FileHandle.nullDevice
        try server.run()
        cluster.processes.append(server)
        let ready = try waitUntilBlocking(within: .seconds(15)) { try Self.who(from: cluster.node, "http://[fd00:244:9::2]:8080/who") == "v6" }
        try #require(ready, "IPv6 server did not start")

        let syncer = try Self.syncer(cluster)
        let service = NFTablesApplierTests.service("web6", ["fd00:96::30"], [Self.http])
        try await Self.load(syncer, service, NFTablesApplierTests.slice("web6", "v6", family: .ipv6, port: 8080, addresses: ["fd00:244:9::2"]),
                            full: true)
        #expect(try Self.who(from: cluster.node, "http://[fd00:96::30]/who") == "v6", "IPv6 ClusterIP reaches the pod")
        let refused = try NFTablesTrafficTests.fetch(from: cluster.node, "http://[fd00:96::30]:81/who")
        #expect(refused.status == 7, "an undefined port on a live IPv6 ClusterIP is rejected at once (curl: \(refused.status))")
    }

    /// A pod reaching itself through its Service: without the hairpin masquerade the reply would come from
    /// its own address and the connection would never complete.
    @Test func podReachesItselfThroughItsService() async throws {
        let cluster = try Cluster()
        defer { cluster.destroy() }
        let log = NSTemporaryDirectory() + "kp-hairpin-\(NetnsSupport.uniqueSuffix()).log"
        defer { try? FileManager.default.removeItem(atPath: log) }
        try cluster.startHTTP("a", log: log)
        let syncer = try Self.syncer(cluster)
        let service = NFTablesApplierTests.service("self", [Self.clusterIP], [Self.http])
        // The pod runs on this node, as its endpoint says: only this node's endpoints can hairpin here.
        try await Self.load(syncer, service, NFTablesApplierTests.slice("self", "1", port: 8080, addresses: ["10.244.1.2"],
                                                                        nodeName: NFTablesApplierTests.nodeName), full: true)

        let pod = try cluster.pod("a")
        #expect(try Self.who(from: pod.pod, "http://\(Self.clusterIP)/who") == "a", "the pod reaches itself through the ClusterIP")
        let requests = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        let hairpinned = requests.split(separator: "\n").filter { $0.contains("GET /who") && $0.hasPrefix("10.244.1.1 ") }
        #expect(!hairpinned.isEmpty, "the hairpin request arrives from the node's address: \(requests)")
    }

    @Test func removedEndpointIsAvoidedAfterAPartialSync() async throws {
        let cluster = try Cluster()
        defer { cluster.destroy() }
        try cluster.startHTTP("a")
        try cluster.startHTTP("b")
        let syncer = try Self.syncer(cluster)
        let service = NFTablesApplierTests.service("web", [Self.clusterIP], [Self.http])
        try await Self.load(syncer, service, NFTablesApplierTests.slice("web", "1", port: 8080, addresses: ["10.244.1.2", "10.244.2.2"]),
                            full: true)
        let before = try Self.answers(cluster, count: 40)
        #expect(before["a"] != nil && before["b"] != nil, "both pods answer at first: \(before)")

        try await Self.load(syncer, service, NFTablesApplierTests.slice("web", "1", port: 8080, addresses: ["10.244.1.2"]), full: false)
        let after = try Self.answers(cluster, count: 20)
        #expect(after == ["a": 20], "only the remaining pod answers after the partial sync: \(after)")
    }

    /// A UDP flow DNAT-ed to pod a stays pinned there by conntrack unless the sync deletes the entry; with
    /// cleanup the next datagram from the same source port reaches pod b.
    @Test(arguments: [true, false])
    func staleUDPConntrackIsCleared(flush: Bool) async throws {
        let cluster = try Cluster()
        defer { cluster.destroy() }
        try cluster.startUDP("a")
        try cluster.startUDP("b")
        let syncer = try Self.syncer(cluster, flushConntrack: flush)
        let dns = ServicePort(name: "dns", protocol: .udp, port: 53, targetPort: 5353)
        let service = NFTablesApplierTests.service("dns", [Self.udpClusterIP], [dns])
        func slice(_ address: String) -> EndpointSlice {
            NFTablesApplierTests.slice("dns", "1", port: 5353, protocol: .udp, name: "dns", addresses: [address])
        }
        try await Self.load(syncer, service, slice("10.244.1.2"), full: true)
        let sourcePort = 40_000 + Int.random(in: 0..<1000)
        #expect(try Self.udpAsk(from: cluster.node, Self.udpClusterIP, 53, sourcePort: sourcePort) == "a")

        try await Self.load(syncer, service, slice("10.244.2.2"), full: false)
        let next = try Self.udpAsk(from: cluster.node, Self.udpClusterIP, 53, sourcePort: sourcePort)
        // Pod a is still up: without the cleanup the old conntrack entry keeps sending the flow there.
        #expect(next == (flush ? "b" : "a"), "same source port after replacing the endpoint answered \(next ?? "nothing")")
        // A fresh flow goes to the new endpoint either way.
        #expect(try Self.udpAsk(from: cluster.node, Self.udpClusterIP, 53, sourcePort: sourcePort + 1000) == "b")
    }
}
