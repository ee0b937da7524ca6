import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Testing
import TestSupport

/// `kproxy dns` end to end inside a network namespace the test creates (loopback only, no route out):
/// `kproxy controlplane`, a dnsmasq upstream and `kproxy dns` all run there, Services are created with
/// kubectl, and `dig` (run with `ip netns exec`) queries the server over UDP and TCP, including names
/// forwarded to the upstream.
/// Processes go through ChildProcess (posix_spawn and waitpid): Foundation's Process can miss a child's
/// exit inside the test runner.
@Suite(.serialized) struct DNSNetnsTests {
    static let upstreamAddress = "127.0.0.2", upstreamPort = "5353"

    /// Starts `args` inside `ns` in the background, output appended to `log`.
    static func start(_ ns: TestNetns, _ args: [String], log: String) throws -> ChildProcess {
        let fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        defer { if fd >= 0 { close(fd) } }
        return try ChildProcess.spawn(NetnsSupport.ipTool, ["netns", "exec", ns.name] + args, outputFD: fd)
    }

    /// Runs `args` inside `ns` to completion; stdout and stderr together.
    static func output(_ ns: TestNetns, _ args: [String]) throws -> String {
        try ChildProcess.output(NetnsSupport.ipTool, ["netns", "exec", ns.name] + args)
    }

    @Test(.enabled(if: NetnsSupport.isAvailable)) func digInsideANamespace() throws {
        let binary = try #require(ProxyDaemonE2ETests.binary, "kproxy binary not built")
        let dnsmasq = try #require(which("dnsmasq"), "dnsmasq missing: run hack/install-deps.sh")
        try #require(which("dig") != nil, "dig missing: run hack/install-deps.sh")
        let dir = NSTemporaryDirectory() + "kproxy-dns-\(NetnsSupport.uniqueSuffix())"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let ns = try TestNetns("dns")
        defer { ns.destroy() }

        let upstream = try Self.start(ns, [
            dnsmasq, "--keep-in-foreground", "--no-resolv", "--no-hosts", "--conf-file=/dev/null", "--bind-interfaces",
            "--listen-address=\(Self.upstreamAddress)", "--port=\(Self.upstreamPort)", "--user=root", "--pid-file=",
            "--address=/example.test/192.0.2.1",
        ], log: dir + "/dnsmasq.log")
        defer { upstream.stop() }
        let controlPlane = try Self.start(ns, [binary, "controlplane", "--data-dir", dir + "/data", "--listen",
                                                              "127.0.0.1:6443", "--write-kubeconfig", dir + "/kubeconfig"],
                                                         log: dir + "/controlplane.log")
        defer { controlPlane.stop() }
        let kubectl = { (args: [String]) throws -> String in
            try Self.output(ns, ["kubectl", "--kubeconfig", dir + "/kubeconfig", "--cache-dir", dir + "/cache"] + args)
        }
        #expect(try waitUntilBlocking(within: .seconds(30)) { try kubectl(["get", "--raw", "/readyz"]) == "ok" }, "control plane up")
        let service = """
            {"apiVersion":"v1","kind":"Service","metadata":{"name":"web","namespace":"default"},
             "spec":{"ports":[{"name":"http","port":80,"protocol":"TCP"}]}}
            """
        try service.write(toFile: dir + "/web.json", atomically: true, encoding: .utf8)
        let created = try kubectl(["create", "--validate=false", "-f", dir + "/web.json"])
        try #require(created.contains("created"), "\(created)")
        let clusterIP = try kubectl(["get", "service", "web", "-o", "jsonpath={.spec.clusterIP}"])
        #expect(clusterIP.hasPrefix("10."), "ClusterIP allocated: \(clusterIP)")

        let server = try Self.start(ns, [binary, "dns", "--kubeconfig", dir + "/kubeconfig", "--listen", "127.0.0.1:53",
                                                        "--upstream", "\(Self.upstreamAddress):\(Self.upstreamPort)",
                                                        "--metrics-bind-address", "127.0.0.1:9153", "--threads", "2"],
                                                   log: dir + "/dns.log")
        defer { server.stop() }
        func dig(_ args: String...) throws -> String {
            try Self.output(ns, ["dig", "@127.0.0.1", "-p", "53", "+tries=1", "+time=2"] + args)
        }
        func short(_ args: String...) throws -> [String] {
            try Self.output(ns, ["dig", "@127.0.0.1", "-p", "53", "+tries=1", "+time=2", "+short"] + args)
                .split(separator: "\n").map(String.init).sorted()
        }
        // SERVFAIL until the caches have synced, then the Service's record.
        let answered = try waitUntilBlocking(within: .seconds(20)) { try short("web.default.svc.cluster.local", "A") == [clusterIP] }
        #expect(answered, "kproxy dns answers web.default.svc.cluster.local with \(clusterIP)")
        #expect(try short("+tcp", "WEB.default.svc.cluster.local", "A") == [clusterIP])
        #expect(try short("_http._tcp.web.default.svc.cluster.local", "SRV") == ["0 100 80 web.default.svc.cluster.local."])
        #expect(try short("-x", clusterIP) == ["web.default.svc.cluster.local."])
        let nx = try dig("+tcp", "nope.default.svc.cluster.local", "A")
        #expect(nx.contains("status: NXDOMAIN") && nx.contains(" aa "), "\(nx)")
        // Live data: a new Service is served without restarting the server.
        try service.replacingOccurrences(of: "\"web\"", with: "\"api\"").write(toFile: dir + "/api.json", atomically: true, encoding: .utf8)
        #expect(try kubectl(["create", "--validate=false", "-f", dir + "/api.json"]).contains("created"))
        #expect(try waitUntilBlocking(within: .seconds(20)) { try short("api.default.svc.cluster.local", "A").count == 1 }, "new Service served")
        // Out-of-zone names go to the dnsmasq upstream in the same namespace, over UDP and TCP.
        #expect(try short("www.example.test", "A") == ["192.0.2.1"])
        #expect(try short("+tcp", "other.example.test", "A") == ["192.0.2.1"])
        let metrics = try Self.output(ns, ["curl", "--silent", "http://127.0.0.1:9153/metrics"])
        #expect(metrics.contains("coredns_dns_requests_total"))
    }
}
