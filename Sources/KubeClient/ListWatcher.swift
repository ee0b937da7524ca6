import KubeAPI

/// What an informer needs from a server: a complete list, and a watch from a resourceVersion.
/// `KubeListWatcher` implements it over `KubeClient`; `FakeListWatcher` plays a script in tests.
public protocol ListWatcher<Object>: Sendable {
    associatedtype Object: KubeObject
    /// Every object (all pages), with the list's resourceVersion.
    func list() async throws -> ObjectList<Object>
    /// Changes after `resourceVersion`, with bookmarks; the server ends the stream after `timeoutSeconds`.
    /// Throws (or the stream throws) `KubeClientError.status` with code 410 when the version is too old.
    func watch(resourceVersion: String, timeoutSeconds: Int) async throws -> WatchStream<Object>
}

/// List and watch of one kind through a `KubeClient`, optionally limited to a namespace and selectors.
public struct KubeListWatcher<Object: KubeObject>: ListWatcher {
    public let client: KubeClient
    public var namespace: String?
    public var labelSelector: String?
    public var fieldSelector: String?
    /// Page size of the initial list (continue tokens are followed).
    public var pageSize: Int

    public init(client: KubeClient, namespace: String? = nil, labelSelector: String? = nil,
                fieldSelector: String? = nil, pageSize: Int = 500) {
        self.client = client; self.namespace = namespace; self.labelSelector = labelSelector
        self.fieldSelector = fieldSelector; self.pageSize = pageSize
    }

    public func list() async throws -> ObjectList<Object> {
        try await client.list(Object.self, namespace: namespace, labelSelector: labelSelector,
                              fieldSelector: fieldSelector, limit: pageSize, allPages: true)
    }

    public func watch(resourceVersion: String, timeoutSeconds: Int) async throws
        -> WatchStream<Object>
    {
        client.watch(Object.self, namespace: namespace, labelSelector: labelSelector, fieldSelector: fieldSelector,
                     resourceVersion: resourceVersion, timeoutSeconds: timeoutSeconds, allowWatchBookmarks: true)
    }
}
