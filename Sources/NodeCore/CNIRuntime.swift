import CNICore
import Values

/// One pod's attachment to the network: what a runtime passes to every plugin call.
public struct CNIAttachment: Sendable, Hashable {
    /// `CNI_CONTAINERID`: the sandbox's identity (kproxy uses the pod's UID).
    public var containerID: String
    /// `CNI_NETNS`: the namespace's path (`/run/netns/…`).
    public var netns: String
    public var ifName: String
    public var podNamespace: String
    public var podName: String
    public var podUID: String

    public init(containerID: String, netns: String, ifName: String = "eth0", podNamespace: String, podName: String, podUID: String) {
        self.containerID = containerID; self.netns = netns; self.ifName = ifName
        self.podNamespace = podNamespace; self.podName = podName; self.podUID = podUID
    }

    /// `CNI_ARGS` as the kubelet's runtimes set them (containerd and CRI-O): `IgnoreUnknown=1` first, so
    /// plugins that do not know the Kubernetes keys accept them.
    public var cniArgs: String {
        ["IgnoreUnknown=1", "K8S_POD_NAMESPACE=\(podNamespace)", "K8S_POD_NAME=\(podName)",
         "K8S_POD_INFRA_CONTAINER_ID=\(containerID)", "K8S_POD_UID=\(podUID)"].joined(separator: ";")
    }
}

/// A host port a pod asks for (`ports[].hostPort`), passed as the `portMappings` capability.
public struct CNIPortMapping: Sendable, Hashable {
    public var hostPort: Int, containerPort: Int, proto: String, hostIP: String?
    public init(hostPort: Int, containerPort: Int, proto: String, hostIP: String? = nil) {
        self.hostPort = hostPort; self.containerPort = containerPort; self.proto = proto; self.hostIP = hostIP
    }
    var json: JSONValue {
        var o: [String: JSONValue] = ["hostPort": .int(Int64(hostPort)), "containerPort": .int(Int64(containerPort)),
                                      "protocol": .string(proto.lowercased())]
        if let hostIP, !hostIP.isEmpty { o["hostIP"] = .string(hostIP) }
        return .object(o)
    }
}

/// Runs plugin binaries. The adapter spawns processes; tests record calls.
public protocol CNIPluginExecutor: Sendable {
    /// Runs `path` with exactly `environment` and `stdin`; returns the exit status and stdout.
    func run(_ path: String, environment: [String: String], stdin: [UInt8]) async throws(CNIError) -> (status: Int32, stdout: [UInt8])
}

/// The runtime side of the CNI specification, as libcni (containerd, CRI-O) drives a network
/// configuration list:
/// - ADD runs the plugins in order, each given the previous plugin's result as `prevResult`;
/// - DEL runs them in reverse, each given the cached result (from 0.4.0; before, without it);
/// - CHECK (from 0.4.0, unless `disableCheck`) runs them in order with the cached result;
/// - STATUS (from 1.1.0) asks each plugin whether it can take an ADD;
/// - GC (from 1.1.0, unless `disableGC`) passes `cni.dev/valid-attachments` so plugins drop the rest.
/// Each plugin receives only the runtime config keys it declares in `capabilities`.
public struct CNIRunner<Executor: CNIPluginExecutor>: Sendable {
    public let executor: Executor
    /// The directories of `CNI_PATH`, searched in order.
    public let binDirs: [String]
    /// Whether a file is an executable (the adapter checks the file system).
    public let isExecutable: @Sendable (String) -> Bool

    public init(executor: Executor, binDirs: [String], isExecutable: @escaping @Sendable (String) -> Bool) {
        self.executor = executor; self.binDirs = binDirs; self.isExecutable = isExecutable
    }

    public static func portMappingsConfig(_ mappings: [CNIPortMapping]) -> [String: JSONValue] {
        mappings.isEmpty ? [:] : ["portMappings": .array(mappings.map(\.json))]
    }

    /// ADD: returns the last plugin's result, in the list's version.
    public func add(_ list: NetConfList, _ a: CNIAttachment, runtimeConfig: [String: JSONValue] = [:]) async throws(CNIError) -> JSONValue {
        var prev: JSONValue?
        for i in list.plugins.indices {
            let conf = list.pluginConfig(at: i, runtimeConfig: runtimeConfig, prevResult: prev)
            guard let result = try await call("ADD", conf, attachment: a) else {
                throw CNIError(.decodeFailure, "plugin \(conf["type"]?.stringValue ?? "?") printed no result for ADD")
            }
            prev = result
        }
        guard let prev else { throw CNIError(.invalidConfig, "conflist \(list.name) has no plugins") }
        return prev
    }

