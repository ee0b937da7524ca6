import Foundation
import KubeAPI
import Logging

/// Events from a node component, written through the API with repeats correlated: one Event whose
/// `count` and `lastTimestamp` are bumped by merge patch, as client-go's recorder does.
public actor KubeEventRecorder: EventSink {
    private var correlator: EventCorrelator
    private let client: KubeClient
    private let logger: Logger

    public init(client: KubeClient, component: String, host: String?, logger: Logger) {
        self.client = client; self.logger = logger
        correlator = EventCorrelator(component: component, host: host)
    }

    public func record(_ record: EventRecord) async {
        for attempt in 0..<2 {
            let write = correlator.observe(record, now: Date())
            do {
                switch write {
                case .create(let event):
                    _ = try await client.create(event, namespace: event.metadata.namespace)
                case .update(let namespace, let name, let count, let lastTimestamp):
                    _ = try await client.patch(Event.self, name: name, namespace: namespace, patchType: .merge,
                                               body: ["count": .int(Int64(count)), "lastTimestamp": .string(lastTimestamp)])
                }
                return
            } catch {
                correlator.forget(record)
                if attempt == 0, (error as? KubeClientError)?.isNotFound == true { continue }  // the Event was deleted: anew
                logger.debug("event \(record.reason) for \(record.involvedObject.name ?? "") not recorded: \(error)")
                return
            }
        }
    }
}
