import KubeAPI

extension KubeClient {
    /// One `name=value` query parameter.
    public struct QueryItem: Sendable, Hashable {
        public var name: String
        public var value: String
        public init(_ name: String, _ value: String) { self.name = name; self.value = value }
    }

    /// The path and query of a request for a resource: `/api/v1/namespaces/{ns}/services/{name}/status?…`,
    /// `/apis/{group}/{version}/…` for named groups, without the `namespaces` segment for cluster-scoped
    /// kinds or for lists across all namespaces.
    public struct RequestPath: Sendable, Hashable {
        public var info: ResourceInfo
        public var namespace: String?
        public var name: String?
        public var subresource: String?
        public var query: [QueryItem]

        public init(info: ResourceInfo, namespace: String? = nil, name: String? = nil, subresource: String? = nil,
                    query: [QueryItem] = []) {
            self.info = info; self.namespace = namespace; self.name = name
            self.subresource = subresource; self.query = query
        }

        /// The path, without the server's prefix and without the query.
        public var path: String {
            var p = info.group.isEmpty ? "/api/\(info.version)" : "/apis/\(info.group)/\(info.version)"
            if info.namespaced, let namespace, !namespace.isEmpty { p += "/namespaces/\(Self.escapePath(namespace))" }
            p += "/\(info.resource)"
            if let name, !name.isEmpty {
                p += "/\(Self.escapePath(name))"
                if let subresource, !subresource.isEmpty { p += "/\(subresource)" }
            }
            return p
        }

        /// `path` followed by `?query` when there is one.
        public var pathAndQuery: String {
            query.isEmpty ? path : path + "?" + Self.encodeQuery(query)
        }

        /// `name=value&…` with every byte outside RFC 3986's unreserved set percent-encoded (as Go's
        /// `url.QueryEscape` does, except spaces become `%20`).
        public static func encodeQuery(_ items: [QueryItem]) -> String {
            items.map { escape($0.name, allowSlash: false) + "=" + escape($0.value, allowSlash: false) }
                .joined(separator: "&")
        }

        static func escapePath(_ segment: String) -> String { escape(segment, allowSlash: false) }

        static func escape(_ s: String, allowSlash: Bool) -> String {
            var out = ""
            out.reserveCapacity(s.utf8.count)
            for byte in s.utf8 {
                switch byte {
                case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                     UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."),
                     UInt8(ascii: "_"), UInt8(ascii: "~"):
                    out.unicodeScalars.append(Unicode.Scalar(byte))
                case UInt8(ascii: "/") where allowSlash:
                    out.append("/")
                default:
                    let hex = Array("0123456789ABCDEF".utf8)
                    out.append("%")
                    out.unicodeScalars.append(Unicode.Scalar(hex[Int(byte >> 4)]))
                    out.unicodeScalars.append(Unicode.Scalar(hex[Int(byte & 0x0F)]))
                }
            }
            return out
        }
    }

    /// Options of list and watch requests (`metav1.ListOptions`).
    public struct ListOptions: Sendable, Hashable {
        public var labelSelector: String?
        public var fieldSelector: String?
        public var resourceVersion: String?
        /// `Exact` or `NotOlderThan` (with `resourceVersion`).
        public var resourceVersionMatch: String?
        public var limit: Int?
        public var continueToken: String?
        /// Server-side timeout of a watch (or list).
        public var timeoutSeconds: Int?
        public var allowWatchBookmarks: Bool

        public init(labelSelector: String? = nil, fieldSelector: String? = nil, resourceVersion: String? = nil,
                    resourceVersionMatch: String? = nil, limit: Int? = nil, continueToken: String? = nil,
                    timeoutSeconds: Int? = nil, allowWatchBookmarks: Bool = false) {
            self.labelSelector = labelSelector; self.fieldSelector = fieldSelector
            self.resourceVersion = resourceVersion; self.resourceVersionMatch = resourceVersionMatch
            self.limit = limit; self.continueToken = continueToken
            self.timeoutSeconds = timeoutSeconds; self.allowWatchBookmarks = allowWatchBookmarks
        }

        /// The query parameters, in a fixed order; `watch` adds `watch=true`.
        public func queryItems(watch: Bool) -> [QueryItem] {
            var q: [QueryItem] = []
            if let labelSelector, !labelSelector.isEmpty { q.append(.init("labelSelector", labelSelector)) }
            if let fieldSelector, !fieldSelector.isEmpty { q.append(.init("fieldSelector", fieldSelector)) }
            if let resourceVersion { q.append(.init("resourceVersion", resourceVersion)) }
            if let resourceVersionMatch, !resourceVersionMatch.isEmpty {
                q.append(.init("resourceVersionMatch", resourceVersionMatch))
            }
            if !watch {
                if let limit, limit > 0 { q.append(.init("limit", String(limit))) }
                if let continueToken, !continueToken.isEmpty { q.append(.init("continue", continueToken)) }
            }
            if let timeoutSeconds { q.append(.init("timeoutSeconds", String(timeoutSeconds))) }
            if watch {
                q.append(.init("watch", "true"))
                if allowWatchBookmarks { q.append(.init("allowWatchBookmarks", "true")) }
            }
            return q
        }
    }

    /// The patch formats the API server accepts, by content type.
    public enum PatchType: String, Sendable, Hashable, CaseIterable {
        /// RFC 6902 list of operations.
        case json = "application/json-patch+json"
        /// RFC 7386 merge patch.
        case merge = "application/merge-patch+json"
        /// Kubernetes strategic merge patch (lists merged by key).
        case strategicMerge = "application/strategic-merge-patch+json"
    }
}
