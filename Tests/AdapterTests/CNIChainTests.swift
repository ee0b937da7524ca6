import CNICore
import Foundation
import Testing
import Values

/// kproxy-cni chained with Debian's reference plugins, and its IPAM used by the reference `bridge`.
@Suite(.serialized, .enabled(if: NetnsSupport.isAvailable, "needs root and ip"))
struct CNIChainTests {
    let node: TestNetns
    let runner: CNIRunner
    let bridge = "kpb\(NetnsSupport.uniqueSuffix(5))"

    init() throws {
        try #require(FileManager.default.isExecutableFile(atPath: CNIRunner.binary), "build kproxy-cni first (swift build)")
        for p in ["portmap", "bandwidth", "bridge", "host-local"] {
            try #require(FileManager.default.isExecutableFile(atPath: "/usr/lib/cni/" + p), "install containernetworking-plugins (hack/install-deps.sh)")
        }
        node = try TestNetns("cc")
        runner = CNIRunner(node: node, dataDir: CNIRunner.makeDataDir())
    }

    @Test func chainedWithPortmapAndBandwidth() throws {
        let pod = try TestNetns("cp")
        defer { pod.destroy(); node.destroy(); try? FileManager.default.removeItem(atPath: runner.dataDir) }
        let list = try NetConfList(json: [
            "cniVersion": "1.0.0", "name": "kpt",
            "plugins": [
                ["type": "kproxy-cni", "bridge": .string(bridge), "clusterDNS": "10.96.0.10",
                 "ipam": ["type": "kproxy-cni", "subnet": "10.244.11.0/24", "dataDir": .string(runner.dataDir)]],
                ["type": "portmap", "capabilities": ["portMappings": true], "snat": true],
                ["type": "bandwidth", "capabilities": ["bandwidth": true]],
            ],
        ])
        let rc: [String: JSONValue] = [
            "portMappings": [["hostPort": 18080, "containerPort": 80, "protocol": "tcp"]],
            "bandwidth": ["ingressRate": 1_000_000, "ingressBurst": 100_000, "egressRate": 1_000_000, "egressBurst": 100_000],
        ]
        let inv = CNIRunner.Invocation(command: "ADD", containerID: "chain1", netns: "/var/run/netns/" + pod.name,
                                       args: "K8S_POD_NAMESPACE=default")
        let result = try #require(try runner.addList(list, inv, runtimeConfig: rc))
        #expect(result["cniVersion"] == "1.0.0")
        #expect(result["ips"]?.arrayValue?.first?["address"] == "10.244.11.2/24")
        // portmap's DNAT rule for the host port and bandwidth's ingress qdisc on the host veth exist in the node namespace.
        let rules = try node.exec(["iptables-save"]) + (try node.exec(["nft", "list", "ruleset"]))
        #expect(rules.contains("18080"))
        let hostVeth = HostInterfaceName.forAttachment(AttachmentKey(containerID: "chain1", ifname: "eth0"))
        #expect(try node.exec(["tc", "qdisc", "show", "dev", hostVeth]).contains("tbf"))

        var del = inv
        del.command = "DEL"
        try runner.delList(list, del, runtimeConfig: rc, prevResult: result)
        try runner.delList(list, del, runtimeConfig: rc, prevResult: result)
        #expect(runner.allocatedAddresses() == [])
        #expect(!(try node.exec(["ip", "-o", "link"]).contains(hostVeth)))
    }

    @Test func referenceBridgeUsesKproxyIPAMAndKproxyDelegatesToHostLocal() throws {
        let p1 = try TestNetns("cp"), p2 = try TestNetns("cp")
        defer { p1.destroy(); p2.destroy(); node.destroy(); try? FileManager.default.removeItem(atPath: runner.dataDir) }
        // The reference bridge calls kproxy-cni as its ipam plugin.
        let bridgeConf: JSONValue = ["cniVersion": "1.0.0", "name": "kpref", "type": "bridge", "bridge": .string(bridge), "isGateway": true,
                                     "ipam": ["type": "kproxy-cni", "subnet": "10.244.12.0/24", "dataDir": .string(runner.dataDir),
                                              "routes": [["dst": "0.0.0.0/0"]]]]
        let i1 = CNIRunner.Invocation(command: "ADD", containerID: "ref1", netns: "/var/run/netns/" + p1.name)
        let r1 = try #require(try runner.decode(runner.run(plugin: "bridge", i1, config: bridgeConf)))
        #expect(r1["ips"]?.arrayValue?.first?["address"] == "10.244.12.2/24")
        #expect(runner.allocatedAddresses(network: "kpref") == ["10.244.12.2"])
        #expect(try p1.exec(["ip", "route", "show", "default"]).contains("via 10.244.12.1"))
        var d1 = i1
        d1.command = "DEL"
        _ = try runner.decode(runner.run(plugin: "bridge", d1, config: bridgeConf))
        #expect(runner.allocatedAddresses(network: "kpref") == [])

        // kproxy-cni with "ipam": {"type": "host-local"} execs the reference host-local.
        let hlDir = runner.dataDir + "/host-local"
        let conf: JSONValue = ["cniVersion": "1.0.0", "name": "kphl", "type": "kproxy-cni", "bridge": .string(bridge + "h"),
                               "ipam": ["type": "host-local", "subnet": "10.244.13.0/24", "dataDir": .string(hlDir)]]
        let i2 = CNIRunner.Invocation(command: "ADD", containerID: "hl1", netns: "/var/run/netns/" + p2.name)
        let r2 = try #require(try runner.kproxy(i2, config: conf))
        #expect(r2["ips"]?.arrayValue?.first?["address"] == "10.244.13.2/24")
        #expect(FileManager.default.fileExists(atPath: hlDir + "/kphl/10.244.13.2"))
        var d2 = i2
        d2.command = "DEL"
        try runner.kproxy(d2, config: conf)
        #expect(!FileManager.default.fileExists(atPath: hlDir + "/kphl/10.244.13.2"))
    }
}
