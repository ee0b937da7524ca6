/// How a strategic merge patch treats the lists of one kind, from upstream's struct tags
/// (`patchStrategy:"merge" patchMergeKey:"…"`). Paths name fields through objects; list
/// elements do not add a step, so `spec.containers.ports` is every container's `ports`.
/// Lists not described are atomic (the patch replaces them), as upstream does for untagged lists.
public struct PatchSchema: Hashable, Sendable {
    /// The merge behaviour of one list field.
    public enum ListStrategy: Hashable, Sendable {
        /// Replaced whole by the patch.
        case atomic
        /// A list of objects merged element by element on the value of this key.
        case mergeByKey(String)
        /// A list of scalars merged as a set (`patchStrategy:"merge"` without a key).
        case mergeSet
    }

    /// Strategy by path (field names from the object root).
    public private(set) var lists: [[String]: ListStrategy]

    /// A schema from dotted paths (`"spec.ports": .mergeByKey("port")`).
    public init(lists: [String: ListStrategy] = [:]) {
        var byPath: [[String]: ListStrategy] = [:]
        for (path, strategy) in lists {
            byPath[path.split(separator: ".").map(String.init)] = strategy
        }
        self.lists = byPath
    }

    /// The strategy for the list at `path`.
    public func listStrategy(at path: [String]) -> ListStrategy {
        lists[path] ?? .atomic
    }

    /// This schema plus `other`'s entries (other wins on conflicts).
    public func merging(_ other: PatchSchema) -> PatchSchema {
        var copy = self
        copy.lists.merge(other.lists) { _, new in new }
        return copy
    }

    /// `metav1.ObjectMeta`'s tagged lists, common to every kind.
    public static let objectMeta = PatchSchema(lists: [
        "metadata.finalizers": .mergeSet,
        "metadata.ownerReferences": .mergeByKey("uid"),
    ])

    /// The schema of a built-in kind; unknown kinds get the `metadata` entries only.
    public static func forKind(_ kind: String) -> PatchSchema {
        switch kind {
        case "Service": objectMeta.merging(service)
        case "Pod": objectMeta.merging(pod)
        case "Node": objectMeta.merging(node)
        case "Namespace": objectMeta.merging(namespace)
        case "Deployment", "ReplicaSet": objectMeta.merging(workload)
        case "EndpointSlice", "Event": objectMeta
        default: objectMeta
        }
    }

    /// `ServiceSpec.ports` merges by `port`; `status.conditions` by `type`.
    static let service = PatchSchema(lists: [
        "spec.ports": .mergeByKey("port"),
        "status.conditions": .mergeByKey("type"),
    ])

    /// Pod spec and status lists; containers' lists apply to all three container kinds.
    static let pod: PatchSchema = {
        var lists: [String: ListStrategy] = [
            "spec.volumes": .mergeByKey("name"),
            "spec.imagePullSecrets": .mergeByKey("name"),
            "spec.hostAliases": .mergeByKey("ip"),
            "spec.topologySpreadConstraints": .mergeByKey("topologyKey"),
            "spec.resourceClaims": .mergeByKey("name"),
            "spec.schedulingGates": .mergeByKey("name"),
            "status.conditions": .mergeByKey("type"),
            "status.podIPs": .mergeByKey("ip"),
            "status.hostIPs": .mergeByKey("ip"),
            "status.resourceClaimStatuses": .mergeByKey("name"),
        ]
        for containers in ["spec.containers", "spec.initContainers", "spec.ephemeralContainers"] {
            lists[containers] = .mergeByKey("name")
            lists[containers + ".ports"] = .mergeByKey("containerPort")
            lists[containers + ".env"] = .mergeByKey("name")
            lists[containers + ".volumeMounts"] = .mergeByKey("mountPath")
            lists[containers + ".volumeDevices"] = .mergeByKey("devicePath")
        }
        return PatchSchema(lists: lists)
    }()

    /// Deployments and ReplicaSets: the pod template's lists under `spec.template`, the template's
    /// metadata lists, and `status.conditions` by type.
    static let workload: PatchSchema = {
        var lists: [[String]: ListStrategy] = [:]
        for (path, strategy) in pod.lists where path.first == "spec" { lists[["spec", "template"] + path] = strategy }
        lists[["spec", "template", "metadata", "finalizers"]] = .mergeSet
        lists[["status", "conditions"]] = .mergeByKey("type")
        var schema = PatchSchema()
        schema.lists = lists
        return schema
    }()

    /// `NodeSpec.podCIDRs` merges as a set; `taints` carries no patch strategy upstream (atomic).
    static let node = PatchSchema(lists: [
        "spec.podCIDRs": .mergeSet,
        "status.addresses": .mergeByKey("type"),
        "status.conditions": .mergeByKey("type"),
    ])

    static let namespace = PatchSchema(lists: [
        "status.conditions": .mergeByKey("type"),
    ])
}
