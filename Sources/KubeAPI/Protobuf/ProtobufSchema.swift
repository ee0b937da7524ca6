/// How one protobuf field's value becomes JSON.
enum ProtoType: Sendable, Equatable {
    case string, bytes, bool, int32, int64
    /// A nested message, by schema name, as a JSON object.
    case message(String)
    /// An embedded Go struct (`json:",inline"`): its members join the enclosing object.
    case inline(String)
    /// `map<string, string>` / `map<string, Quantity>`: repeated entries `{1: key, 2: value}` as one JSON object.
    case stringMap, quantityMap
    /// `intstr.IntOrString` `{1: type, 2: intVal, 3: strVal}` as a JSON number or string.
    case intOrString
    /// `meta/v1` Time `{1: seconds, 2: nanos}` as RFC 3339 to the second; MicroTime to the microsecond.
    case time, microTime
    /// `meta/v1` Duration `{1: nanoseconds}` as Go's duration string ("1h0m0s").
    case duration
    /// `resource.Quantity` `{1: string}` as its string.
    case quantity
    /// `runtime.RawExtension` / `meta/v1` FieldsV1 `{1: raw}`: embedded JSON.
    case rawJSON
}

/// When a decoded scalar appears in JSON, mirroring Go's `encoding/json` on the Go field
/// (the protobuf encoder writes every non-pointer field, zero or not).
enum ProtoPresence: Sendable, Equatable {
    /// A value field tagged `omitempty`: zero values ("", 0, false) are left out.
    case omitEmpty
    /// A pointer field: written whenever it is on the wire, zero or not.
    case pointer
    /// A value field without `omitempty`: always written, its zero value when absent.
    case always
}

/// One field of a message schema: its JSON member name and how its value is decoded.
struct ProtoField: Sendable, Equatable {
    let name: String
    let type: ProtoType
    var repeated = false
    var presence = ProtoPresence.omitEmpty

    static func string(_ name: String, _ presence: ProtoPresence = .omitEmpty) -> ProtoField {
        ProtoField(name: name, type: .string, presence: presence)
    }
    static func bytes(_ name: String, _ presence: ProtoPresence = .omitEmpty) -> ProtoField {
        ProtoField(name: name, type: .bytes, presence: presence)
    }
    static func bool(_ name: String, _ presence: ProtoPresence = .omitEmpty) -> ProtoField {
        ProtoField(name: name, type: .bool, presence: presence)
    }
    static func int32(_ name: String, _ presence: ProtoPresence = .omitEmpty) -> ProtoField {
        ProtoField(name: name, type: .int32, presence: presence)
    }
    static func int64(_ name: String, _ presence: ProtoPresence = .omitEmpty) -> ProtoField {
        ProtoField(name: name, type: .int64, presence: presence)
    }
    static func strings(_ name: String) -> ProtoField { ProtoField(name: name, type: .string, repeated: true) }
    static func int64s(_ name: String) -> ProtoField { ProtoField(name: name, type: .int64, repeated: true) }
    static func message(_ name: String, _ schema: String) -> ProtoField { ProtoField(name: name, type: .message(schema)) }
    static func messages(_ name: String, _ schema: String) -> ProtoField {
        ProtoField(name: name, type: .message(schema), repeated: true)
    }
    static func inline(_ schema: String) -> ProtoField { ProtoField(name: "", type: .inline(schema)) }
    static func stringMap(_ name: String) -> ProtoField { ProtoField(name: name, type: .stringMap) }
    static func quantityMap(_ name: String) -> ProtoField { ProtoField(name: name, type: .quantityMap) }
    static func intOrString(_ name: String) -> ProtoField { ProtoField(name: name, type: .intOrString) }
    static func time(_ name: String) -> ProtoField { ProtoField(name: name, type: .time) }
    static func microTime(_ name: String) -> ProtoField { ProtoField(name: name, type: .microTime) }
    static func duration(_ name: String) -> ProtoField { ProtoField(name: name, type: .duration) }
    static func quantity(_ name: String) -> ProtoField { ProtoField(name: name, type: .quantity) }
    static func rawJSON(_ name: String) -> ProtoField { ProtoField(name: name, type: .rawJSON) }
}

/// A message schema: field number → field.
typealias ProtoMessage = [Int: ProtoField]

