/// `core/v1 ObjectReference`: points at another object (an endpoint's pod, an event's subject).
public struct ObjectReference: FieldCoded, Hashable, Sendable {
    public var kind: String?
    public var namespace: String?
    public var name: String?
    public var uid: String?
    public var apiVersion: String?
    public var resourceVersion: String?
    public var fieldPath: String?
    public var unknownFields = UnknownFields()

    public init() {}
    public init(kind: String? = nil, namespace: String? = nil, name: String? = nil, uid: String? = nil,
                apiVersion: String? = nil, resourceVersion: String? = nil, fieldPath: String? = nil) {
        self.kind = kind; self.namespace = namespace; self.name = name; self.uid = uid
        self.apiVersion = apiVersion; self.resourceVersion = resourceVersion; self.fieldPath = fieldPath
    }

    public static let codedFields: [CodedField<ObjectReference>] = [.optional("kind", \.kind), .optional("namespace", \.namespace), .optional("name", \.name),
         .optional("uid", \.uid), .optional("apiVersion", \.apiVersion),
         .optional("resourceVersion", \.resourceVersion), .optional("fieldPath", \.fieldPath)]
}
