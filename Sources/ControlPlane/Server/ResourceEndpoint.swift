import Foundation
import HTTPServing
import KubeAPI
import NIOCore
import NIOHTTP1
import Values
import Yams

/// A request for one resource, after routing: `/api/v1/namespaces/{namespace}/{resource}/{name}/{subresource}`.
struct ResourceRequest: Sendable {
    var method: HTTPMethod
    var namespace: String?
    var name: String?
    var subresource: String?
    var http: HTTPRequest
}

/// The HTTP face of one kind.
protocol ResourceEndpoint: Sendable {
    var info: ResourceInfo { get }
    var hasStatus: Bool { get }
    /// Subresources besides `status`, by name.
    var extras: [String: ExtraSubresource] { get }
    func handle(_ request: ResourceRequest) async -> HTTPResponse
}

extension ResourceEndpoint {
    var extras: [String: ExtraSubresource] { [:] }
}

/// Serves one kind from its registry: verbs, content negotiation (JSON, YAML bodies, Table output),
/// patches, watch streaming, field validation.
struct TypedEndpoint<T: ServedObject & TablePrintable>: ResourceEndpoint {
    let registry: ResourceRegistry<T>
    let now: @Sendable () -> Date
    var extras: [String: ExtraSubresource] = [:]

    var info: ResourceInfo { T.resourceInfo }
    var hasStatus: Bool { T.hasStatusSubresource }

    func handle(_ request: ResourceRequest) async -> HTTPResponse {
        do {
            if let sub = request.subresource, let extra = extras[sub] { return try await extra.handle(request) }
            let q = request.http.query
            let write = try WriteOptions(q, method: request.method)
            let dryRun = write.dryRun
            switch (request.method, request.name, request.subresource) {
            case (.GET, nil, nil):
                let options = try listOptions(q)
                if q["watch"] == "true" || q["watch"] == "1" { return watch(request, options) }
                let page = try await registry.listRaw(namespace: request.namespace, options: options)
                if let include = wantsTable(request.http) {
                    let items = try page.items.map { try KubeJSON.decode(T.self, from: $0) }
                    var table = try TableBuilder.table(items, resourceVersion: String(page.resourceVersion), include: include, now: now())
                    table.metadata.continue = page.continueToken
                    return try json(table)
                }
                return raw(page.encoded(info))
            case (.GET, let name?, nil), (.GET, let name?, "status"):
                if let include = wantsTable(request.http) {
                    let object = try await registry.get(namespace: request.namespace, name: name)
                    return try json(TableBuilder.table([object], resourceVersion: object.metadata.resourceVersion, include: include, now: now()))
                }
                return raw(try await registry.getRaw(namespace: request.namespace, name: name))
            case (.POST, nil, nil):
                let (object, warnings) = try decodeBody(request.http, write.fieldValidation)
                let created = try await registry.create(object, namespace: request.namespace, dryRun: dryRun)
                return try json(typed(created), status: .created, warnings: warnings)
            case (.PUT, let name?, let sub):
                let subresource = try self.subresource(sub)
                let (object, warnings) = try decodeBody(request.http, write.fieldValidation)
                let updated = try await registry.update(object, namespace: request.namespace, name: name, subresource: subresource, dryRun: dryRun)
                return try json(typed(updated), warnings: warnings)
            case (.PATCH, let name?, let sub):
                let subresource = try self.subresource(sub)
                let patch = try PatchRequest(request.http)
                let mode = write.fieldValidation
                let warnings = WarningSink()
                let updated = try await registry.guaranteedUpdate(namespace: request.namespace, name: name, subresource: subresource, dryRun: dryRun) { current in
                    // Unknown fields the patch brings in (not those the object already carried) are judged by fieldValidation.
                    let (patched, added) = try patch.apply(to: current)
                    try warnings.set(mode.judge(added))
                    return patched
                }
                return try json(typed(updated), warnings: warnings.get())
            case (.DELETE, let name?, nil):
                let options = try deleteOptions(request.http)
                let outcome = try await registry.delete(namespace: request.namespace, name: name, options: options, dryRun: dryRun || options.isDryRun)
                switch outcome {
                case .deleted(let object): return try json(typed(object))
                case .marked(let object): return try json(typed(object), status: .accepted)
                }
            case (.DELETE, nil, nil):
                let options = try deleteOptions(request.http)
                let deleted = try await registry.deleteCollection(namespace: request.namespace, listOptions: try listOptions(q), options: options,
                                                                  dryRun: dryRun || options.isDryRun)
                return try json(ObjectList(items: deleted, resourceVersion: nil))
            default:
                return APIServer.statusResponse(.methodNotAllowed())
            }
        } catch let status as Status {
            return APIServer.statusResponse(status)
        } catch let error as DecodingError {
            return APIServer.statusResponse(.badRequest(describe(error)))
        } catch {
            return APIServer.statusResponse(.internalError(String(describing: error)))
        }
    }