    /// DEL in reverse order; a plugin's error stops the deletion (the runtime retries it later).
    public func del(_ list: NetConfList, _ a: CNIAttachment, cachedResult: JSONValue?, runtimeConfig: [String: JSONValue] = [:]) async throws(CNIError) {
        let withPrev = list.cniVersion >= CNIVersion(0, 4, 0)
        for i in list.plugins.indices.reversed() {
            let conf = list.pluginConfig(at: i, runtimeConfig: runtimeConfig, prevResult: withPrev ? cachedResult : nil)
            _ = try await call("DEL", conf, attachment: a)
        }
    }

    /// CHECK, when the list's version and `disableCheck` allow it; returns whether it ran.
    @discardableResult
    public func check(_ list: NetConfList, _ a: CNIAttachment, cachedResult: JSONValue, runtimeConfig: [String: JSONValue] = [:]) async throws(CNIError) -> Bool {
        guard list.cniVersion >= CNIVersion(0, 4, 0), !list.disableCheck else { return false }
        for i in list.plugins.indices {
            _ = try await call("CHECK", list.pluginConfig(at: i, runtimeConfig: runtimeConfig, prevResult: cachedResult), attachment: a)
        }
        return true
    }

    /// STATUS (1.1.0 lists); earlier versions have no such verb and are taken as ready.
    public func status(_ list: NetConfList) async throws(CNIError) {
        guard list.cniVersion >= CNIVersion(1, 1, 0) else { return }
        for i in list.plugins.indices { _ = try await call("STATUS", list.pluginConfig(at: i), attachment: nil) }
    }

    /// GC with the attachments still in use; returns whether it ran.
    @discardableResult
    public func gc(_ list: NetConfList, valid: [CNIAttachment]) async throws(CNIError) -> Bool {
        guard list.cniVersion >= CNIVersion(1, 1, 0), !list.disableGC else { return false }
        let attachments = JSONValue.array(valid.map { .object(["containerID": .string($0.containerID), "ifname": .string($0.ifName)]) })
        for i in list.plugins.indices {
            var conf = list.pluginConfig(at: i)
            conf["cni.dev/valid-attachments"] = attachments
            _ = try await call("GC", conf, attachment: nil)
        }
        return true
    }

    /// VERSION: the spec versions plugin `type` supports (its `supportedVersions`).
    public func supportedVersions(_ type: String) async throws(CNIError) -> [CNIVersion] {
        let conf: JSONValue = ["cniVersion": "0.4.0", "type": .string(type), "name": "version-query"]
        let answer = try await call("VERSION", conf, attachment: nil)
        return (answer?["supportedVersions"]?.arrayValue ?? []).compactMap { $0.stringValue.flatMap(CNIVersion.init) }
    }

    /// The highest version every one of `types` and this runtime support (nil when there is none).
    public func commonVersion(_ types: [String]) async throws(CNIError) -> CNIVersion? {
        var common = Set(CNIVersion.supported)
        for type in types { common.formIntersection(try await supportedVersions(type)) }
        return common.max()
    }

    /// The environment of one call: `CNI_COMMAND` and `CNI_PATH`, and the attachment's variables when there is one.
    public func environment(_ command: String, _ a: CNIAttachment?) -> [String: String] {
        var env = ["CNI_COMMAND": command, "CNI_PATH": binDirs.joined(separator: ":")]
        if command == "VERSION" { env.removeValue(forKey: "CNI_PATH") }
        if let a {
            env["CNI_CONTAINERID"] = a.containerID
            env["CNI_NETNS"] = a.netns
            env["CNI_IFNAME"] = a.ifName
            env["CNI_ARGS"] = a.cniArgs
        }
        return env
    }

