import Foundation
import KubeAPI
import NFTables
import ProxyCore
import Testing
import TestSupport
import Values

/// Real traffic through the applied ruleset: a "node" namespace holding the kproxy table and a "pod"
/// namespace behind a veth running a small HTTP server. Nothing leaves the test namespaces.
@Suite("NFTables traffic", .enabled(if: NetnsSupport.isAvailable, "needs root and ip"), .serialized)
struct NFTablesTrafficTests {
    static let podIP = "10.244.1.2"
    static let hostIP = "10.244.1.1"

    static func state(endpoints: [String]) -> ProxyState {
        let http = ServicePort(name: "http", protocol: .tcp, port: 80, targetPort: 8080)
        let services = [
            NFTablesApplierTests.service("web", ["10.96.0.10"], [http]),
            NFTablesApplierTests.service("empty", ["10.96.0.11"], [http]),
        ]
        let slices = [
            NFTablesApplierTests.slice("web", "1", port: 8080, addresses: endpoints),
            NFTablesApplierTests.slice("empty", "1", port: 8080, addresses: []),
        ]
        return ProxyState(services: services, endpointSlices: slices)
    }

    /// Starts `python3 -m http.server` in the pod; the caller terminates it.
    static func startServer(in pod: TestNetns, address: String, port: Int) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: NetnsSupport.ipTool)
        process.arguments = ["netns", "exec", pod.name, "/usr/bin/python3", "-m", "http.server", "\(port)", "--bind", address]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        return process
    }

    /// `curl` from the node; returns its exit status (0 success, 7 refused, 28 timeout) and body.
    static func fetch(from node: TestNetns, _ url: String) throws -> NetnsSupport.Output {
        try node.execStatus(["curl", "--noproxy", "*", "--silent", "--max-time", "3", url])
    }

    /// Waits until the pod's server answers directly, up to a deadline.
    static func waitForServer(_ node: TestNetns, _ url: String) throws -> Bool {
        try waitUntilBlocking(within: .seconds(10)) { try fetch(from: node, url).status == 0 }
    }

    @Test func clusterIPReachesThePodAndEmptyServiceIsRejected() throws {
        let node = try TestNetns("node")
        defer { node.destroy() }
        let pod = try VethPod.create(host: node, hostAddress: Self.hostIP, podAddress: Self.podIP, prefix: 24)
        defer { pod.pod.destroy() }
        // The service CIDR is routed toward the pod network inside the node namespace only.
        try node.exec(["ip", "route", "add", "10.96.0.0/16", "dev", pod.hostInterface])
        try node.exec(["sysctl", "-q", "-w", "net.ipv4.ip_forward=1"])
        let server = try Self.startServer(in: pod.pod, address: Self.podIP, port: 8080)
        defer { NetnsSupport.stop(server) }
        try #require(try Self.waitForServer(node, "http://\(Self.podIP):8080/"), "pod server did not start")

        let applier = try NetlinkRulesetApplier(namespace: .named(node.name))
        let ruleset = NFTablesApplierTests.compile(Self.state(endpoints: [Self.podIP]))
        try applier.applyFull(ruleset)

        let viaService = try Self.fetch(from: node, "http://10.96.0.10:80/")
        #expect(viaService.status == 0, "curl to ClusterIP exited \(viaService.status): \(viaService.stderr)")
        #expect(viaService.stdout.contains("Directory listing"), "\(viaService.stdout.prefix(200))")

        // A ClusterIP without endpoints is rejected at once (connection refused, not a timeout).
        let started = Date()
        let empty = try Self.fetch(from: node, "http://10.96.0.11:80/")
        #expect(empty.status == 7, "expected connection refused, curl exited \(empty.status)")
        #expect(Date().timeIntervalSince(started) < 2)

        // Removing the endpoint by a partial sync: the service now rejects too.
        let without = NFTablesApplierTests.compile(Self.state(endpoints: []))
        try applier.apply(RulesetDiff.partialSync(from: ruleset, to: without))
        #expect(try Self.fetch(from: node, "http://10.96.0.10:80/").status == 7)
    }
}
