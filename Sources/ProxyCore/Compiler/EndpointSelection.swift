/// The endpoints one Service port uses on this node, split by traffic policy (upstream `CategorizeEndpoints`,
/// without topology hints).
public struct EndpointSelection: Hashable, Sendable {
    /// Endpoints for Cluster policy: ready ones anywhere, else serving+terminating ones.
    public var cluster: [EndpointInfo] = []
    /// Endpoints for Local policy: this node's ready ones, else its serving+terminating ones.
    public var local: [EndpointInfo] = []
    /// Every endpoint some chain of this Service uses (cluster ∪ local), each once.
    public var allReachable: [EndpointInfo] = []
    /// Whether the Service has usable endpoints anywhere in the cluster.
    public var hasAny = false

    public init(endpoints: [EndpointInfo], service: ServicePortInfo, nodeName: String) {
        if service.usesClusterEndpoints {
            cluster = endpoints.filter(\.ready)
            if cluster.isEmpty { cluster = endpoints.filter { $0.serving && $0.terminating } }
            hasAny = !cluster.isEmpty
        }
        guard service.usesLocalEndpoints else { allReachable = cluster; return }

        var localReady = false, localTerminating = false
        for ep in endpoints {
            if ep.ready {
                hasAny = true
                if ep.isLocal(to: nodeName) { localReady = true }
            } else if ep.serving && ep.terminating {
                hasAny = true
                if ep.isLocal(to: nodeName) { localTerminating = true }
            }
        }
        if localReady {
            local = endpoints.filter { $0.isLocal(to: nodeName) && $0.ready }
        } else if localTerminating {
            local = endpoints.filter { $0.isLocal(to: nodeName) && $0.serving && $0.terminating }
        }
        guard service.usesClusterEndpoints else { allReachable = local; return }
        var seen = Set<EndpointInfo>()
        allReachable = (cluster + local).filter { seen.insert($0).inserted }
    }
}
