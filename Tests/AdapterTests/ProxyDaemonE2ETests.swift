import Foundation
import Testing
import TestSupport

/// The whole node path in network namespaces: `kproxy controlplane` and `kproxy proxy` run in a node
/// namespace, a pod namespace serves HTTP; a Service created with kubectl becomes reachable on its
/// ClusterIP once the EndpointSlice controller and the proxy have done their parts, and unreachable
/// (refused) when its only pod goes.
@Suite(.serialized) struct ProxyDaemonE2ETests {
    static let hostIP = "10.244.7.1", podIP = "10.244.7.10", clusterIP = "10.96.0.50"

    static var binary: String? {
        if let p = ProcessInfo.processInfo.environment["KPROXY_BIN"], FileManager.default.isExecutableFile(atPath: p) { return p }
        let candidate = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../.build/debug/kproxy").standardized.path
        return FileManager.default.isExecutableFile(atPath: candidate) ? candidate : nil
    }

    static func start(_ node: TestNetns, _ arguments: [String], log: String) throws -> Process {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: NetnsSupport.ipTool)
        p.arguments = ["netns", "exec", node.name] + arguments
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        let handle = FileHandle(forWritingAtPath: log)
        p.standardOutput = handle
        p.standardError = handle
        try p.run()
        return p
    }

    @Test(.enabled(if: NetnsSupport.isAvailable), arguments: ["nftables", "userspace"])
    func serviceTrafficFollowsTheAPI(mode: String) throws {
        let binary = try #require(Self.binary, "kproxy binary not built")
        let dir = NSTemporaryDirectory() + "kproxy-e2e-\(NetnsSupport.uniqueSuffix())"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let node = try TestNetns("node")
        defer { node.destroy() }
        let pod = try VethPod.create(host: node, hostAddress: Self.hostIP, podAddress: Self.podIP, prefix: 24)
        defer { pod.pod.destroy() }
        try node.exec(["sysctl", "-q", "-w", "net.ipv4.ip_forward=1"])
        // Service addresses need a route to be sent anywhere (the DNAT happens in output); inside the node only.
        try node.exec(["ip", "route", "add", "10.96.0.0/12", "dev", pod.hostInterface])

        let server = try NFTablesTrafficTests.startServer(in: pod.pod, address: Self.podIP, port: 8080)
        defer { NetnsSupport.stop(server) }
        let controlPlane = try Self.start(node, [binary, "controlplane", "--data-dir", dir + "/data", "--listen", "127.0.0.1:6443",
                                                "--write-kubeconfig", dir + "/kubeconfig"], log: dir + "/controlplane.log")
        defer { NetnsSupport.stop(controlPlane) }
        let kubectl = { (args: [String], input: String?) throws -> NetnsSupport.Output in
            try NetnsSupport.run([NetnsSupport.ipTool, "netns", "exec", node.name, "kubectl", "--kubeconfig", dir + "/kubeconfig",
                                  "--cache-dir", dir + "/cache"] + args, input: input)
        }
        #expect(try waitUntilBlocking(within: .seconds(20)) { try kubectl(["get", "--raw", "/readyz"], nil).status == 0 }, "control plane up")

        let objects = [
            #"{"apiVersion":"v1","kind":"Node","metadata":{"name":"node-a"},"status":{"addresses":[{"type":"InternalIP","address":"\#(Self.hostIP)"}]}}"#,
            #"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"web-1","namespace":"default","labels":{"app":"web"}},"spec":{"nodeName":"node-a","containers":[{"name":"web","image":"python","ports":[{"name":"http","containerPort":8080}]}]}}"#,
            #"{"apiVersion":"v1","kind":"Service","metadata":{"name":"web","namespace":"default"},"spec":{"clusterIP":"\#(Self.clusterIP)","selector":{"app":"web"},"ports":[{"name":"http","port":80,"targetPort":"http"}]}}"#,
        ]
        for object in objects {
            let applied = try kubectl(["apply", "-f", "-"], object)
            #expect(applied.status == 0, "\(applied.stderr)")
        }
        let status = #"{"status":{"phase":"Running","podIP":"\#(Self.podIP)","podIPs":[{"ip":"\#(Self.podIP)"}],"conditions":[{"type":"Ready","status":"True"}]}}"#
        let patched = try kubectl(["patch", "pod", "web-1", "--subresource=status", "--type=merge", "-p", status], nil)
        #expect(patched.status == 0, "\(patched.stderr)")

        let proxyArguments = [binary, "proxy", "--kubeconfig", dir + "/kubeconfig", "--node", "node-a", "--mode", mode,
                              "--cluster-cidr", "10.244.0.0/16", "--service-cidr", "10.96.0.0/12"]
        let proxy = try Self.start(node, proxyArguments, log: dir + "/proxy.log")
        defer {
            NetnsSupport.stop(proxy)
            _ = try? node.execStatus(["nft", "delete", "table", "ip", "kproxy"])
        }
        let url = "http://\(Self.clusterIP):80/"
        let reached = try waitUntilBlocking(within: .seconds(20)) { try NFTablesTrafficTests.fetch(from: node, url).status == 0 }
        #expect(reached, "ClusterIP reaches the pod; proxy log: \((try? String(contentsOfFile: dir + "/proxy.log", encoding: .utf8))?.suffix(2000) ?? "")")

        // The proxy records its start on its Node, as kube-proxy does.
        let started = try waitUntilBlocking(within: .seconds(20)) {
            try kubectl(["get", "events", "-n", "default", "--field-selector", "involvedObject.kind=Node,involvedObject.name=node-a,reason=Starting",
                         "-o", "jsonpath={.items[*].source.component}"], nil).stdout.contains("kproxy-proxy")
        }
        #expect(started, "a Starting event on node-a")

        // Metrics and health as kube-proxy serves them.
        let metrics = try node.execStatus(["curl", "--silent", "http://127.0.0.1:10249/metrics"])
        #expect(metrics.stdout.contains("kubeproxy_sync_proxy_rules_last_timestamp_seconds"))
        #expect(metrics.stdout.contains("kubeproxy_sync_full_proxy_rules_duration_seconds"))
        let healthz = try node.execStatus(["curl", "--silent", "--fail", "http://127.0.0.1:10256/healthz"])
        #expect(healthz.status == 0 && healthz.stdout.contains("lastUpdated"), "\(healthz.stdout)")

        if mode == "nftables" {
            // Restarting the proxy drops nothing: the rules stay in the kernel while it is down, and the new
            // process adopts the table (a full sync without flushing it) instead of rebuilding it from empty.
            NetnsSupport.stop(proxy)
            #expect(try NFTablesTrafficTests.fetch(from: node, url).status == 0, "traffic flows while the proxy is down")
        }
        // Userspace mode: a replacement starts while the old proxy serves, joins its listeners (same ports,
        // SO_REUSEPORT), and the old one is then told to stop (SIGTERM: it closes its listeners and drains).
        let restarted = try Self.start(node, proxyArguments + ["--metrics-bind-address", "127.0.0.1:10259",
                                                               "--healthz-bind-address", "127.0.0.1:10266"], log: dir + "/proxy2.log")
        defer { NetnsSupport.stop(restarted) }
        var failures = 0
        let synced = try waitUntilBlocking(within: .seconds(20)) {
            if try NFTablesTrafficTests.fetch(from: node, url).status != 0 { failures += 1 }
            let m = try node.execStatus(["curl", "--silent", "http://127.0.0.1:10259/metrics"]).stdout
            return m.contains("kubeproxy_sync_full_proxy_rules_duration_seconds_count 1")
        }
        #expect(synced, "the restarted proxy synced")
        if mode == "userspace" {
            kill(proxy.processIdentifier, SIGTERM)
            let exited = try waitUntilBlocking(within: .seconds(20)) {
                if try NFTablesTrafficTests.fetch(from: node, url).status != 0 { failures += 1 }
                return !proxy.isRunning
            }
            #expect(exited, "the old proxy exits on SIGTERM once drained")
            let m = try node.execStatus(["curl", "--silent", "http://127.0.0.1:10259/metrics"]).stdout
            #expect(m.contains("kproxy_userspace_endpoint_connections_total{"), "per-endpoint metrics: \(m.suffix(1500))")
        }
        #expect(failures == 0, "\(failures) requests failed across the restart")
        #expect(try NFTablesTrafficTests.fetch(from: node, url).status == 0)

        // The pod goes: the Service has no endpoints and is refused at once.
        let deleted = try kubectl(["delete", "pod", "web-1", "--grace-period=0", "--force"], nil)
        #expect(deleted.status == 0, "\(deleted.stderr)")
        let refused = try waitUntilBlocking(within: .seconds(20)) { try NFTablesTrafficTests.fetch(from: node, url).status == 7 }
        #expect(refused, "an empty Service is refused")
    }
}
