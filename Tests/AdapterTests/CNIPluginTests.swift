import CNICore
import Foundation
import Testing
import Values

/// kproxy-cni against the real kernel: a node namespace holds the bridge, each pod its own namespace.
@Suite(.serialized, .enabled(if: NetnsSupport.isAvailable, "needs root and ip"))
struct CNIPluginTests {
    let node: TestNetns
    let runner: CNIRunner
    let bridge = "kpb\(NetnsSupport.uniqueSuffix(5))"

    init() throws {
        try #require(FileManager.default.isExecutableFile(atPath: CNIRunner.binary), "build kproxy-cni first (swift build)")
        node = try TestNetns("cn")
        runner = CNIRunner(node: node, dataDir: CNIRunner.makeDataDir())
    }

    func pod() throws -> TestNetns { try TestNetns("cp") }
    func inv(_ cmd: String, _ id: String, _ pod: TestNetns?, ifname: String = "eth0") -> CNIRunner.Invocation {
        CNIRunner.Invocation(command: cmd, containerID: id, netns: pod.map { "/var/run/netns/" + $0.name } ?? "", ifname: ifname,
                             args: "IgnoreUnknown=1;K8S_POD_NAMESPACE=team-a;K8S_POD_NAME=web")
    }

    @Test func addGivesWorkingInterfacesAndPodsReachEachOther() throws {
        let p1 = try pod(), p2 = try pod()
        defer { p1.destroy(); p2.destroy(); node.destroy(); try? FileManager.default.removeItem(atPath: runner.dataDir) }
        let conf = runner.config(bridge: bridge, subnet: "10.244.5.0/24")
        let r1 = try #require(try runner.kproxy(inv("ADD", "c1", p1), config: conf))
        let r2 = try #require(try runner.kproxy(inv("ADD", "c2", p2), config: conf))
        #expect(r1["ips"]?.arrayValue?.first?["address"] == "10.244.5.2/24")
        #expect(r1["ips"]?.arrayValue?.first?["gateway"] == "10.244.5.1")
        #expect(r2["ips"]?.arrayValue?.first?["address"] == "10.244.5.3/24")
        #expect(r1["interfaces"]?.arrayValue?.map { $0["name"] }.last == "eth0")
        #expect(r1["interfaces"]?.arrayValue?.last?["sandbox"] == .string("/var/run/netns/" + p1.name))
        #expect(r1["dns"]?["search"] == ["team-a.svc.cluster.local", "svc.cluster.local", "cluster.local"])
        #expect(r1["dns"]?["options"] == ["ndots:5"])

        let addr = try p1.exec(["ip", "-o", "addr", "show", "dev", "eth0"])
        #expect(addr.contains("10.244.5.2/24"))
        #expect(try p1.exec(["ip", "route", "show", "default"]).contains("via 10.244.5.1 dev eth0"))
        #expect(try p1.exec(["ip", "-o", "link", "show", "eth0"]).contains("mtu 1400"))
        #expect(try p1.exec(["ip", "-o", "link", "show", "lo"]).contains("UP"))
        let hostVeth = HostInterfaceName.forAttachment(AttachmentKey(containerID: "c1", ifname: "eth0"))
        #expect(try node.exec(["bridge", "-d", "link", "show", "dev", hostVeth]).contains("hairpin on"))
        #expect(try node.exec(["ip", "-o", "addr", "show", "dev", bridge]).contains("10.244.5.1/24"))

        // Pod → gateway (a listener in the node namespace) and pod → pod.
        let gwListener = try TCPProbe.listen(netns: node.name, port: 7001)
        defer { close(gwListener) }
        let podListener = try TCPProbe.listen(netns: p2.name, port: 7002)
        defer { close(podListener) }
        #expect(try TCPProbe.connects(from: p1.name, to: "10.244.5.1", port: 7001))
        #expect(try TCPProbe.connects(from: p1.name, to: "10.244.5.3", port: 7002))
        #expect(!(try TCPProbe.connects(from: p1.name, to: "10.244.5.3", port: 7009)))

        // A second ADD for the same attachment fails clearly and keeps the first one intact.
        #expect(throws: CNIError.self) { try runner.kproxy(inv("ADD", "c1", p1), config: conf) }
        #expect(try TCPProbe.connects(from: p1.name, to: "10.244.5.3", port: 7002))
        // An interface name taken inside the pod fails too, and leaks no address.
        try p1.exec(["ip", "link", "add", "net1", "type", "veth", "peer", "name", "net1p"])
        let taken = #expect(throws: CNIError.self) { try runner.kproxy(inv("ADD", "c1x", p1, ifname: "net1"), config: conf) }
        #expect(taken?.description.contains("already exists") == true && taken?.description.contains("net1") == true,
                "\(String(describing: taken))")
        #expect(runner.allocatedAddresses() == ["10.244.5.2", "10.244.5.3"])
        // … and leaves no host end behind.
        #expect(!(try node.exec(["ip", "-o", "link"]).contains(HostInterfaceName.forAttachment(AttachmentKey(containerID: "c1x", ifname: "net1")))))

