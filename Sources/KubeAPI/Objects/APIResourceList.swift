/// `/api`: the core group's versions.
public struct APIVersions: FieldCoded, Hashable, Sendable {
    public var kind: String?
    public var versions: [String] = []
    public var serverAddressByClientCIDRs: [ServerAddressByClientCIDR] = []
    public var unknownFields = UnknownFields()

    public init() {}
    public init(versions: [String], serverAddressByClientCIDRs: [ServerAddressByClientCIDR] = []) {
        kind = "APIVersions"; self.versions = versions; self.serverAddressByClientCIDRs = serverAddressByClientCIDRs
    }

    public static let codedFields: [CodedField<APIVersions>] = [.optional("kind", \.kind), .always("versions", \.versions), .always("serverAddressByClientCIDRs", \.serverAddressByClientCIDRs)]
}

/// `{"clientCIDR": "0.0.0.0/0", "serverAddress": "10.0.0.1:6443"}`.
public struct ServerAddressByClientCIDR: FieldCoded, Hashable, Sendable {
    public var clientCIDR = ""
    public var serverAddress = ""
    public var unknownFields = UnknownFields()
    public init() {}
    public init(clientCIDR: String, serverAddress: String) { self.clientCIDR = clientCIDR; self.serverAddress = serverAddress }
    public static let codedFields: [CodedField<ServerAddressByClientCIDR>] = [.always("clientCIDR", \.clientCIDR), .always("serverAddress", \.serverAddress)]
}

/// `/apis`: the named groups.
public struct APIGroupList: FieldCoded, Hashable, Sendable {
    public var kind: String?
    public var apiVersion: String?
    public var groups: [APIGroup] = []
    public var unknownFields = UnknownFields()

    public init() {}
    public init(groups: [APIGroup]) { kind = "APIGroupList"; apiVersion = "v1"; self.groups = groups }

    public static let codedFields: [CodedField<APIGroupList>] = [.optional("kind", \.kind), .optional("apiVersion", \.apiVersion), .always("groups", \.groups)]
}

/// `/apis/<group>` and an entry of `APIGroupList`.
public struct APIGroup: FieldCoded, Hashable, Sendable {
    public var kind: String?
    public var apiVersion: String?
    public var name = ""
    public var versions: [GroupVersionForDiscovery] = []
    public var preferredVersion: GroupVersionForDiscovery?
    public var serverAddressByClientCIDRs: [ServerAddressByClientCIDR]?
    public var unknownFields = UnknownFields()

    public init() {}
    public init(name: String, versions: [GroupVersionForDiscovery], preferredVersion: GroupVersionForDiscovery? = nil,
                kind: String? = nil, apiVersion: String? = nil) {
        self.kind = kind; self.apiVersion = apiVersion; self.name = name; self.versions = versions
        self.preferredVersion = preferredVersion ?? versions.first
    }

    public static let codedFields: [CodedField<APIGroup>] = [.optional("kind", \.kind), .optional("apiVersion", \.apiVersion), .always("name", \.name),
         .always("versions", \.versions), .optional("preferredVersion", \.preferredVersion),
         .optional("serverAddressByClientCIDRs", \.serverAddressByClientCIDRs)]
}

/// `{"groupVersion": "discovery.k8s.io/v1", "version": "v1"}`.
public struct GroupVersionForDiscovery: FieldCoded, Hashable, Sendable {
    public var groupVersion = ""
    public var version = ""
    public var unknownFields = UnknownFields()
    public init() {}
    public init(groupVersion: String, version: String) { self.groupVersion = groupVersion; self.version = version }
    public static let codedFields: [CodedField<GroupVersionForDiscovery>] = [.always("groupVersion", \.groupVersion), .always("version", \.version)]
}

/// `/api/v1` and `/apis/<group>/<version>`: the resources of one group version.
public struct APIResourceList: FieldCoded, Hashable, Sendable {
    public var kind: String?
    public var apiVersion: String?
    public var groupVersion = ""
    public var resources: [APIResource] = []
    public var unknownFields = UnknownFields()

    public init() {}
    public init(groupVersion: String, resources: [APIResource]) {
        kind = "APIResourceList"; apiVersion = "v1"; self.groupVersion = groupVersion; self.resources = resources
    }

    public static let codedFields: [CodedField<APIResourceList>] = [.optional("kind", \.kind), .optional("apiVersion", \.apiVersion), .always("groupVersion", \.groupVersion),
         .always("resources", \.resources)]
}

/// One resource (or subresource, `services/status`) in an `APIResourceList`.
public struct APIResource: FieldCoded, Hashable, Sendable {
    public var name = ""
    public var singularName = ""
    public var namespaced = false
    public var group: String?
    public var version: String?
    public var kind = ""
    public var verbs: [String] = []
    public var shortNames: [String]?
    public var categories: [String]?
    public var storageVersionHash: String?
    public var unknownFields = UnknownFields()

    public init() {}
    public init(name: String, singularName: String, namespaced: Bool, kind: String, verbs: [String],
                shortNames: [String]? = nil, categories: [String]? = nil, group: String? = nil, version: String? = nil) {
        self.name = name; self.singularName = singularName; self.namespaced = namespaced; self.kind = kind
        self.verbs = verbs; self.shortNames = shortNames; self.categories = categories; self.group = group; self.version = version
    }

    /// The entry for a served kind, as upstream lists it.
    public init(_ info: ResourceInfo) {
        self.init(name: info.resource, singularName: info.singular, namespaced: info.namespaced, kind: info.kind,
                  verbs: info.verbs, shortNames: info.shortNames.isEmpty ? nil : info.shortNames,
                  categories: info.categories.isEmpty ? nil : info.categories)
    }

    public static let codedFields: [CodedField<APIResource>] = [.always("name", \.name), .always("singularName", \.singularName), .always("namespaced", \.namespaced),
         .optional("group", \.group), .optional("version", \.version), .always("kind", \.kind), .always("verbs", \.verbs),
         .optional("shortNames", \.shortNames), .optional("categories", \.categories),
         .optional("storageVersionHash", \.storageVersionHash)]
}
