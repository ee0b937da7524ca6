import Testing
@testable import CNICore
import Values

@Suite struct VersionTests {
    @Test(arguments: ["0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0"])
    func acceptsSupported(version: String) throws {
        #expect(try CNIVersion.negotiate(version).description == version)
    }

    @Test(arguments: ["0.1.0", "0.2.0", "1.2.0", "2.0.0", "x"])
    func rejectsUnsupportedWithCode1(version: String) {
        #expect(throws: CNIError.self) { try CNIVersion.negotiate(version) }
        do { _ = try CNIVersion.negotiate(version) } catch { #expect(error.code == 1) }
    }

    @Test func missingVersionIsDecodeError() {
        do { _ = try CNIVersion.negotiate(nil); Issue.record("accepted") } catch { #expect(error.code == 6) }
    }

    @Test func versionInfo() {
        #expect(CNIVersion.versionInfo().serialized() ==
            #"{"cniVersion":"1.1.0","supportedVersions":["0.3.0","0.3.1","0.4.0","1.0.0","1.1.0"]}"#)
    }

    @Test func featureGates() throws {
        #expect(!(try #require(CNIVersion("0.3.1"))).supportsCheck)
        #expect((try #require(CNIVersion("0.4.0"))).supportsCheck)
        #expect(!(try #require(CNIVersion("1.0.0"))).supportsGCAndStatus)
        #expect((try #require(CNIVersion("1.1.0"))).supportsGCAndStatus)
    }
}

@Suite struct ErrorTests {
    @Test(arguments: CNIErrorCode.allCases)
    func everyCodeSerializes(code: CNIErrorCode) throws {
        let e = CNIError(code, "m", details: "d")
        let json = e.json(cniVersion: "1.0.0")
        #expect(json["code"]?.intValue == Int64(code.rawValue))
        #expect(json["msg"] == "m" && json["details"] == "d" && json["cniVersion"] == "1.0.0")
        #expect(CNIError(json: json) == e)
    }

    @Test func noDetailsOmitted() {
        #expect(CNIError(.tryAgainLater, "busy").json(cniVersion: "1.1.0").serialized() == #"{"cniVersion":"1.1.0","code":11,"msg":"busy"}"#)
    }
}

@Suite struct EnvironmentTests {
    static let base = ["CNI_COMMAND": "ADD", "CNI_CONTAINERID": "abc-1.2_x", "CNI_NETNS": "/var/run/netns/p",
                       "CNI_IFNAME": "eth0", "CNI_PATH": "/opt/cni/bin:/usr/lib/cni"]

    @Test func parsesAdd() throws {
        var env = Self.base
        env["CNI_ARGS"] = "IgnoreUnknown=1;K8S_POD_NAMESPACE=team-a;K8S_POD_NAME=web-0"
        let e = try CNIEnvironment(env)
        #expect(e.command == .add && e.containerID == "abc-1.2_x" && e.ifname == "eth0")
        #expect(e.path == ["/opt/cni/bin", "/usr/lib/cni"])
        #expect(e.arg("K8S_POD_NAMESPACE") == "team-a")
        #expect(e.arg("missing") == nil)
    }

    @Test(arguments: [
        (["CNI_COMMAND": nil], 4), (["CNI_COMMAND": "FOO"], 4), (["CNI_CONTAINERID": nil], 4), (["CNI_CONTAINERID": "-bad"], 4),
        (["CNI_CONTAINERID": "a b"], 4), (["CNI_NETNS": nil], 4), (["CNI_IFNAME": nil], 4), (["CNI_IFNAME": "abcdefghijklmnop"], 4),
        (["CNI_IFNAME": "eth/0"], 4), (["CNI_IFNAME": ".."], 4), (["CNI_IFNAME": "e th"], 4), (["CNI_PATH": nil], 4), (["CNI_ARGS": "novalue"], 4),
    ] as [([String: String?], Int)])
    func rejects(change: [String: String?], code: Int) {
        var env = Self.base
        for (k, v) in change { env[k] = v }
        do { _ = try CNIEnvironment(env); Issue.record("accepted \(change)") } catch { #expect(error.code == code) }
    }

    @Test(arguments: [
        ["CNI_COMMAND": "DEL", "CNI_CONTAINERID": "c", "CNI_IFNAME": "eth0", "CNI_PATH": "/x"],  // DEL needs no netns
        ["CNI_COMMAND": "GC", "CNI_PATH": "/x"], ["CNI_COMMAND": "STATUS", "CNI_PATH": "/x"], ["CNI_COMMAND": "VERSION"],
        ["CNI_COMMAND": "ADD", "CNI_CONTAINERID": "c", "CNI_NETNS": "/n", "CNI_IFNAME": "abcdefghijklmno", "CNI_PATH": "/x"],
    ])
    func accepts(env: [String: String]) throws {
        _ = try CNIEnvironment(env)
    }
}

@Suite struct NetConfTests {
    @Test func unknownFieldsPassThrough() throws {
        let text = #"{"cniVersion":"0.4.0","name":"k8s","type":"kproxy-cni","bridge":"kp0","x-vendor":{"deep":[1,2]},"ipam":{"type":"kproxy-cni","subnet":"10.244.1.0/24"}}"#
        let conf = try NetConf(bytes: Array(text.utf8))
        #expect(conf.cniVersion == CNIVersion(0, 4, 0) && conf.name == "k8s" && conf.type == "kproxy-cni")
        #expect(conf.raw["x-vendor"]?["deep"] == [1, 2])
        #expect(conf.ipamType == "kproxy-cni")
        #expect(try JSONValue(parsing: conf.raw.serialized()) == (try JSONValue(parsing: text)))
    }

    @Test(arguments: [
        ("not json", 6), (#"[1]"#, 6), (#"{"name":"n","type":"t"}"#, 6), (#"{"cniVersion":"9.9.9","name":"n","type":"t"}"#, 1),
        (#"{"cniVersion":"1.0.0","type":"t"}"#, 7), (#"{"cniVersion":"1.0.0","name":"n"}"#, 7), (#"{"cniVersion":"1.0.0","name":"a/b","type":"t"}"#, 7),
    ])
    func rejects(text: String, code: Int) {
        do { _ = try NetConf(bytes: Array(text.utf8)); Issue.record("accepted") } catch { #expect(error.code == code) }
    }

    @Test func validAttachmentsBothSpellings() throws {
        for key in ["cni.dev/valid-attachments", "cni.dev/attachments"] {
            let conf = try NetConf(json: ["cniVersion": "1.1.0", "name": "n", "type": "t",
                                          key: [["containerID": "a", "ifname": "eth0"]]])
            #expect(try conf.validAttachments() == [AttachmentKey(containerID: "a", ifname: "eth0")])
        }
    }

    @Test func conflistInjectsNameVersionCapabilitiesAndPrevResult() throws {
        let list = try NetConfList(json: try JSONValue(parsing: #"""
            {"cniVersions":["0.4.0","1.0.0","7.0.0"],"name":"k8s","plugins":[{"type":"kproxy-cni"},
             {"type":"portmap","capabilities":{"portMappings":true}}]}
            """#))
        #expect(list.cniVersion == CNIVersion(1, 0, 0))
        let c = list.pluginConfig(at: 1, runtimeConfig: ["portMappings": [], "bandwidth": [:]], prevResult: ["ips": []])
        #expect(c["name"] == "k8s" && c["cniVersion"] == "1.0.0")
        #expect(c["runtimeConfig"] == ["portMappings": []])
        #expect(c["prevResult"] == ["ips": []])
        #expect(list.pluginConfig(at: 0)["runtimeConfig"] == nil)
    }
}

