import Foundation
import KubeAPI
import Logging

/// Keeps a core/v1 Endpoints object beside each Service with a selector, mirrored from the Service's
/// EndpointSlices by the pure `EndpointsMirror` (upstream's Endpoints controller, for the clients that
/// still read Endpoints). Deletes it with the Service; never touches Endpoints of Services without a
/// selector, which belong to whoever wrote them.
actor EndpointsController {
    private let services: ResourceRegistry<Service>
    private let slices: ResourceRegistry<EndpointSlice>
    private let endpoints: ResourceRegistry<Endpoints>
    private let logger: Logger
    private let queue = WorkQueue(batchPeriod: .milliseconds(50))
    private let reporters: [String: SyncReporter]

    private var serviceCache: [String: Service] = [:]                 // ns/name
    private var sliceCache = SlicesByService()
    private var endpointsCache: [String: Endpoints] = [:]             // ns/name

    private let events: (any EventSink)?

    init(services: ResourceRegistry<Service>, slices: ResourceRegistry<EndpointSlice>, endpoints: ResourceRegistry<Endpoints>,
         logger: Logger, readiness: ReadinessChecks? = nil, events: (any EventSink)? = nil) {
        self.services = services; self.slices = slices; self.endpoints = endpoints; self.logger = logger; self.events = events
        reporters = SyncReporter.informers(readiness, controller: "endpoints-controller", kinds: ["services", "endpointslices", "endpoints"])
    }

    func run() async {
        await withDiscardingTaskGroup { group in
            group.addTask { await self.queue.run { key in await self.sync(key) } }
            group.addTask {
                await informLoop(self.services, logger: self.logger, reporter: self.reporters["services"],
                                 onSync: { all in await self.resetServices(all) },
                                 onEvent: { type, s in await self.serviceChanged(type, s) })
            }
            group.addTask {
                await informLoop(self.slices, logger: self.logger, reporter: self.reporters["endpointslices"],
                                 onSync: { all in await self.resetSlices(all) },
                                 onEvent: { type, s in await self.sliceChanged(type, s) })
            }
            group.addTask {
                await informLoop(self.endpoints, logger: self.logger, reporter: self.reporters["endpoints"],
                                 onSync: { all in await self.resetEndpoints(all) },
                                 onEvent: { type, e in await self.endpointsChanged(type, e) })
            }
        }
    }

    // MARK: caches

    private func resetServices(_ all: [Service]) {
        serviceCache = Dictionary(all.map { ($0.key, $0) }, uniquingKeysWith: { _, last in last })
        for key in serviceCache.keys { queue.add(key) }
    }

    private func serviceChanged(_ type: WatchEventType, _ s: Service) {
        if type == .deleted { serviceCache.removeValue(forKey: s.key) } else { serviceCache[s.key] = s }
        queue.add(s.key)
    }

    private func resetSlices(_ all: [EndpointSlice]) {
        sliceCache.reset(all)
        for key in serviceCache.keys { queue.add(key) }
    }

    private func sliceChanged(_ type: WatchEventType, _ s: EndpointSlice) {
        if let key = sliceCache.apply(type, s) { queue.add(key) }
    }

    private func resetEndpoints(_ all: [Endpoints]) {
        endpointsCache = Dictionary(all.map { ($0.key, $0) }, uniquingKeysWith: { _, last in last })
        for key in endpointsCache.keys { queue.add(key) }
    }

    private func endpointsChanged(_ type: WatchEventType, _ e: Endpoints) {
        if type == .deleted { endpointsCache.removeValue(forKey: e.key) } else { endpointsCache[e.key] = e }
        // Someone else's write to a mirrored object is put right.
        if serviceCache[e.key]?.spec.selector != nil { queue.add(e.key) }
    }

    // MARK: sync

    private func sync(_ key: String) async {
        let parts = key.split(separator: "/", maxSplits: 1).map(String.init)
        guard parts.count == 2 else { return }
        let (namespace, name) = (parts[0], parts[1])
        do {
            guard let service = serviceCache[key] else {
                // The Service is gone: so is its Endpoints object.
                if endpointsCache[key] != nil {
                    do { _ = try await endpoints.delete(namespace: namespace, name: name) } catch let s as Status where s.code == 404 {}
                }
                return
            }
            guard let desired = EndpointsMirror.desired(for: service, slices: sliceCache.slices(of: key)) else { return }
            if let current = endpointsCache[key] {
                guard !EndpointsMirror.matches(current, desired) else { return }
                _ = try await endpoints.guaranteedUpdate(namespace: namespace, name: name) { current in
                    var copy = current
                    copy.subsets = desired.subsets
                    copy.metadata.labels = desired.metadata.labels
                    var annotations = current.metadata.annotations ?? [:]
                    annotations[Endpoints.overCapacityAnnotation] = desired.metadata.annotations?[Endpoints.overCapacityAnnotation]
                    copy.metadata.annotations = annotations.isEmpty ? nil : annotations
                    return copy
                }
            } else {
                do {
                    _ = try await endpoints.create(desired, namespace: namespace)
                } catch let s as Status where s.code == 409 {
                    queue.add(key)  // created meanwhile: the watch brings it, the next pass updates it
                }
            }
        } catch let s as Status where s.code == 404 {
            endpointsCache.removeValue(forKey: key)  // deleted by someone: the next pass creates it again
            queue.add(key)
        } catch {
            logger.warning("endpoints \(key): \(error)")
            if let service = serviceCache[key] {
                await events?.record(EventRecord(involvedObject: EventRecord.reference(to: service), type: .warning,
                                                 reason: "FailedToUpdateEndpoint", message: "Failed to update endpoint \(key): \(error)"))
            }
        }
    }
}
