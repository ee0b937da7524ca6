import Values

/// What every served Kubernetes kind declares about itself: the API it lives in and how it is addressed.
public struct ResourceInfo: Hashable, Sendable {
    /// API group; "" for the core group.
    public var group: String
    public var version: String
    public var kind: String
    /// Plural lower-case name used in URLs ("services", "endpointslices").
    public var resource: String
    public var singular: String
    public var namespaced: Bool
    public var shortNames: [String]
    public var verbs: [String]
    /// Discovery categories (`all` makes `kubectl get all` include the kind, as upstream does for pods and services).
    public var categories: [String]

    public init(group: String, version: String, kind: String, resource: String, singular: String,
                namespaced: Bool, shortNames: [String] = [], verbs: [String] = ResourceInfo.standardVerbs, categories: [String] = []) {
        self.group = group; self.version = version; self.kind = kind; self.resource = resource
        self.singular = singular; self.namespaced = namespaced; self.shortNames = shortNames; self.verbs = verbs
        self.categories = categories
    }

    public static let standardVerbs = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]

    /// "v1" for the core group, "discovery.k8s.io/v1" otherwise.
    public var apiVersion: String { group.isEmpty ? version : "\(group)/\(version)" }
}

/// A top-level Kubernetes object (has `apiVersion`, `kind`, `metadata`).
public protocol KubeObject: Codable, Sendable, Hashable {
    static var resourceInfo: ResourceInfo { get }
    var apiVersion: String? { get set }
    var kind: String? { get set }
    var metadata: ObjectMeta { get set }
}

extension KubeObject {
    public var name: String { metadata.name ?? "" }
    public var namespace: String? { metadata.namespace }
    /// `namespace/name`, or `name` for cluster-scoped objects: the cache key informers use.
    public var key: String {
        if let ns = metadata.namespace, !ns.isEmpty { return "\(ns)/\(name)" }
        return name
    }
    /// Sets `apiVersion` and `kind` from the type, as the API server does on every response.
    public mutating func setTypeMeta() {
        apiVersion = Self.resourceInfo.apiVersion
        kind = Self.resourceInfo.kind
    }
}

/// `metadata` of a list response.
public struct ListMeta: Codable, Hashable, Sendable {
    public var resourceVersion: String?
    public var `continue`: String?
    public var remainingItemCount: Int64?
    public var selfLink: String?
    public init(resourceVersion: String? = nil, continue: String? = nil, remainingItemCount: Int64? = nil) {
        self.resourceVersion = resourceVersion; self.continue = `continue`; self.remainingItemCount = remainingItemCount
    }
}

/// `ServiceList`, `PodList`, …: the kind is the item kind + "List".
public struct ObjectList<Item: KubeObject>: Codable, Hashable, Sendable {
    public var apiVersion: String?
    public var kind: String?
    public var metadata: ListMeta
    public var items: [Item]

    public init(items: [Item], resourceVersion: String?) {
        apiVersion = Item.resourceInfo.apiVersion
        kind = Item.resourceInfo.kind + "List"
        metadata = ListMeta(resourceVersion: resourceVersion)
        self.items = items
    }

    enum CodingKeys: String, CodingKey { case apiVersion, kind, metadata, items }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        apiVersion = try c.decodeIfPresent(String.self, forKey: .apiVersion)
        kind = try c.decodeIfPresent(String.self, forKey: .kind)
        metadata = try c.decodeIfPresent(ListMeta.self, forKey: .metadata) ?? ListMeta()
        // Upstream writes `"items": null` for an empty list in some versions.
        items = try c.decodeIfPresent([Item].self, forKey: .items) ?? []
    }
}

/// The type of a watch event, as upstream spells it.
public enum WatchEventType: String, Codable, Sendable, Hashable {
    case added = "ADDED", modified = "MODIFIED", deleted = "DELETED", bookmark = "BOOKMARK", error = "ERROR"
}

/// One line of a watch stream: `{"type":"ADDED","object":{…}}`. For ERROR the object is a `Status`,
/// which is why the object is kept untyped here and decoded by the reader.
public struct WatchEvent: Codable, Hashable, Sendable {
    public var type: WatchEventType
    public var object: JSONValue
    public init(type: WatchEventType, object: JSONValue) { self.type = type; self.object = object }
}
