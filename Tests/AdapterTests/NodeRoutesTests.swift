import Foundation
import KubeAPI
import Netlink
import ProxyCore
import ProxyDaemon
import Testing
import TestSupport
import Values

/// Host-gw node routes programmed through netlink in a throwaway "node" namespace linked by a veth
/// to a "peer node" namespace (192.0.2.0/24, fd00:192::/64); nothing touches the root namespace.
@Suite(.serialized, .enabled(if: NetnsSupport.isAvailable, "needs root and ip"))
struct NodeRoutesTests {
    private func peer(_ name: String, _ cidrs: [String], _ ips: [String]) -> Node {
        Node(metadata: ObjectMeta(name: name), spec: NodeSpec(podCIDRs: cidrs),
             status: NodeStatus(addresses: ips.map { NodeAddress(type: .internalIP, address: $0) }))
    }

    /// `ip route` lines (family `-4`/`-6`) in the node namespace, trimmed.
    private func routes(_ node: TestNetns, _ family: String = "-4", proto: String? = nil) throws -> [String] {
        var args = ["ip", family, "route", "show", "table", "main"]
        if let proto { args += ["proto", proto] }
        return try node.exec(args).split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
    }

    @Test func routesFollowNodes() throws {
        let node = try TestNetns("node")
        defer { node.destroy() }
        let peerNode = try TestNetns("peer")
        defer { peerNode.destroy() }
        let suffix = NetnsSupport.uniqueSuffix(5)
        let here = "kpn\(suffix)", there = "kpq\(suffix)"
        try node.exec(["ip", "link", "add", here, "type", "veth", "peer", "name", there, "netns", peerNode.name])
        try node.exec(["ip", "addr", "add", "192.0.2.1/24", "dev", here])
        try node.exec(["ip", "addr", "add", "fd00:192::1/64", "dev", here, "nodad"])
        try node.exec(["ip", "link", "set", here, "up"])
        try peerNode.exec(["ip", "addr", "add", "192.0.2.2/24", "dev", there])
        try peerNode.exec(["ip", "addr", "add", "192.0.2.3/24", "dev", there])
        try peerNode.exec(["ip", "link", "set", there, "up"])
        // A route that is not ours, to a CIDR a Node will claim later: it must survive everything.
        try node.exec(["ip", "route", "add", "10.244.9.0/24", "via", "192.0.2.2", "proto", "static"])
        let path = "/var/run/netns/\(node.name)"
        let me = peer("me", ["10.244.0.0/24"], ["192.0.2.1"])

        // Two peers (one dual-stack) → three routes of ours.
        var nodes = [me, peer("b", ["10.244.1.0/24", "fd00:244:1::/64"], ["192.0.2.2", "fd00:192::2"]),
                     peer("c", ["10.244.2.0/24"], ["192.0.2.3"])]
        var plan = try NodeRouteSync.apply(nodes: nodes, localNodeName: "me", namespacePath: path)
        #expect(plan.add.count == 3)
        var ours = try routes(node, proto: "75")
        #expect(ours.contains { $0.hasPrefix("10.244.1.0/24 via 192.0.2.2 dev \(here)") })
        #expect(ours.contains { $0.hasPrefix("10.244.2.0/24 via 192.0.2.3 dev \(here)") })
        #expect(ours.count == 2)
        #expect(try routes(node, "-6", proto: "75").contains { $0.hasPrefix("fd00:244:1::/64 via fd00:192::2 dev \(here)") })

        // In step: nothing to do.
        plan = try NodeRouteSync.apply(nodes: nodes, localNodeName: "me", namespacePath: path)
        #expect(plan.isEmpty)

        // c moves to another InternalIP → replaced; b loses its IPv6 CIDR → deleted.
        nodes = [me, peer("b", ["10.244.1.0/24"], ["192.0.2.2", "fd00:192::2"]), peer("c", ["10.244.2.0/24"], ["192.0.2.2"])]
        plan = try NodeRouteSync.apply(nodes: nodes, localNodeName: "me", namespacePath: path)
        #expect(plan.replace.map(\.description) == ["10.244.2.0/24 via 192.0.2.2"])
        #expect(plan.delete.map(\.description) == ["fd00:244:1::/64 via fd00:192::2"])
        ours = try routes(node, proto: "75")
        #expect(ours.contains { $0.hasPrefix("10.244.2.0/24 via 192.0.2.2 dev \(here)") })
        #expect(!ours.contains { $0.hasPrefix("10.244.2.0/24 via 192.0.2.3") })
        #expect(try routes(node, "-6", proto: "75").isEmpty)

        // A Node claiming the foreign route's CIDR: the add fails (exists) and the foreign route stays.
        nodes.append(peer("d", ["10.244.9.0/24"], ["192.0.2.3"]))
        #expect(throws: NodeRouteError.self) { try NodeRouteSync.apply(nodes: nodes, localNodeName: "me", namespacePath: path) }

        // All peers gone → all ours removed; the foreign route and the connected route untouched.
        plan = try NodeRouteSync.apply(nodes: [me], localNodeName: "me", namespacePath: path)
        #expect(plan.delete.count == 2)
        #expect(try routes(node, proto: "75").isEmpty)
        let all = try routes(node)
        #expect(all.contains { $0.hasPrefix("10.244.9.0/24 via 192.0.2.2 dev \(here) proto static") })
        #expect(all.contains { $0.hasPrefix("192.0.2.0/24 dev \(here) proto kernel") })
    }

