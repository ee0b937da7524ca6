import Foundation
import KubeAPI
import Logging

/// The controllers' Events, written through the Event registry with repeats correlated (one Event whose
/// `count` grows, as client-go's recorder does).
actor ControlPlaneEvents: EventSink {
    private var correlator: EventCorrelator
    private let events: ResourceRegistry<Event>
    private let logger: Logger
    private let now: @Sendable () -> Date

    init(events: ResourceRegistry<Event>, component: String = "kproxy-controlplane", logger: Logger, now: @escaping @Sendable () -> Date = { Date() }) {
        self.events = events; self.logger = logger; self.now = now
        correlator = EventCorrelator(component: component)
    }

    func record(_ record: EventRecord) async {
        for attempt in 0..<2 {
            let write = correlator.observe(record, now: now())
            do {
                switch write {
                case .create(let event):
                    _ = try await events.create(event, namespace: event.metadata.namespace)
                case .update(let namespace, let name, let count, let lastTimestamp):
                    _ = try await events.guaranteedUpdate(namespace: namespace, name: name) { current in
                        var copy = current
                        copy.count = count
                        copy.lastTimestamp = lastTimestamp
                        return copy
                    }
                }
                return
            } catch let status as Status where status.code == 404 && attempt == 0 {
                correlator.forget(record)  // the Event was deleted: record it anew
            } catch {
                correlator.forget(record)
                logger.debug("event \(record.reason) for \(record.involvedObject.name ?? "") not recorded: \(error)")
                return
            }
        }
    }
}