    private func call(_ command: String, _ conf: JSONValue, attachment a: CNIAttachment?) async throws(CNIError) -> JSONValue? {
        guard let type = conf["type"]?.stringValue, !type.isEmpty, !type.contains("/") else {
            throw CNIError(.invalidConfig, "plugin entry without a valid type")
        }
        guard let path = binDirs.lazy.map({ $0.hasSuffix("/") ? $0 + type : $0 + "/" + type }).first(where: isExecutable) else {
            throw CNIError(.invalidConfig, "failed to find plugin \"\(type)\" in path [\(binDirs.joined(separator: " "))]")
        }
        let (status, out) = try await executor.run(path, environment: environment(command, a), stdin: Array(conf.serialized().utf8))
        let blank = out.allSatisfy { $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }
        let json: JSONValue? = blank ? nil : try? JSONValue(parsing: out)
        if status != 0 {
            if let json, let error = CNIError(json: json) { throw error }
            throw CNIError(.internalFailure, "plugin \(type) \(command) exited with status \(status)", details: String(decoding: out, as: UTF8.self))
        }
        if !blank, json == nil {
            throw CNIError(.decodeFailure, "plugin \(type) \(command) printed invalid JSON", details: String(decoding: out, as: UTF8.self))
        }
        return json
    }
}

/// The configuration a runtime uses from a conf dir: the first file in lexical order with a `.conflist`,
/// `.conf` or `.json` name that parses (libcni's ConfFiles order, as containerd and CRI-O pick it); a
/// single-plugin `.conf` becomes a list of one.
public enum CNIConfDir {
    public static let extensions = [".conflist", ".conf", ".json"]

    public static func candidates(_ fileNames: [String]) -> [String] {
        fileNames.filter { name in extensions.contains { name.hasSuffix($0) } && !name.hasPrefix(".") }.sorted()
    }

    /// Parses one file's contents as a list.
    public static func parse(fileName: String, contents: [UInt8]) throws(CNIError) -> NetConfList {
        let json: JSONValue
        do { json = try JSONValue(parsing: contents) } catch { throw CNIError(.decodeFailure, "\(fileName): \(error)") }
        if json["plugins"] != nil { return try NetConfList(json: json) }
        guard case .object(var single) = json else { throw CNIError(.decodeFailure, "\(fileName): not a JSON object") }
        let name = single.removeValue(forKey: "name") ?? .null
        let version = single.removeValue(forKey: "cniVersion") ?? .null
        return try NetConfList(json: .object(["cniVersion": version, "name": name, "plugins": .array([.object(single)])]))
    }
}

/// The result cache of one attachment, in libcni's `cniCacheV1` layout (`<dir>/results/<network>-<id>-<ifname>`),
/// so DEL and CHECK get the ADD result after a restart.
public struct CNICacheEntry: Sendable, Equatable {
    public var attachment: CNIAttachment
    public var networkName: String
    public var result: JSONValue
    public var capabilityArgs: [String: JSONValue]

    public init(attachment: CNIAttachment, networkName: String, result: JSONValue, capabilityArgs: [String: JSONValue]) {
        self.attachment = attachment; self.networkName = networkName; self.result = result; self.capabilityArgs = capabilityArgs
    }

    public static func fileName(network: String, _ a: CNIAttachment) -> String { "\(network)-\(a.containerID)-\(a.ifName)" }

    public var json: JSONValue {
        let args = attachment.cniArgs.split(separator: ";").map { kv -> JSONValue in
            let p = kv.split(separator: "=", maxSplits: 1).map(String.init)
            return .array([.string(p[0]), .string(p.count > 1 ? p[1] : "")])
        }
        return .object([
            "kind": "cniCacheV1", "containerId": .string(attachment.containerID), "ifName": .string(attachment.ifName),
            "networkName": .string(networkName), "cniArgs": .array(args), "capabilityArgs": .object(capabilityArgs),
            "result": result,
            // kproxy's own: what it needs to rebuild the attachment.
            "kproxy": .object(["netns": .string(attachment.netns), "podNamespace": .string(attachment.podNamespace),
                               "podName": .string(attachment.podName), "podUID": .string(attachment.podUID)]),
        ])
    }

    public init(json: JSONValue) throws(CNIError) {
        guard json["kind"]?.stringValue == "cniCacheV1", let id = json["containerId"]?.stringValue,
              let ifName = json["ifName"]?.stringValue, let network = json["networkName"]?.stringValue,
              let result = json["result"], let own = json["kproxy"], let netns = own["netns"]?.stringValue else {
            throw CNIError(.decodeFailure, "not a cniCacheV1 entry written by kproxy")
        }
        attachment = CNIAttachment(containerID: id, netns: netns, ifName: ifName, podNamespace: own["podNamespace"]?.stringValue ?? "",
                                   podName: own["podName"]?.stringValue ?? "", podUID: own["podUID"]?.stringValue ?? "")
        networkName = network
        self.result = result
        capabilityArgs = json["capabilityArgs"]?.objectValue ?? [:]
    }
}
