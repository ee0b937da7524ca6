import CNICore
import CNIStore
import Values

/// Everything one plugin run received: the validated environment, the parsed config and the raw
/// stdin (passed unchanged to a delegated IPAM plugin).
struct Invocation {
    /// The `type` this binary answers to as the main plugin; any other top-level type means it
    /// was called as an `ipam` plugin (for example by the reference `bridge`).
    static let pluginType = "kproxy-cni"

    let env: CNIEnvironment
    let conf: NetConf
    let stdin: [UInt8]
    let environment: [String: String]

    var key: AttachmentKey { AttachmentKey(containerID: env.containerID, ifname: env.ifname) }

    /// Rejects commands the config's version does not have (CHECK < 0.4.0, GC/STATUS < 1.1.0).
    func requireVersionSupports(_ command: CNICommand) throws(CNIError) {
        let v = conf.cniVersion
        let ok = switch command {
        case .check: v.supportsCheck
        case .gc, .status: v.supportsGCAndStatus
        default: true
        }
        if !ok { throw CNIError(.incompatibleVersion, "config version \(v) does not support \(command.rawValue)") }
    }

    /// The IPAM backend the config names: this binary's own allocator or a delegate in CNI_PATH.
    func ipamBackend() throws(CNIError) -> any IPAMBackend {
        guard let ipam = conf.ipam else { throw CNIError(.invalidConfig, "missing ipam section") }
        guard let type = ipam["type"]?.stringValue, !type.isEmpty else { throw CNIError(.invalidConfig, "missing ipam type") }
        if type == Self.pluginType {
            let config = try IPAMConfig(json: ipam)
            return LocalIPAM(allocator: IPAllocator(config: config, store: DiskAllocationStore(dataDir: config.dataDir, network: conf.name)),
                             dns: try ipamDNS(ipam))
        }
        return DelegateIPAM(plugin: try DelegatePlugin.find(type, in: env.path), invocation: self)
    }

    /// `clusterDNS`/`clusterDomain` in the ipam section (IPAM mode reports DNS too).
    private func ipamDNS(_ ipam: JSONValue) throws(CNIError) -> ClusterDNS? {
        var fake = conf.raw
        fake["clusterDNS"] = ipam["clusterDNS"] ?? conf.raw["clusterDNS"]
        fake["clusterDomain"] = ipam["clusterDomain"] ?? conf.raw["clusterDomain"]
        return try ClusterDNS(conf: try NetConf(json: fake))
    }
}
