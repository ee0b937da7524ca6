import Foundation
import KubeAPI
import Values

/// The Node object an agent registers and keeps current, as the kubelet fills it in.
public enum NodeObject {
    public struct Facts: Sendable, Equatable {
        public var name: String
        public var addresses: [String]
        public var cpus: Int
        public var memoryKiB: Int
        public var maxPods = 110
        public var kernelVersion = "", osImage = "", architecture = "amd64", bootID = ""
        public init(name: String, addresses: [String], cpus: Int, memoryKiB: Int) {
            self.name = name; self.addresses = addresses; self.cpus = cpus; self.memoryKiB = memoryKiB
        }
    }

    public static let agentVersion = "v1.32.0-kproxy"

    /// The labels a kubelet sets on its node.
    public static func labels(_ f: Facts) -> [String: String] {
        ["kubernetes.io/hostname": f.name, "kubernetes.io/os": "linux", "kubernetes.io/arch": f.architecture,
         "beta.kubernetes.io/os": "linux", "beta.kubernetes.io/arch": f.architecture]
    }

    /// The status, with `previous`'s transition times kept where a condition did not change. `networkError`
    /// nil means the CNI configuration is present and STATUS passed.
    public static func status(_ f: Facts, networkError: String?, previous: NodeStatus, now: Date) -> NodeStatus {
        var s = previous
        let time = KubeTime.format(now)
        var resources = ["cpu": String(f.cpus), "memory": "\(f.memoryKiB)Ki", "pods": String(f.maxPods)]
        s.capacity = resources
        resources["memory"] = "\(max(0, f.memoryKiB - 100 * 1024))Ki"  // the kubelet's default eviction reserve
        s.allocatable = resources
        s.addresses = f.addresses.map { NodeAddress(type: .internalIP, address: $0) } + [NodeAddress(type: .hostname, address: f.name)]
        func condition(_ type: NodeConditionType, _ status: ConditionStatus, _ reason: String, _ message: String) -> NodeCondition {
            let old = previous.conditions?.first { $0.type == type }
            return NodeCondition(type: type, status: status, lastHeartbeatTime: time,
                                 lastTransitionTime: old?.status == status ? (old?.lastTransitionTime ?? time) : time,
                                 reason: reason, message: message)
        }
        s.conditions = [
            condition(.memoryPressure, .false, "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
            condition(.diskPressure, .false, "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
            condition(.pidPressure, .false, "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
            networkError.map {
                condition(.ready, .false, "KubeletNotReady",
                          "container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:Network plugin returns error: \($0)")
            } ?? condition(.ready, .true, "KubeletReady", "kubelet is posting ready status"),
        ]
        s.nodeInfo = .object([
            "machineID": .string(""), "systemUUID": .string(""), "bootID": .string(f.bootID), "kernelVersion": .string(f.kernelVersion),
            "osImage": .string(f.osImage), "containerRuntimeVersion": .string("kproxy://0.1.0"),
            "kubeletVersion": .string(agentVersion), "kubeProxyVersion": .string(""), "operatingSystem": .string("linux"),
            "architecture": .string(f.architecture),
        ])
        return s
    }

    /// The node's Lease in `kube-node-lease`, owned by the Node so it goes with it.
    public static func lease(node: Node, now: Date, durationSeconds: Int = 40) -> Lease {
        var meta = ObjectMeta(name: node.name, namespace: Lease.nodeLeaseNamespace)
        meta.ownerReferences = [OwnerReference(apiVersion: "v1", kind: "Node", name: node.name, uid: node.metadata.uid ?? "")]
        var spec = LeaseSpec()
        spec.holderIdentity = node.name
        spec.leaseDurationSeconds = durationSeconds
        spec.renewTime = KubeTime.formatMicro(now)
        return Lease(metadata: meta, spec: spec)
    }
}

/// The conflist an agent writes when the conf dir has none (as kindnet and flannel do): kproxy-cni on a
/// bridge with the node's pod CIDR, and portmap for `hostPort` when that plugin is installed.
public enum KProxyConflist {
    public static let fileName = "10-kproxy.conflist"

    public static func render(podCIDR: String, clusterDNS: String?, clusterDomain: String, withPortmap: Bool, ipamDataDir: String?,
                              cniVersion: String = "1.1.0") -> String {
        var ipam = #""type": "kproxy-cni", "subnet": "\#(podCIDR)""#
        if let ipamDataDir { ipam += #", "dataDir": "\#(ipamDataDir)""# }
        var dns = ""
        if let clusterDNS, !clusterDNS.isEmpty { dns = #"      "clusterDNS": "\#(clusterDNS)",\#n      "clusterDomain": "\#(clusterDomain)",\#n"# }
        let portmap = withPortmap ? ",\n    { \"type\": \"portmap\", \"capabilities\": { \"portMappings\": true }, \"snat\": true }" : ""
        return """
        {
          "cniVersion": "\(cniVersion)",
          "name": "kproxy",
          "plugins": [
            {
              "type": "kproxy-cni",
              "bridge": "kp0",
              "hairpinMode": true,
        \(dns)      "ipam": { \(ipam) }
            }\(portmap)
          ]
        }

        """
    }
}
