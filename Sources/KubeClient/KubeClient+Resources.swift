import Foundation
import KubeAPI
import NIOHTTP1
import Values

extension KubeClient {
    /// GET one object.
    public func get<T: KubeObject>(_ type: T.Type, name: String, namespace: String? = nil) async throws -> T {
        let data = try await perform(RequestPath(info: T.resourceInfo, namespace: namespace, name: name), method: .GET)
        return try Self.decode(T.self, from: data, what: "\(T.resourceInfo.kind) \(name)")
    }

    /// LIST objects (all namespaces when `namespace` is nil). With `allPages`, follows `continue`
    /// tokens and returns every item with the first page's resourceVersion.
    public func list<T: KubeObject>(_ type: T.Type, namespace: String? = nil, labelSelector: String? = nil,
                                    fieldSelector: String? = nil, resourceVersion: String? = nil, limit: Int? = nil,
                                    continue continueToken: String? = nil, allPages: Bool = false) async throws -> ObjectList<T> {
        let options = ListOptions(labelSelector: labelSelector, fieldSelector: fieldSelector,
                                  resourceVersion: resourceVersion, limit: limit, continueToken: continueToken)
        return try await list(type, namespace: namespace, options: options, allPages: allPages)
    }

    /// LIST with full `ListOptions`.
    public func list<T: KubeObject>(_ type: T.Type, namespace: String? = nil, options: ListOptions,
                                    allPages: Bool = false) async throws -> ObjectList<T> {
        var options = options
        var result = try await listPage(T.self, namespace: namespace, options: options)
        while allPages, let token = result.metadata.continue, !token.isEmpty {
            // Later pages are served from the snapshot the token names; resourceVersion must not be sent.
            options.continueToken = token
            options.resourceVersion = nil
            options.resourceVersionMatch = nil
            let page = try await listPage(T.self, namespace: namespace, options: options)
            result.items.append(contentsOf: page.items)
            result.metadata.continue = page.metadata.continue
            result.metadata.remainingItemCount = page.metadata.remainingItemCount
        }
        return result
    }

    private func listPage<T: KubeObject>(_ type: T.Type, namespace: String?, options: ListOptions) async throws -> ObjectList<T> {
        let path = RequestPath(info: T.resourceInfo, namespace: namespace, query: options.queryItems(watch: false))
        let data = try await perform(path, method: .GET)
        return try Self.decode(ObjectList<T>.self, from: data, what: "\(T.resourceInfo.kind)List")
    }

    /// POST a new object into `namespace` (default: the object's own namespace).
    public func create<T: KubeObject>(_ object: T, namespace: String? = nil) async throws -> T {
        var object = object
        object.setTypeMeta()
        let path = RequestPath(info: T.resourceInfo, namespace: namespace ?? object.metadata.namespace)
        let data = try await perform(path, method: .POST, body: try Self.encode(object))
        return try Self.decode(T.self, from: data, what: "created \(T.resourceInfo.kind)")
    }

    /// PUT the whole object (optimistic concurrency through `metadata.resourceVersion`).
    public func update<T: KubeObject>(_ object: T) async throws -> T {
        try await put(object, subresource: nil)
    }

    /// PUT the object to its `/status` subresource.
    public func updateStatus<T: KubeObject>(_ object: T) async throws -> T {
        try await put(object, subresource: "status")
    }

    private func put<T: KubeObject>(_ object: T, subresource: String?) async throws -> T {
        var object = object
        object.setTypeMeta()
        let path = RequestPath(info: T.resourceInfo, namespace: object.metadata.namespace, name: object.name,
                               subresource: subresource)
        let data = try await perform(path, method: .PUT, body: try Self.encode(object))
        return try Self.decode(T.self, from: data, what: "updated \(T.resourceInfo.kind) \(object.name)")
    }

    /// PATCH an object (or its `subresource`, e.g. "status") with a JSON, merge or strategic-merge patch.
    public func patch<T: KubeObject>(_ type: T.Type, name: String, namespace: String? = nil, patchType: PatchType,
                                     body: JSONValue, subresource: String? = nil) async throws -> T {
        let path = RequestPath(info: T.resourceInfo, namespace: namespace, name: name, subresource: subresource)
        let data = try await perform(path, method: .PATCH, body: try Self.encode(body), contentType: patchType.rawValue)
        return try Self.decode(T.self, from: data, what: "patched \(T.resourceInfo.kind) \(name)")
    }

    /// The outcome of a DELETE: the object when deletion is pending (finalizers, grace period), or the
    /// server's success `Status` when it is gone.
    public enum DeleteResult<T: KubeObject>: Sendable {
        case pending(T)
        case deleted(Status)
    }

    /// DELETE an object, with optional `DeleteOptions` (grace period, preconditions, propagation) as the body.
    @discardableResult
    public func delete<T: KubeObject>(_ type: T.Type, name: String, namespace: String? = nil,
                                      options: KubeAPI.DeleteOptions? = nil) async throws -> DeleteResult<T> {
        let path = RequestPath(info: T.resourceInfo, namespace: namespace, name: name)
        let body = try options.map { (o) throws(KubeClientError) -> Data in try Self.encode(o) }
        let data = try await perform(path, method: .DELETE, body: body)
        if Self.isStatus(data) {
            return .deleted(try Self.decode(Status.self, from: data, what: "delete status"))
        }
        return .pending(try Self.decode(T.self, from: data, what: "deleted \(T.resourceInfo.kind) \(name)"))
    }
}
