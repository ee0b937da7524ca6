/// `Status.details.causes[]`: one field-level problem, as upstream reports validation errors.
public struct StatusCause: Codable, Hashable, Sendable, Error {
    /// `FieldValueInvalid`, `FieldValueRequired`, `FieldValueDuplicate`, `FieldValueNotSupported`, `FieldValueForbidden`, …
    public var reason: String?
    public var message: String?
    /// The JSON path, e.g. `spec.ports[0].port`.
    public var field: String?
    public init(reason: String?, message: String?, field: String?) {
        self.reason = reason; self.message = message; self.field = field
    }
}

public struct StatusDetails: Codable, Hashable, Sendable {
    public var name: String?
    public var group: String?
    public var kind: String?
    public var uid: String?
    public var causes: [StatusCause]?
    public var retryAfterSeconds: Int?
    public init(name: String? = nil, group: String? = nil, kind: String? = nil, uid: String? = nil, causes: [StatusCause]? = nil) {
        self.name = name; self.group = group; self.kind = kind; self.uid = uid; self.causes = causes
    }
}

/// `meta.k8s.io/v1 Status`: every API error, and some successful deletes.
public struct Status: Codable, Hashable, Sendable, Error {
    public var kind: String = "Status"
    public var apiVersion: String = "v1"
    public var metadata: ListMeta = ListMeta()
    /// "Success" or "Failure".
    public var status: String?
    public var message: String?
    /// `NotFound`, `AlreadyExists`, `Conflict`, `Invalid`, `BadRequest`, `Unauthorized`, `Expired`, `MethodNotAllowed`, …
    public var reason: String?
    public var details: StatusDetails?
    public var code: Int

    public init(status: String = "Failure", message: String?, reason: String?, details: StatusDetails? = nil, code: Int) {
        self.status = status; self.message = message; self.reason = reason; self.details = details; self.code = code
    }

    enum CodingKeys: String, CodingKey { case kind, apiVersion, metadata, status, message, reason, details, code }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        kind = try c.decodeIfPresent(String.self, forKey: .kind) ?? "Status"
        apiVersion = try c.decodeIfPresent(String.self, forKey: .apiVersion) ?? "v1"
        metadata = try c.decodeIfPresent(ListMeta.self, forKey: .metadata) ?? ListMeta()
        status = try c.decodeIfPresent(String.self, forKey: .status)
        message = try c.decodeIfPresent(String.self, forKey: .message)
        reason = try c.decodeIfPresent(String.self, forKey: .reason)
        details = try c.decodeIfPresent(StatusDetails.self, forKey: .details)
        code = try c.decodeIfPresent(Int.self, forKey: .code) ?? 0
    }
}

extension Status {
    public static func notFound(_ info: ResourceInfo, name: String) -> Status {
        let what = info.group.isEmpty ? info.resource : "\(info.resource).\(info.group)"
        return Status(message: "\(what) \"\(name)\" not found", reason: "NotFound",
                      details: StatusDetails(name: name, group: info.group.isEmpty ? nil : info.group, kind: info.resource), code: 404)
    }

    public static func alreadyExists(_ info: ResourceInfo, name: String) -> Status {
        let what = info.group.isEmpty ? info.resource : "\(info.resource).\(info.group)"
        return Status(message: "\(what) \"\(name)\" already exists", reason: "AlreadyExists",
                      details: StatusDetails(name: name, group: info.group.isEmpty ? nil : info.group, kind: info.resource), code: 409)
    }

    /// Optimistic-concurrency failure (stale resourceVersion).
    public static func conflict(_ info: ResourceInfo, name: String) -> Status {
        let what = info.group.isEmpty ? info.resource : "\(info.resource).\(info.group)"
        return Status(message: "Operation cannot be fulfilled on \(what) \"\(name)\": the object has been modified; please apply your changes to the latest version and try again",
                      reason: "Conflict", details: StatusDetails(name: name, group: info.group.isEmpty ? nil : info.group, kind: info.resource), code: 409)
    }

    /// 422 with field causes, as upstream's `errors.NewInvalid`.
    public static func invalid(_ info: ResourceInfo, name: String, causes: [StatusCause]) -> Status {
        let list = causes.map { "\($0.field.map { "\($0): " } ?? "")\($0.message ?? "")" }
        let summary = list.count == 1 ? list[0] : "[\(list.joined(separator: ", "))]"
        return Status(message: "\(info.kind) \"\(name)\" is invalid: \(summary)", reason: "Invalid",
                      details: StatusDetails(name: name, group: info.group.isEmpty ? nil : info.group, kind: info.kind, causes: causes), code: 422)
    }

    public static func badRequest(_ message: String) -> Status {
        Status(message: message, reason: "BadRequest", code: 400)
    }

    public static func unauthorized() -> Status {
        Status(message: "Unauthorized", reason: "Unauthorized", code: 401)
    }

    /// Watch or list from a resourceVersion older than the compacted history.
    public static func expired(_ message: String) -> Status {
        Status(message: message, reason: "Expired", code: 410)
    }

    public static func methodNotAllowed(_ message: String = "the server does not allow this method on the requested resource") -> Status {
        Status(message: message, reason: "MethodNotAllowed", code: 405)
    }

    public static func internalError(_ message: String) -> Status {
        Status(message: "Internal error occurred: \(message)", reason: "InternalError", code: 500)
    }
}
