import CNICore
import Foundation
import Netlink
import Testing
import Values

/// Runs CNI plugins the way a runtime does, from inside a node test namespace (`ip netns exec`).
/// Nothing here touches the root namespace: bridges, veths and rules live in the node namespace.
struct CNIRunner {
    let node: TestNetns
    let dataDir: String
    /// Directory with `kproxy-cni` first, then Debian's reference plugins.
    static let pluginDirs = [CNIRunner.buildDir, "/usr/lib/cni"]
    static var buildDir: String { (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")).map { ($0 as NSString).deletingLastPathComponent } ?? "." }
    static var binary: String { buildDir + "/kproxy-cni" }

    static var available: Bool { NetnsSupport.isAvailable && FileManager.default.isExecutableFile(atPath: binary) }

    struct Invocation {
        var command: String
        var containerID: String
        var netns: String
        var ifname = "eth0"
        var args = ""
    }

    /// The environment of one plugin run.
    func environment(_ inv: Invocation, extra: [String: String] = [:]) -> [String: String] {
        var env = ["CNI_COMMAND": inv.command, "CNI_CONTAINERID": inv.containerID, "CNI_NETNS": inv.netns,
                   "CNI_IFNAME": inv.ifname, "CNI_ARGS": inv.args, "CNI_PATH": Self.pluginDirs.joined(separator: ":"),
                   "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"]
        for (k, v) in extra { env[k] = v }
        return env
    }

    /// Runs one plugin binary inside the node namespace with `config` on stdin.
    func run(plugin: String, _ inv: Invocation, config: JSONValue, extra: [String: String] = [:]) throws -> NetnsSupport.Output {
        let path = Self.pluginDirs.map { $0 + "/" + plugin }.first { FileManager.default.isExecutableFile(atPath: $0) } ?? plugin
        let envArgs = environment(inv, extra: extra).sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
        return try NetnsSupport.run([NetnsSupport.ipTool, "netns", "exec", node.name, "/usr/bin/env", "-i"] + envArgs + [path],
                                    input: config.serialized())
    }

    /// Runs kproxy-cni and decodes its stdout (result, or nil when empty), throwing the CNI error it printed.
    @discardableResult
    func kproxy(_ inv: Invocation, config: JSONValue, extra: [String: String] = [:]) throws -> JSONValue? {
        try decode(run(plugin: "kproxy-cni", inv, config: config, extra: extra))
    }

    func decode(_ out: NetnsSupport.Output) throws -> JSONValue? {
        let text = out.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let json: JSONValue? = text.isEmpty ? nil : try JSONValue(parsing: text)
        if out.status != 0 {
            if let json, let e = CNIError(json: json) { throw e }
            throw NetnsSupport.CommandFailed(command: "plugin", status: out.status, stderr: out.stdout + out.stderr)
        }
        return json
    }

    /// A kproxy-cni config for `subnet` on bridge `bridge`.
    func config(bridge: String, subnet: String, version: String = "1.1.0", extra: [String: JSONValue] = [:]) -> JSONValue {
        var c: JSONValue = ["cniVersion": .string(version), "name": "kpt", "type": "kproxy-cni", "bridge": .string(bridge), "mtu": 1400,
                            "clusterDNS": "10.96.0.10",
                            "ipam": ["type": "kproxy-cni", "subnet": .string(subnet), "dataDir": .string(dataDir)]]
        for (k, v) in extra { c[k] = v }
        return c
    }

    /// Addresses allocated in the disk store, by file name.
    func allocatedAddresses(network: String = "kpt") -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: dataDir + "/" + network)) ?? [])
            .filter { IPAddress($0) != nil }.sorted()
    }

    /// Executes a conflist as a runtime: ADD in order with prevResult, DEL in reverse.
    func addList(_ list: NetConfList, _ inv: Invocation, runtimeConfig: [String: JSONValue]) throws -> JSONValue? {
        var prev: JSONValue?
        for i in list.plugins.indices {
            let conf = list.pluginConfig(at: i, runtimeConfig: runtimeConfig, prevResult: prev)
            let type = conf["type"]?.stringValue ?? ""
            prev = try decode(run(plugin: type, inv, config: conf)) ?? prev
        }
        return prev
    }

    func delList(_ list: NetConfList, _ inv: Invocation, runtimeConfig: [String: JSONValue], prevResult: JSONValue?) throws {
        for i in list.plugins.indices.reversed() {
            let conf = list.pluginConfig(at: i, runtimeConfig: runtimeConfig, prevResult: prevResult)
            _ = try decode(run(plugin: conf["type"]?.stringValue ?? "", inv, config: conf))
        }
    }

    static func makeDataDir() -> String {
        let dir = NSTemporaryDirectory() + "kp-cni-\(NetnsSupport.uniqueSuffix(8))"
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }
}

/// TCP reachability between namespaces without helper programs: a listener opened from a thread
/// inside one namespace, a connect from a thread inside another.
enum TCPProbe {
    /// Opens a listening socket on `port` inside `netns`; the caller closes it.
    static func listen(netns: String, port: UInt16) throws -> Int32 {
        try NetworkNamespace.run(path: "/var/run/netns/" + netns) { () throws(NetlinkError) -> Int32 in
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var one: Int32 = 1
            setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
            var addr = sockaddr_in()
            addr.sin_family = sa_family_t(AF_INET)
            addr.sin_port = port.bigEndian
            let ok = withUnsafePointer(to: &addr) { p in
                p.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } == 0
            } && Glibc.listen(fd, 16) == 0
            guard ok else { close(fd); throw NetlinkError(code: errno, operation: "listen", object: "\(port)") }
            return fd
        }
    }

    /// True when a TCP connection from inside `netns` to `address:port` completes within two seconds.
    static func connects(from netns: String, to address: String, port: UInt16) throws -> Bool {
        try NetworkNamespace.run(path: "/var/run/netns/" + netns) { () throws(NetlinkError) -> Bool in
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            defer { close(fd) }
            var tv = timeval(tv_sec: 2, tv_usec: 0)
            setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
            var addr = sockaddr_in()
            addr.sin_family = sa_family_t(AF_INET)
            addr.sin_port = port.bigEndian
            inet_pton(AF_INET, address, &addr.sin_addr)
            return withUnsafePointer(to: &addr) { p in
                p.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } == 0
            }
        }
    }
}