    private func typed(_ object: T) -> T {
        var copy = object
        copy.setTypeMeta()
        return copy
    }

    private func subresource(_ name: String?) throws -> ResourceRegistry<T>.Subresource {
        switch name {
        case nil: return .main
        case "status" where T.hasStatusSubresource: return .status
        default: throw Status.notFound(info, name: name ?? "")
        }
    }

    private func listOptions(_ q: [String: String]) throws -> ListOptions {
        var o = ListOptions()
        do {
            if let s = q["labelSelector"], !s.isEmpty { o.labelSelector = try LabelSelector(parsing: s) }
            if let s = q["fieldSelector"], !s.isEmpty { o.fieldSelector = try FieldSelector(parsing: s) }
        } catch {
            throw Status.badRequest("unable to parse requirement: \(error)")
        }
        o.resourceVersion = q["resourceVersion"].flatMap { $0.isEmpty ? nil : $0 }
        if let rv = o.resourceVersion, Int64(rv) == nil {
            throw Status.badRequest("invalid resource version \"\(rv)\"")
        }
        o.resourceVersionMatch = q["resourceVersionMatch"]
        o.limit = q["limit"].flatMap { Int($0) }
        o.continueToken = q["continue"]
        o.timeoutSeconds = q["timeoutSeconds"].flatMap { Int($0) }
        o.allowWatchBookmarks = q["allowWatchBookmarks"] == "true"
        o.sendInitialEvents = q["sendInitialEvents"].map { $0 == "true" }
        return o
    }

    private func deleteOptions(_ http: HTTPRequest) throws -> DeleteOptions {
        var options = DeleteOptions()
        if http.body.readableBytes > 0 {
            options = try KubeJSON.fromJSONValue(DeleteOptions.self, try BodyDecoder.decode(http))
        }
        if let g = http.query["gracePeriodSeconds"].flatMap({ Int64($0) }) { options.gracePeriodSeconds = g }
        if let p = http.query["propagationPolicy"] { options.propagationPolicy = DeletionPropagation(rawValue: p) }
        if let values = options.dryRun, let bad = values.first(where: { $0 != WriteOptions.dryRunAll }) {
            throw WriteOptions.invalid(kind: "DeleteOptions", .notSupported("dryRun", bad, [WriteOptions.dryRunAll]))
        }
        return options
    }

    /// Decodes a JSON, YAML or protobuf body into the kind in one pass, applying `fieldValidation` (Strict
    /// rejects unknown fields with 400; Warn, the default, answers with `Warning` headers; Ignore accepts
    /// silently). Unknown fields are found while decoding, by a collector the typed decoders report to.
    private func decodeBody(_ http: HTTPRequest, _ mode: FieldValidation) throws -> (T, [String]) {
        let (object, unknown) = try KubeJSON.decodeReportingUnknown(T.self, from: try BodyDecoder.jsonBytes(http))
        if let kind = object.kind, kind != info.kind {
            throw Status.badRequest("the API version in the data (\(object.apiVersion ?? "")) does not match the expected API version (\(info.apiVersion)) or kind \(kind) is not \(info.kind)")
        }
        return (object, try mode.judge(unknown))
    }

    private func wantsTable(_ http: HTTPRequest) -> IncludeObject? {
        guard let accept = http.header("Accept"), accept.contains("as=Table") else { return nil }
        return IncludeObject(rawValue: http.query["includeObject"] ?? "Metadata") ?? .metadata
    }

    private func watch(_ request: ResourceRequest, _ options: ListOptions) -> HTTPResponse {
        let events = registry.watch(namespace: request.namespace, options: options)
        let table = wantsTable(request.http)
        let now = self.now
        let batcher = ChunkBatcher()
        let task = Task {
            do {
                for try await item in events {
                    var line = ByteBuffer()
                    line.writeString("{\"type\":\"\(item.type.rawValue)\",\"object\":")
                    if let include = table, item.type != .bookmark, item.type != .error {
                        let object = try KubeJSON.decode(T.self, from: item.object)
                        line.writeBytes(try KubeJSON.encode(TableBuilder.table([object], resourceVersion: object.metadata.resourceVersion, include: include, now: now())))
                    } else {
                        line.writeBytes(item.object)
                    }
                    line.writeString("}\n")
                    batcher.append(line)
                }
            } catch {}
            batcher.finish()
        }
        batcher.onClose { task.cancel() }
        return .stream(status: .ok, headers: ["Content-Type": "application/json"], body: batcher.stream)
    }

    private func json<V: Encodable>(_ value: V, status: HTTPResponseStatus = .ok, warnings: [String] = []) throws -> HTTPResponse {
        var headers: HTTPHeaders = ["Content-Type": "application/json"]
        for w in warnings { headers.add(name: "Warning", value: "299 - \"\(w)\"") }
        return .full(status: status, headers: headers, body: ByteBuffer(bytes: try KubeJSON.encode(value)))
    }

    private func raw(_ data: Data) -> HTTPResponse {
        .full(status: .ok, headers: ["Content-Type": "application/json"], body: ByteBuffer(bytes: data))
    }
}