/// The message schemas of the kinds the API server accepts as protobuf, by message name.
/// Tables are transcribed from the Kubernetes 1.32 `generated.proto` descriptors (the ones kubectl 1.32 links):
/// proto field names are the JSON member names, except embedded structs (`.inline`).
enum ProtobufSchema {
    static let messages: [String: ProtoMessage] = meta
        .merging(core) { first, _ in first }
        .merging(pod) { first, _ in first }
        .merging(volumes) { first, _ in first }
        .merging(auth) { first, _ in first }
        .merging(apps) { first, _ in first }
        .merging(coordination) { first, _ in first }

    /// Top-level kinds: kind → (accepted apiVersions, or nil for any; schema name).
    static let kinds: [String: (apiVersions: Set<String>?, schema: String)] = [
        "Namespace": (["v1"], "Namespace"), "Node": (["v1"], "Node"), "Pod": (["v1"], "Pod"),
        "Service": (["v1"], "Service"), "Event": (["v1"], "Event"),
        "EndpointSlice": (["discovery.k8s.io/v1"], "EndpointSlice"),
        "Deployment": (["apps/v1"], "Deployment"), "ReplicaSet": (["apps/v1"], "ReplicaSet"),
        "Lease": (["coordination.k8s.io/v1"], "Lease"),
        "SelfSubjectAccessReview": (["authorization.k8s.io/v1"], "SelfSubjectAccessReview"),
        "SelfSubjectRulesReview": (["authorization.k8s.io/v1"], "SelfSubjectRulesReview"),
        "SelfSubjectReview": (["authentication.k8s.io/v1"], "SelfSubjectReview"),
        // Registered in every group version, so clients send it as "v1", "meta.k8s.io/v1", "discovery.k8s.io/v1", ...
        "DeleteOptions": (nil, "DeleteOptions"),
    ]

    /// The schema for a top-level object, or nil when the kind (or its group) is not served.
    static func root(apiVersion: String, kind: String) -> ProtoMessage? {
        guard let entry = kinds[kind], entry.apiVersions?.contains(apiVersion) ?? true else { return nil }
        return messages[entry.schema]
    }

    /// `meta/v1`: ObjectMeta and its parts, Condition, LabelSelector, DeleteOptions.
    static let meta: [String: ProtoMessage] = [
        "ObjectMeta": [1: .string("name"), 2: .string("generateName"), 3: .string("namespace"), 4: .string("selfLink"),
                       5: .string("uid"), 6: .string("resourceVersion"), 7: .int64("generation"),
                       8: .time("creationTimestamp"), 9: .time("deletionTimestamp"),
                       10: .int64("deletionGracePeriodSeconds", .pointer), 11: .stringMap("labels"),
                       12: .stringMap("annotations"), 13: .messages("ownerReferences", "OwnerReference"),
                       14: .strings("finalizers"), 17: .messages("managedFields", "ManagedFieldsEntry")],
        "OwnerReference": [1: .string("kind", .always), 3: .string("name", .always), 4: .string("uid", .always),
                           5: .string("apiVersion", .always), 6: .bool("controller", .pointer),
                           7: .bool("blockOwnerDeletion", .pointer)],
        "ManagedFieldsEntry": [1: .string("manager"), 2: .string("operation"), 3: .string("apiVersion"), 4: .time("time"),
                               6: .string("fieldsType"), 7: .rawJSON("fieldsV1"), 8: .string("subresource")],
        "LabelSelector": [1: .stringMap("matchLabels"), 2: .messages("matchExpressions", "LabelSelectorRequirement")],
        "LabelSelectorRequirement": [1: .string("key", .always), 2: .string("operator", .always), 3: .strings("values")],
        "Condition": [1: .string("type", .always), 2: .string("status", .always), 3: .int64("observedGeneration"),
                      4: .time("lastTransitionTime"), 5: .string("reason", .always), 6: .string("message", .always)],
        "DeleteOptions": [1: .int64("gracePeriodSeconds", .pointer), 2: .message("preconditions", "Preconditions"),
                          3: .bool("orphanDependents", .pointer), 4: .string("propagationPolicy", .pointer),
                          5: .strings("dryRun"), 6: .bool("ignoreStoreReadErrorWithClusterBreakingPotential", .pointer)],
        "Preconditions": [1: .string("uid", .pointer), 2: .string("resourceVersion", .pointer)],
    ]
}
