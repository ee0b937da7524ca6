import Foundation

/// Something a component wants on the record: `kubectl get events` and `kubectl describe` show it.
public struct EventRecord: Sendable, Hashable {
    public enum Kind: String, Sendable, Hashable { case normal = "Normal", warning = "Warning" }
    public var involvedObject: ObjectReference
    public var type: Kind
    public var reason: String
    public var message: String

    public init(involvedObject: ObjectReference, type: Kind, reason: String, message: String) {
        self.involvedObject = involvedObject; self.type = type; self.reason = reason; self.message = message
    }

    /// A reference to `object` as Events carry it.
    public static func reference<T: KubeObject>(to object: T) -> ObjectReference {
        ObjectReference(kind: T.resourceInfo.kind, namespace: object.metadata.namespace, name: object.metadata.name,
                        uid: object.metadata.uid, apiVersion: T.resourceInfo.apiVersion)
    }
}

/// Decides what to write for each record, as client-go's event correlator does for exact repeats: the
/// first time an Event is created; the same object, type, reason and message again bump that Event's
/// `count` and `lastTimestamp` instead of adding another. Pure; the recorder does the writing.
public struct EventCorrelator: Sendable {
    /// What to write.
    public enum Write: Sendable, Equatable {
        case create(Event)
        /// Bump the Event `name` in `namespace` to `count`, last seen at `lastTimestamp`.
        case update(namespace: String, name: String, count: Int, lastTimestamp: String)
    }

    public let source: EventSource
    private let capacity: Int
    private var seen: [EventRecord: (namespace: String, name: String, count: Int)] = [:]
    private var order: [EventRecord] = []

    public init(component: String, host: String? = nil, capacity: Int = 4096) {
        source = EventSource(component: component, host: host)
        self.capacity = max(1, capacity)
    }

    /// Cluster-scoped objects' Events live in `default`, as upstream's recorder puts them.
    public static func namespace(of record: EventRecord) -> String {
        let ns = record.involvedObject.namespace ?? ""
        return ns.isEmpty ? "default" : ns
    }

    public mutating func observe(_ record: EventRecord, now: Date) -> Write {
        let timestamp = KubeTime.format(now)
        if let known = seen[record] {
            seen[record] = (known.namespace, known.name, known.count + 1)
            return .update(namespace: known.namespace, name: known.name, count: known.count + 1, lastTimestamp: timestamp)
        }
        let namespace = Self.namespace(of: record)
        // Upstream's naming: the object's name and the time in hex nanoseconds.
        let nanos = UInt64(max(0, now.timeIntervalSince1970) * 1e9)
        let name = "\(record.involvedObject.name ?? "event").\(String(nanos, radix: 16))"
        remember(record, namespace: namespace, name: name)
        let event = Event(metadata: ObjectMeta(name: name, namespace: namespace), involvedObject: record.involvedObject,
                          reason: record.reason, message: record.message, source: source,
                          firstTimestamp: timestamp, lastTimestamp: timestamp, count: 1, type: record.type.rawValue)
        return .create(event)
    }

    /// After a failed write (the Event was deleted, or never made it): the next repeat creates a new one.
    public mutating func forget(_ record: EventRecord) {
        seen.removeValue(forKey: record)
        order.removeAll { $0 == record }
    }

    private mutating func remember(_ record: EventRecord, namespace: String, name: String) {
        seen[record] = (namespace, name, 1)
        order.append(record)
        if order.count > capacity {
            let evicted = order.removeFirst()
            seen.removeValue(forKey: evicted)
        }
    }
}

/// Where components send their Events (the control plane writes them through its registry, node
/// components through the API). Recording never fails the caller: a lost Event is logged, not thrown.
public protocol EventSink: Sendable {
    func record(_ event: EventRecord) async
}