/// Request bodies: JSON, YAML (`application/yaml`) or Kubernetes protobuf; 400 when unreadable.
enum BodyDecoder {
    /// The body as JSON bytes: JSON passes through untouched (the fast path), YAML and protobuf are converted.
    static func jsonBytes(_ http: HTTPRequest) throws -> Data {
        let type = http.header("Content-Type") ?? "application/json"
        if type.contains("yaml") || KubeProtobuf.isProtobuf(contentType: type) || type.contains("cbor") {
            return try KubeJSON.encode(try decode(http))
        }
        return Data(http.body.readableBytesView)
    }

    static func decode(_ http: HTTPRequest) throws -> JSONValue {
        let bytes = Data(http.body.readableBytesView)
        let type = http.header("Content-Type") ?? "application/json"
        // kubectl's typed clients (`kubectl create namespace|service …`) send protobuf; it becomes the
        // same JSON document a JSON body would. CBOR is not served: 415 (client-go falls back to JSON).
        if KubeProtobuf.isProtobuf(contentType: type) {
            do { return try KubeProtobuf.decode(Array(bytes)) } catch let error as KubeProtobufError {
                if case .unsupportedKind = error {
                    throw Status(message: "\(error)", reason: "UnsupportedMediaType", code: 415)
                }
                throw Status.badRequest("error decoding protobuf request body: \(error)")
            }
        }
        if type.contains("cbor") {
            throw Status(message: "the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf",
                         reason: "UnsupportedMediaType", code: 415)
        }
        do {
            if type.contains("yaml") {
                guard let text = String(data: bytes, encoding: .utf8) else { throw Status.badRequest("request body is not UTF-8") }
                let value = try YAMLDecoder().decode(JSONValue.self, from: text)
                return value
            }
            return try KubeJSON.decode(JSONValue.self, from: bytes)
        } catch let status as Status {
            throw status
        } catch {
            throw Status.badRequest("error decoding request body: \(error)")
        }
    }
}

/// The query options of a write (`dryRun`, `fieldValidation`), validated as upstream's
/// `ValidateCreateOptions`, `ValidateUpdateOptions`, `ValidatePatchOptions` and `ValidateDeleteOptions`:
/// an unsupported value is a 422 Invalid naming the options kind, and nothing is written.
struct WriteOptions {
    static let dryRunAll = "All"
    var dryRun = false
    var fieldValidation = FieldValidation.warn

    init(_ query: [String: String], method: HTTPMethod) throws {
        let kind: String
        switch method {
        case .POST: kind = "CreateOptions"
        case .PUT: kind = "UpdateOptions"
        case .PATCH: kind = "PatchOptions"
        case .DELETE: kind = "DeleteOptions"
        default: return
        }
        if let value = query["dryRun"] {
            guard value == Self.dryRunAll else { throw Self.invalid(kind: kind, .notSupported("dryRun", value, [Self.dryRunAll])) }
            dryRun = true
        }
        if kind != "DeleteOptions", let value = query["fieldValidation"] {
            guard let mode = FieldValidation(rawValue: value) else {
                throw Self.invalid(kind: kind, .notSupported("fieldValidation", value, FieldValidation.allowed))
            }
            fieldValidation = mode
        }
    }

    /// Upstream's `errors.NewInvalid(GroupKind{meta.k8s.io, kind}, "", errs)`.
    static func invalid(kind: String, _ cause: StatusCause) -> Status {
        Status(message: "\(kind).meta.k8s.io \"\" is invalid: \(cause.field ?? ""): \(cause.message ?? "")", reason: "Invalid",
               details: StatusDetails(group: "meta.k8s.io", kind: kind, causes: [cause]), code: 422)
    }
}

/// `fieldValidation`: Strict rejects unknown fields (400), Warn (the default, also for an empty value)
/// reports them in `Warning` headers, Ignore accepts them silently.
enum FieldValidation: Equatable {
    case strict, warn, ignore

    /// Upstream's sorted set of accepted values.
    static let allowed = ["", "Ignore", "Strict", "Warn"]

    init?(rawValue: String) {
        switch rawValue {
        case "Strict": self = .strict
        case "Ignore": self = .ignore
        case "Warn", "": self = .warn
        default: return nil
        }
    }

    /// Throws for Strict, returns the warnings for Warn.
    func judge(_ unknown: [String]) throws -> [String] {
        guard !unknown.isEmpty, self != .ignore else { return [] }
        let list = unknown.map { "unknown field \"\($0)\"" }
        if self == .strict { throw Status.badRequest("strict decoding error: \(list.joined(separator: ", "))") }
        return list
    }
}

/// Warnings produced inside a retried update closure (the last try's are the ones that count).
final class WarningSink: Sendable {
    private let value = LockedDictionary<Int, [String]>()
    func set(_ warnings: [String]) { value.set(0, warnings) }
    func get() -> [String] { value.get(0) ?? [] }
}