    @Test func vxlanDeviceFloodListAndRoutesFollowNodes() throws {
        let node = try TestNetns("vxnode")
        defer { node.destroy() }
        let peerNode = try TestNetns("vxpeer")
        defer { peerNode.destroy() }
        let suffix = NetnsSupport.uniqueSuffix(5)
        let here = "kpx\(suffix)", there = "kpy\(suffix)"
        try node.exec(["ip", "link", "add", here, "type", "veth", "peer", "name", there, "netns", peerNode.name])
        try node.exec(["ip", "addr", "add", "192.0.2.1/24", "dev", here])
        try node.exec(["ip", "link", "set", here, "up"])
        let path = "/var/run/netns/\(node.name)"
        let me = peer("me", ["10.244.0.0/24"], ["192.0.2.1"])
        let dev = VXLANOverlay.device
        func fdb() throws -> [String] {
            try node.exec(["bridge", "fdb", "show", "dev", dev]).split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
                .filter { $0.hasPrefix("00:00:00:00:00:00") }
        }
        func index() throws -> String { try node.exec(["cat", "/sys/class/net/\(dev)/ifindex"]).trimmingCharacters(in: .whitespacesAndNewlines) }

        // A link of that name with other settings (left by someone else) is replaced.
        try node.exec(["ip", "link", "add", dev, "type", "vxlan", "id", "7", "dstport", "4789"])
        var nodes = [me, peer("b", ["10.244.1.0/24", "fd00:244:1::/64"], ["192.0.2.2"]), peer("c", ["10.244.2.0/24"], ["192.0.2.3"])]
        var plan = try NodeRouteSync.apply(nodes: nodes, localNodeName: "me", namespacePath: path, mode: .vxlan)
        #expect(plan.add.map(\.description) == ["10.244.1.0/24 via 10.244.1.0", "10.244.2.0/24 via 10.244.2.0"])
        let details = try node.exec(["ip", "-d", "link", "show", dev])
        #expect(details.contains("vxlan id 1") && details.contains("local 192.0.2.1") && details.contains("dstport 4789"))
        #expect(details.contains("state UP") || details.contains(",UP"))
        #expect(details.contains("mtu 1450"))  // the 1500-byte underlay minus the encapsulation
        #expect(try node.exec(["ip", "-4", "addr", "show", "dev", dev]).contains("inet 10.244.0.0/32"))
        #expect(try fdb().sorted() == ["00:00:00:00:00:00 dst 192.0.2.2 self permanent", "00:00:00:00:00:00 dst 192.0.2.3 self permanent"])
        let ours = try routes(node, proto: "75")
        #expect(ours.contains { $0.hasPrefix("10.244.1.0/24 via 10.244.1.0 dev \(dev)") && $0.contains("onlink") })
        #expect(ours.contains { $0.hasPrefix("10.244.2.0/24 via 10.244.2.0 dev \(dev)") && $0.contains("onlink") })
        #expect(ours.count == 2)  // IPv6 pod CIDRs are not carried
        let device = try index()

        // In step: nothing changes, and the device is the same one (a restart must not cut pod traffic).
        plan = try NodeRouteSync.apply(nodes: nodes, localNodeName: "me", namespacePath: path, mode: .vxlan)
        #expect(plan.isEmpty)
        #expect(try fdb().count == 2)
        #expect(try index() == device)

        // c leaves: its flood entry and route go; b's stay.
        nodes.removeLast()
        plan = try NodeRouteSync.apply(nodes: nodes, localNodeName: "me", namespacePath: path, mode: .vxlan)
        #expect(plan.delete.map(\.description) == ["10.244.2.0/24 via 10.244.2.0"])
        let left = try fdb()
        #expect(left == ["00:00:00:00:00:00 dst 192.0.2.2 self permanent"])
        #expect(try routes(node, proto: "75").count == 1)
        #expect(try index() == device)
    }

