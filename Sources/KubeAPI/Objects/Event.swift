/// `core/v1 Event` (minimal: what `kubectl describe` lists).
public struct Event: KubeObject, FieldCoded {
    public static let resourceInfo = ResourceInfo(group: "", version: "v1", kind: "Event", resource: "events",
                                                  singular: "event", namespaced: true, shortNames: ["ev"])
    public var apiVersion: String?
    public var kind: String?
    public var metadata = ObjectMeta()
    public var involvedObject = ObjectReference()
    public var reason: String?
    public var message: String?
    public var source = EventSource()
    public var firstTimestamp: String?
    public var lastTimestamp: String?
    public var count: Int?
    /// `Normal` or `Warning`.
    public var type: String?
    public var unknownFields = UnknownFields()

    public init() {}
    public init(metadata: ObjectMeta = ObjectMeta(), involvedObject: ObjectReference, reason: String? = nil, message: String? = nil,
                source: EventSource = EventSource(), firstTimestamp: String? = nil, lastTimestamp: String? = nil,
                count: Int? = nil, type: String? = nil) {
        apiVersion = Self.resourceInfo.apiVersion; kind = Self.resourceInfo.kind
        self.metadata = metadata; self.involvedObject = involvedObject; self.reason = reason; self.message = message
        self.source = source; self.firstTimestamp = firstTimestamp; self.lastTimestamp = lastTimestamp
        self.count = count; self.type = type
    }

    public static let codedFields: [CodedField<Event>] = [.optional("apiVersion", \.apiVersion), .optional("kind", \.kind), .always("metadata", \.metadata),
         .always("involvedObject", \.involvedObject), .optional("reason", \.reason), .optional("message", \.message),
         .always("source", \.source), .optional("firstTimestamp", \.firstTimestamp),
         .optional("lastTimestamp", \.lastTimestamp), .optional("count", \.count), .optional("type", \.type)]
}

/// `Event.source`.
public struct EventSource: FieldCoded, Hashable, Sendable {
    public var component: String?
    public var host: String?
    public var unknownFields = UnknownFields()
    public init() {}
    public init(component: String? = nil, host: String? = nil) { self.component = component; self.host = host }
    public static let codedFields: [CodedField<EventSource>] = [.optional("component", \.component), .optional("host", \.host)]
}
