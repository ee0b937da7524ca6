import CNICore
import Synchronization
import Testing
@testable import NodeCore
import Values

/// Records every plugin call and answers from a script.
final class RecordingExecutor: CNIPluginExecutor {
    struct Call: Sendable { var path: String; var env: [String: String]; var conf: JSONValue }
    let calls = Mutex<[Call]>([])
    let answer: @Sendable (String, String) -> (Int32, String)  // (plugin type, command) → (status, stdout)

    init(answer: @escaping @Sendable (String, String) -> (Int32, String)) { self.answer = answer }

    func run(_ path: String, environment: [String: String], stdin: [UInt8]) async throws(CNIError) -> (status: Int32, stdout: [UInt8]) {
        let conf = (try? JSONValue(parsing: stdin)) ?? .null
        calls.withLock { $0.append(Call(path: path, env: environment, conf: conf)) }
        let (status, out) = answer(conf["type"]?.stringValue ?? "", environment["CNI_COMMAND"] ?? "")
        return (status, Array(out.utf8))
    }

    var recorded: [Call] { calls.withLock { $0 } }
}

@Suite("CNI runtime: plugin order, prevResult, capabilities, cache, conf dir")
struct CNIRuntimeTests {
    static func list(_ version: String, disableCheck: Bool = false) throws -> NetConfList {
        try NetConfList(json: JSONValue(parsing: """
        {"cniVersion":"\(version)","name":"k8s","disableCheck":\(disableCheck),"plugins":[
          {"type":"kproxy-cni","bridge":"kp0"},
          {"type":"portmap","capabilities":{"portMappings":true}},
          {"type":"bandwidth","capabilities":{"bandwidth":true}}]}
        """))
    }

    static let attachment = CNIAttachment(containerID: "uid-1", netns: "/run/netns/kproxy-uid-1", podNamespace: "default",
                                          podName: "web", podUID: "uid-1")