        // CHECK with the ADD result as prevResult passes; STATUS reports available.
        var checkConf = conf
        checkConf["prevResult"] = r1
        try runner.kproxy(inv("CHECK", "c1", p1), config: checkConf)
        try runner.kproxy(CNIRunner.Invocation(command: "STATUS", containerID: "", netns: "", ifname: ""), config: conf)
    }

    @Test func delIsIdempotentAndWorksAfterTheNetnsIsGone() throws {
        let p1 = try pod(), p2 = try pod()
        defer { p1.destroy(); p2.destroy(); node.destroy(); try? FileManager.default.removeItem(atPath: runner.dataDir) }
        let conf = runner.config(bridge: bridge, subnet: "10.244.6.0/24", version: "0.4.0")
        let r = try #require(try runner.kproxy(inv("ADD", "c1", p1), config: conf))
        #expect(r["ips"]?.arrayValue?.first?["version"] == "4")
        try runner.kproxy(inv("ADD", "c2", p2), config: conf)
        #expect(runner.allocatedAddresses() == ["10.244.6.2", "10.244.6.3"])
        try runner.kproxy(inv("DEL", "c1", p1), config: conf)
        try runner.kproxy(inv("DEL", "c1", p1), config: conf)
        #expect(runner.allocatedAddresses() == ["10.244.6.3"])
        #expect(!(try p1.exec(["ip", "-o", "link"]).contains("eth0")))
        let p2Path = "/var/run/netns/" + p2.name
        p2.destroy()
        try runner.kproxy(CNIRunner.Invocation(command: "DEL", containerID: "c2", netns: p2Path), config: conf)
        try runner.kproxy(CNIRunner.Invocation(command: "DEL", containerID: "c2", netns: ""), config: conf)
        #expect(runner.allocatedAddresses() == [])
        #expect(!(try node.exec(["ip", "-o", "link"]).contains(HostInterfaceName.prefix)))
    }

    @Test func fiftyConcurrentAddsGetDistinctAddresses() throws {
        let pods = try (0..<50).map { _ in try pod() }
        defer { pods.forEach { $0.destroy() }; node.destroy(); try? FileManager.default.removeItem(atPath: runner.dataDir) }
        let conf = runner.config(bridge: bridge, subnet: "10.244.8.0/24")
        let processes = try pods.enumerated().map { i, p -> (Process, Pipe) in
            let proc = Process()
            proc.executableURL = URL(fileURLWithPath: NetnsSupport.ipTool)
            proc.arguments = ["netns", "exec", node.name, CNIRunner.binary]
            proc.environment = runner.environment(inv("ADD", "conc\(i)", p))
            let input = Pipe(), output = Pipe()
            proc.standardInput = input
            proc.standardOutput = output
            try proc.run()
            input.fileHandleForWriting.write(Data(conf.serialized().utf8))
            try input.fileHandleForWriting.close()
            return (proc, output)
        }
        var addresses: [String] = []
        for (proc, out) in processes {
            let data = out.fileHandleForReading.readDataToEndOfFile()
            proc.waitUntilExit()
            #expect(proc.terminationStatus == 0, "\(String(decoding: data, as: UTF8.self))")
            if let r = try? JSONValue(parsing: Array(data)), let a = r["ips"]?.arrayValue?.first?["address"]?.stringValue { addresses.append(a) }
        }
        #expect(addresses.count == 50)
        #expect(Set(addresses).count == 50)
        #expect(runner.allocatedAddresses().count == 50)
        let ports = try node.exec(["ip", "-o", "link", "show", "master", bridge]).split(separator: "\n")
        #expect(ports.count == 50)
    }

    @Test func pluginKilledMidAddLeaksNothingAfterGC() throws {
        let p1 = try pod(), p2 = try pod()
        defer { p1.destroy(); p2.destroy(); node.destroy(); try? FileManager.default.removeItem(atPath: runner.dataDir) }
        let conf = runner.config(bridge: bridge, subnet: "10.244.9.0/24")
        try runner.kproxy(inv("ADD", "keep", p2), config: conf)
        let proc = Process()
        proc.executableURL = URL(fileURLWithPath: NetnsSupport.ipTool)
        proc.arguments = ["netns", "exec", node.name, CNIRunner.binary]
        proc.environment = runner.environment(inv("ADD", "killed", p1), extra: ["KPROXY_CNI_TEST_PAUSE": "after-attach"])
        let input = Pipe(), errors = Pipe()
        proc.standardInput = input
        proc.standardError = errors
        proc.standardOutput = FileHandle.nullDevice
        try proc.run()
        input.fileHandleForWriting.write(Data(conf.serialized().utf8))
        try input.fileHandleForWriting.close()
        // Wait for the plugin to say it stopped after attaching (the read blocks until it writes).
        var said = Data()
        while !String(decoding: said, as: UTF8.self).contains("paused after-attach") {
            let chunk = errors.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            said += chunk
        }
        #expect(String(decoding: said, as: UTF8.self).contains("paused after-attach"))
        kill(proc.processIdentifier, SIGKILL)
        proc.waitUntilExit()
        let leaked = HostInterfaceName.forAttachment(AttachmentKey(containerID: "killed", ifname: "eth0"))
        #expect(runner.allocatedAddresses().count == 2)
        #expect(try node.exec(["ip", "-o", "link"]).contains(leaked))

        var gcConf = conf
        gcConf["cni.dev/valid-attachments"] = [["containerID": "keep", "ifname": "eth0"]]
        try runner.kproxy(CNIRunner.Invocation(command: "GC", containerID: "", netns: "", ifname: ""), config: gcConf)
        #expect(runner.allocatedAddresses() == ["10.244.9.2"])
        let links = try node.exec(["ip", "-o", "link"])
        #expect(!links.contains(leaked))
        #expect(links.contains(HostInterfaceName.forAttachment(AttachmentKey(containerID: "keep", ifname: "eth0"))))
    }

    @Test func statusIsFiftyWhenTheRangeIsFull() throws {
        let p1 = try pod()
        defer { p1.destroy(); node.destroy(); try? FileManager.default.removeItem(atPath: runner.dataDir) }
        let conf = runner.config(bridge: bridge, subnet: "10.244.10.0/30")
        let status = CNIRunner.Invocation(command: "STATUS", containerID: "", netns: "", ifname: "")
        try runner.kproxy(status, config: conf)
        try runner.kproxy(inv("ADD", "only", p1), config: conf)
        do { try runner.kproxy(status, config: conf); Issue.record("STATUS passed on a full range") } catch let e as CNIError {
            #expect(e.code == 50)
        }
    }

    /// A delegated IPAM plugin that exits without reading its stdin: our write to it fails with EPIPE
    /// (the config is larger than a pipe's buffer, so the write is still pending when it exits), and the
    /// runtime still gets the delegate's CNI error, not a plugin killed by SIGPIPE.
    @Test func delegateThatExitsWithoutReadingStdinYieldsItsError() throws {
        let p1 = try pod()
        let dir = NSTemporaryDirectory() + "kp-cni-early-\(NetnsSupport.uniqueSuffix())"
        defer { p1.destroy(); node.destroy(); try? FileManager.default.removeItem(atPath: runner.dataDir); try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let script = dir + "/kp-early-exit"
        try "#!/bin/sh\nexec 0<&-\necho '{\"cniVersion\":\"1.1.0\",\"code\":11,\"msg\":\"out of addresses (test)\"}'\nexit 1\n"
            .write(toFile: script, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: script)
        var conf = runner.config(bridge: bridge, subnet: "10.244.6.0/24")
        conf["ipam"] = ["type": "kp-early-exit"]
        conf["padding"] = .string(String(repeating: "x", count: 256 * 1024))
        let cniPath = ([dir] + CNIRunner.pluginDirs).joined(separator: ":")
        do {
            try runner.kproxy(inv("ADD", "early", p1), config: conf, extra: ["CNI_PATH": cniPath])
            Issue.record("ADD passed although its IPAM failed")
        } catch let e as CNIError {
            #expect(e.code == 11)
            #expect(e.msg.contains("out of addresses (test)"))
        }
    }

    /// Wrongly typed fields are refused with error 7 before anything is allocated or created (a `bridge`
    /// that is not a string used to fall back to `kp0`).
    @Test(arguments: [("bridge", JSONValue.int(5)), ("mtu", .string("big")), ("hairpinMode", .string("yes"))])
    func wronglyTypedFieldsAreInvalidConfig(field: String, value: JSONValue) throws {
        let p1 = try pod()
        defer { p1.destroy(); node.destroy(); try? FileManager.default.removeItem(atPath: runner.dataDir) }
        let conf = runner.config(bridge: bridge, subnet: "10.244.7.0/24", extra: [field: value])
        do {
            try runner.kproxy(inv("ADD", "typed", p1), config: conf)
            Issue.record("ADD accepted \(field): \(value.serialized())")
        } catch let e as CNIError {
            #expect(e.code == 7)
            #expect(e.msg.contains(field))
        }
        #expect(runner.allocatedAddresses().isEmpty, "nothing allocated")
        #expect(!(try node.exec(["ip", "-o", "link", "show"]).contains("kp0")), "no default bridge created")
    }
}
