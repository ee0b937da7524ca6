import Foundation
import NodeCore

/// Settings of `kproxy node`.
public struct AgentConfig: Sendable {
    public var nodeName: String
    public var cniConfDir = "/etc/cni/net.d"
    public var cniBinDirs = ["/opt/cni/bin"]
    public var cniCacheDir = "/var/lib/cni"
    public var rootDir = "/var/lib/kproxy/node"
    /// Where the IPAM of a conflist this agent writes keeps its allocations (the plugin's default when nil).
    public var ipamDataDir: String?
    public var clusterDNS: [String] = []
    public var clusterDomain = "cluster.local"
    public var nodeIPs: [String] = []
    public var hostResolvConf = "/etc/resolv.conf"
    public var leaseDuration = 40
    public var statusInterval: Duration = .seconds(60)
    /// The node API (logs), at the kubelet's port.
    public var nodeAPIAddress = "0.0.0.0"
    public var nodeAPIPort = 10250

    public init(nodeName: String) { self.nodeName = nodeName }

    var podsDir: String { rootDir + "/pods" }
    func podDir(_ uid: String) -> String { "\(podsDir)/\(uid)" }
    static let netnsPrefix = "kproxy-"
    func netnsPath(_ uid: String) -> String { NetnsFiles.path(Self.netnsPrefix + uid) }
    var cniResultsDir: String { cniCacheDir + "/results" }
}

/// What the agent keeps on disk for each pod so a restarted agent adopts it: the attachment and the
/// processes it started (pid and kernel start time, so a reused pid is not mistaken for ours).
struct PodRecord: Codable, Sendable {
    var uid: String
    var namespace: String
    var name: String
    var netns: String
    var podIPs: [String]
    var containers: [String: ContainerRecord]
}

struct ContainerRecord: Codable, Sendable {
    var pid: Int32
    var startTicks: UInt64
    var startedAt: Date
    var restartCount: Int
    var backoff: Double
}

/// `/proc` facts about a process.
enum ProcFS {
    /// Field 22 of /proc/PID/stat (start time in clock ticks since boot), or nil when there is no such process.
    static func startTicks(_ pid: Int32) -> UInt64? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = text.lastIndex(of: ")") else { return nil }
        let fields = text[text.index(after: close)...].split(separator: " ")
        // After ")": state is field 3, so start time (22) is index 19.
        guard fields.count > 19 else { return nil }
        return UInt64(fields[19])
    }

    static func alive(_ pid: Int32, ticks: UInt64) -> Bool { startTicks(pid) == ticks }
}