    static func executor() -> RecordingExecutor {
        RecordingExecutor { type, command in
            guard command == "ADD" else { return (0, "") }
            return (0, #"{"cniVersion":"1.1.0","ips":[{"address":"10.244.1.5/24"}],"note":"\#(type)"}"#)
        }
    }

    static func runner(_ e: RecordingExecutor) -> CNIRunner<RecordingExecutor> {
        CNIRunner(executor: e, binDirs: ["/opt/cni/bin", "/usr/lib/cni"], isExecutable: { $0.hasPrefix("/opt/cni/bin/") })
    }

    @Test func addChainsPrevResultAndPassesOnlyDeclaredCapabilities() async throws {
        let e = Self.executor()
        let mappings = CNIRunner<RecordingExecutor>.portMappingsConfig([CNIPortMapping(hostPort: 8080, containerPort: 80, proto: "TCP")])
        let result = try await Self.runner(e).add(try Self.list("1.1.0"), Self.attachment, runtimeConfig: mappings)
        #expect(result["note"]?.stringValue == "bandwidth")
        let calls = e.recorded
        #expect(calls.map(\.path) == ["/opt/cni/bin/kproxy-cni", "/opt/cni/bin/portmap", "/opt/cni/bin/bandwidth"])
        #expect(calls[0].conf["prevResult"] == nil)
        #expect(calls[1].conf["prevResult"]?["note"]?.stringValue == "kproxy-cni")
        #expect(calls[2].conf["prevResult"]?["note"]?.stringValue == "portmap")
        #expect(calls[0].conf["runtimeConfig"] == nil)
        #expect(calls[1].conf["runtimeConfig"]?["portMappings"]?.arrayValue?.first?["protocol"]?.stringValue == "tcp")
        #expect(calls[2].conf["runtimeConfig"] == nil)
        #expect(calls.allSatisfy { $0.conf["name"]?.stringValue == "k8s" && $0.conf["cniVersion"]?.stringValue == "1.1.0" })
        let env = calls[0].env
        #expect(env["CNI_COMMAND"] == "ADD" && env["CNI_IFNAME"] == "eth0" && env["CNI_NETNS"] == "/run/netns/kproxy-uid-1")
        #expect(env["CNI_PATH"] == "/opt/cni/bin:/usr/lib/cni")
        #expect(env["CNI_ARGS"] == "IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=web;K8S_POD_INFRA_CONTAINER_ID=uid-1;K8S_POD_UID=uid-1")
    }

    @Test(arguments: [("1.1.0", true), ("0.4.0", true), ("0.3.1", false)])
    func delRunsInReverseWithTheCachedResultFrom040(version: String, withPrev: Bool) async throws {
        let e = Self.executor()
        let cached: JSONValue = ["cniVersion": .string(version), "ips": []]
        try await Self.runner(e).del(try Self.list(version), Self.attachment, cachedResult: cached)
        #expect(e.recorded.map { $0.conf["type"]?.stringValue } == ["bandwidth", "portmap", "kproxy-cni"])
        #expect(e.recorded.allSatisfy { ($0.conf["prevResult"] != nil) == withPrev && $0.env["CNI_COMMAND"] == "DEL" })
    }

    @Test(arguments: [("1.1.0", false, true), ("1.1.0", true, false), ("0.3.1", false, false)])
    func checkRunsWhenTheVersionAndConfigAllow(version: String, disabled: Bool, runs: Bool) async throws {
        let e = Self.executor()
        let ran = try await Self.runner(e).check(try Self.list(version, disableCheck: disabled), Self.attachment, cachedResult: ["ips": []])
        #expect(ran == runs)
        #expect(e.recorded.count == (runs ? 3 : 0))
    }

    @Test func statusAndGCOnlyFrom110AndGCListsTheValidAttachments() async throws {
        let e = Self.executor()
        let r = Self.runner(e)
        try await r.status(try Self.list("0.4.0"))
        #expect(try await r.gc(try Self.list("0.4.0"), valid: [Self.attachment]) == false)
        #expect(e.recorded.isEmpty)
        try await r.status(try Self.list("1.1.0"))
        #expect(try await r.gc(try Self.list("1.1.0"), valid: [Self.attachment]))
        let calls = e.recorded
        #expect(calls.map { $0.env["CNI_COMMAND"] } == ["STATUS", "STATUS", "STATUS", "GC", "GC", "GC"])
        #expect(calls.allSatisfy { $0.env["CNI_CONTAINERID"] == nil })
        let valid = calls[3].conf["cni.dev/valid-attachments"]?.arrayValue
        #expect(valid?.first?["containerID"]?.stringValue == "uid-1" && valid?.first?["ifname"]?.stringValue == "eth0")
    }

    @Test func aPluginErrorIsReturnedAndStopsTheChain() async throws {
        let e = RecordingExecutor { type, _ in
            type == "portmap" ? (1, #"{"cniVersion":"1.1.0","code":11,"msg":"try again"}"#) : (0, #"{"cniVersion":"1.1.0","ips":[]}"#)
        }
        await #expect(throws: CNIError(.tryAgainLater, "try again")) { _ = try await Self.runner(e).add(try Self.list("1.1.0"), Self.attachment) }
        #expect(e.recorded.count == 2)
        let garbage = RecordingExecutor { _, _ in (2, "segfault") }
        await #expect(throws: CNIError.self) { _ = try await Self.runner(garbage).add(try Self.list("1.1.0"), Self.attachment) }
        let missing = CNIRunner(executor: Self.executor(), binDirs: ["/nowhere"], isExecutable: { _ in false })
        let list = try Self.list("1.1.0")
        do throws(CNIError) {
            _ = try await missing.add(list, Self.attachment)
            Issue.record("a missing plugin must fail")
        } catch {
            #expect(error.code == 7 && error.msg.contains("failed to find plugin \"kproxy-cni\""))
        }
    }

    @Test func confDirPicksTheFirstFileInLexicalOrderAndWrapsASingleConf() throws {
        #expect(CNIConfDir.candidates(["99-other.conf", "10-kproxy.conflist", "README", ".hidden.conf", "05-x.json"])
                == ["05-x.json", "10-kproxy.conflist", "99-other.conf"])
        let single = try CNIConfDir.parse(fileName: "a.conf", contents: Array(#"{"cniVersion":"0.4.0","name":"n","type":"bridge","bridge":"b0"}"#.utf8))
        #expect(single.name == "n" && single.cniVersion == CNIVersion(0, 4, 0) && single.plugins.count == 1)
        #expect(single.plugins[0]["type"]?.stringValue == "bridge" && single.plugins[0]["name"] == nil)
        #expect(throws: CNIError.self) { try CNIConfDir.parse(fileName: "bad.conflist", contents: Array("{".utf8)) }
    }

    @Test func cacheEntryRoundTripsInLibcniLayout() throws {
        let entry = CNICacheEntry(attachment: Self.attachment, networkName: "k8s", result: ["ips": [["address": "10.244.1.5/24"]]],
                                  capabilityArgs: [:])
        let json = entry.json
        #expect(json["kind"]?.stringValue == "cniCacheV1" && json["containerId"]?.stringValue == "uid-1")
        #expect(json["cniArgs"]?.arrayValue?.first == ["IgnoreUnknown", "1"])
        #expect(try CNICacheEntry(json: JSONValue(parsing: json.serialized())) == entry)
        #expect(CNICacheEntry.fileName(network: "k8s", Self.attachment) == "k8s-uid-1-eth0")
    }
}