    @Test func routeManagerListsOnlyItsProtocol() throws {
        let node = try TestNetns("node")
        defer { node.destroy() }
        let suffix = NetnsSupport.uniqueSuffix(5)
        try node.exec(["ip", "link", "add", "kpa\(suffix)", "type", "veth", "peer", "name", "kpb\(suffix)"])
        try node.exec(["ip", "link", "set", "kpb\(suffix)", "up"])
        try node.exec(["ip", "addr", "add", "192.0.2.1/24", "dev", "kpa\(suffix)"])
        try node.exec(["ip", "link", "set", "kpa\(suffix)", "up"])
        try node.exec(["ip", "route", "add", "10.1.0.0/16", "via", "192.0.2.9", "proto", "75"])
        try node.exec(["ip", "route", "add", "10.2.0.0/16", "via", "192.0.2.9", "proto", "static"])
        func route(_ destination: String) throws -> GatewayRoute {
            GatewayRoute(destination: try #require(CIDR(destination)), gateway: try #require(IPAddress("192.0.2.9")))
        }
        let foreign = try route("10.2.0.0/16"), missing = try route("10.3.0.0/16"), ours = try route("10.1.0.0/16")
        let listed = try NetworkNamespace.run(path: "/var/run/netns/\(node.name)") { () throws(NetlinkError) in
            let manager = try RouteManager(routeProtocol: HostGatewayRoutes.routeProtocol)
            let before = try manager.routes()
            let deletedForeign = try manager.delete(foreign)
            let deletedMissing = try manager.delete(missing)
            return (before, deletedForeign, deletedMissing)
        }
        #expect(listed.0 == [ours])
        #expect(listed.1 == false)
        #expect(listed.2 == false)
        #expect(try routes(node).contains { $0.hasPrefix("10.2.0.0/16 via 192.0.2.9") })
    }

    /// The daemon path: `kproxy proxy` in a node namespace installs a route for a peer Node created with
    /// kubectl, follows its InternalIP change and removes the route when the Node is deleted.
    @Test func proxyDaemonFollowsNodeObjects() throws {
        let binary = try #require(ProxyDaemonE2ETests.binary, "kproxy binary not built")
        let dir = NSTemporaryDirectory() + "kproxy-routes-\(NetnsSupport.uniqueSuffix())"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let node = try TestNetns("node")
        defer { node.destroy() }
        let peerNode = try VethPod.create(host: node, hostAddress: "192.0.2.1", podAddress: "192.0.2.2", prefix: 24)
        defer { peerNode.pod.destroy() }
        let controlPlane = try ProxyDaemonE2ETests.start(node, [binary, "controlplane", "--data-dir", dir + "/data", "--listen", "127.0.0.1:6443",
                                                               "--write-kubeconfig", dir + "/kubeconfig"], log: dir + "/controlplane.log")
        defer { NetnsSupport.stop(controlPlane) }
        let kubectl = { (args: [String], input: String?) throws -> NetnsSupport.Output in
            try NetnsSupport.run([NetnsSupport.ipTool, "netns", "exec", node.name, "kubectl", "--kubeconfig", dir + "/kubeconfig",
                                  "--cache-dir", dir + "/cache"] + args, input: input)
        }
        #expect(try waitUntilBlocking(within: .seconds(20)) { try kubectl(["get", "--raw", "/readyz"], nil).status == 0 }, "control plane up")
        func applyNode(_ name: String, cidr: String, ip: String) throws {
            let object = #"{"apiVersion":"v1","kind":"Node","metadata":{"name":"\#(name)"},"spec":{"podCIDR":"\#(cidr)","podCIDRs":["\#(cidr)"]},"status":{"addresses":[{"type":"InternalIP","address":"\#(ip)"}]}}"#
            let applied = try kubectl(["apply", "-f", "-"], object)
            #expect(applied.status == 0, "\(applied.stderr)")
        }
        try applyNode("node-a", cidr: "10.244.0.0/24", ip: "192.0.2.1")
        try applyNode("node-b", cidr: "10.244.1.0/24", ip: "192.0.2.2")
        let arguments = [binary, "proxy", "--kubeconfig", dir + "/kubeconfig", "--node", "node-a",
                         "--cluster-cidr", "10.244.0.0/16", "--service-cidr", "10.96.0.0/12"]
        defer { _ = try? node.execStatus(["nft", "delete", "table", "ip", "kproxy"]) }
        // Without --node-routes the proxy leaves the routing table alone: once it has programmed its
        // ruleset (the Node informer that feeds the routes has listed by then), there is no route of ours.
        let plain = try ProxyDaemonE2ETests.start(node, arguments, log: dir + "/plain.log")
        let programmed = try waitUntilBlocking(within: .seconds(20)) { try node.execStatus(["nft", "list", "chain", "ip", "kproxy", "services"]).status == 0 }
        #expect(programmed, "proxy synced")
        #expect(try routes(node, proto: "75").isEmpty, "no routes without --node-routes")
        NetnsSupport.stop(plain)

        let proxy = try ProxyDaemonE2ETests.start(node, arguments + ["--node-routes"], log: dir + "/proxy.log")
        defer { NetnsSupport.stop(proxy) }
        let log = { (try? String(contentsOfFile: dir + "/proxy.log", encoding: .utf8))?.suffix(2000) ?? "" }
        #expect(try waitUntilBlocking(within: .seconds(20)) { try routes(node, proto: "75").contains { $0.hasPrefix("10.244.1.0/24 via 192.0.2.2 ") } },
                "route to node-b; proxy log: \(log())")
        #expect(try !routes(node, proto: "75").contains { $0.hasPrefix("10.244.0.0/24") }, "no route to our own podCIDR")

        try peerNode.pod.exec(["ip", "addr", "add", "192.0.2.3/24", "dev", try peerInterface(peerNode)])
        // Status changes go through the status subresource (updates of the Node itself keep the old status).
        let moved = #"{"status":{"addresses":[{"type":"InternalIP","address":"192.0.2.3"}]}}"#
        let patched = try kubectl(["patch", "node", "node-b", "--subresource=status", "--type=merge", "-p", moved], nil)
        #expect(patched.status == 0, "\(patched.stderr)")
        #expect(try waitUntilBlocking(within: .seconds(20)) { try routes(node, proto: "75").contains { $0.hasPrefix("10.244.1.0/24 via 192.0.2.3 ") } },
                "route follows node-b's InternalIP; proxy log: \(log())")

        #expect(try kubectl(["delete", "node", "node-b"], nil).status == 0)
        #expect(try waitUntilBlocking(within: .seconds(20)) { try routes(node, proto: "75").isEmpty }, "route gone with node-b; proxy log: \(log())")
    }

    /// The peer end of a `VethPod` (the only non-loopback link in its namespace).
    private func peerInterface(_ pod: VethPod) throws -> String {
        let names = try pod.pod.exec(["ls", "/sys/class/net"]).split(whereSeparator: \.isWhitespace).map(String.init)
        return try #require(names.first { $0 != "lo" })
    }
}
