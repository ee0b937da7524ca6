import Foundation
import KubeAPI
import Logging

/// Keeps each Service's EndpointSlices in step with the Pods its selector matches: watches Services,
/// Pods and EndpointSlices, queues the Services a change concerns, and writes what the pure
/// `EndpointSliceReconciler` says is missing.
actor EndpointSliceController {
    private let services: ResourceRegistry<Service>
    private let pods: ResourceRegistry<Pod>
    private let slices: ResourceRegistry<EndpointSlice>
    private let reconciler = EndpointSliceReconciler()
    private let logger: Logger
    /// No batch period, as upstream's default (`--endpointslice-updates-batch-period=0`): a change is written
    /// at once, and changes that arrive while a Service is being synced are coalesced into its next sync. A
    /// 100 ms period here was the whole of a new Service's network programming latency (104 ms p50).
    private let queue = WorkQueue()

    private var serviceCache: [String: Service] = [:]             // ns/name
    private var podCache: [String: [String: Pod]] = [:]            // ns → name → pod
    private var sliceCache = SlicesByService()
    /// Indexes by label pair ("ns/key=value"), so a pod event touches only the Services that may select
    /// it and a sync looks only at the pods that may match: without them both are O(services × pods).
    private var servicesBySelectorPair: [String: Set<String>] = [:]  // → service keys
    private var podsByLabelPair: [String: Set<String>] = [:]         // → pod names in that namespace

    private let reporters: [String: SyncReporter]

    private let events: (any EventSink)?

    init(services: ResourceRegistry<Service>, pods: ResourceRegistry<Pod>, slices: ResourceRegistry<EndpointSlice>, logger: Logger,
         readiness: ReadinessChecks? = nil, events: (any EventSink)? = nil) {
        self.services = services; self.pods = pods; self.slices = slices; self.logger = logger; self.events = events
        reporters = SyncReporter.informers(readiness, controller: "endpointslice-controller", kinds: ["services", "pods", "endpointslices"])
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
                await informLoop(self.pods, logger: self.logger, reporter: self.reporters["pods"],
                                 onSync: { all in await self.resetPods(all) },
                                 onEvent: { type, p in await self.podChanged(type, p) })
            }
            group.addTask {
                await informLoop(self.slices, logger: self.logger, reporter: self.reporters["endpointslices"],
                                 onSync: { all in await self.resetSlices(all) },
                                 onEvent: { type, s in await self.sliceChanged(type, s) })
            }
        }
    }

    // MARK: caches

    private func resetServices(_ all: [Service]) {
        serviceCache = [:]
        servicesBySelectorPair = [:]
        for s in all { putService(s) }
        for key in serviceCache.keys { queue.add(key) }
    }

    private func serviceChanged(_ type: WatchEventType, _ s: Service) {
        if type == .deleted { removeService(s.key) } else { putService(s) }
        queue.add(s.key)
    }

    private func putService(_ s: Service) {
        removeService(s.key)
        serviceCache[s.key] = s
        for pair in Self.pairs(s.metadata.namespace, s.spec.selector) { servicesBySelectorPair[pair, default: []].insert(s.key) }
    }

    private func removeService(_ key: String) {
        guard let old = serviceCache.removeValue(forKey: key) else { return }
        for pair in Self.pairs(old.metadata.namespace, old.spec.selector) { servicesBySelectorPair[pair]?.remove(key) }
    }

    private func resetPods(_ all: [Pod]) {
        podCache = [:]
        podsByLabelPair = [:]
        for p in all { putPod(p) }
        for key in serviceCache.keys { queue.add(key) }
    }

    private func podChanged(_ type: WatchEventType, _ p: Pod) {
        let ns = p.metadata.namespace ?? ""
        let old = podCache[ns]?[p.name]
        if type == .deleted { removePod(ns, p.name) } else { putPod(p) }
        // Services whose selector matched the pod before or matches it now.
        var candidates = Set<String>()
        for labels in [old?.metadata.labels, p.metadata.labels] {
            for pair in Self.pairs(ns, labels) { candidates.formUnion(servicesBySelectorPair[pair] ?? []) }
        }
        for key in candidates {
            guard let selector = serviceCache[key]?.spec.selector, !selector.isEmpty else { continue }
            let matches = { (labels: [String: String]?) in selector.allSatisfy { labels?[$0.key] == $0.value } }
            if matches(p.metadata.labels) || matches(old?.metadata.labels) { queue.add(key) }
        }
    }

    private func putPod(_ p: Pod) {
        let ns = p.metadata.namespace ?? ""
        removePod(ns, p.name)
        podCache[ns, default: [:]][p.name] = p
        for pair in Self.pairs(ns, p.metadata.labels) { podsByLabelPair[pair, default: []].insert(p.name) }
    }

    private func removePod(_ ns: String, _ name: String) {
        guard let old = podCache[ns]?.removeValue(forKey: name) else { return }
        for pair in Self.pairs(ns, old.metadata.labels) { podsByLabelPair[pair]?.remove(name) }
    }

    /// The pods of a namespace that carry every label of `selector` (the reconciler still checks them all).
    private func candidatePods(_ ns: String, _ selector: [String: String]?) -> [Pod] {
        guard let selector, !selector.isEmpty, let pods = podCache[ns] else { return [] }
        let sets = Self.pairs(ns, selector).map { podsByLabelPair[$0] ?? [] }
        guard let smallest = sets.min(by: { $0.count < $1.count }) else { return [] }
        return smallest.compactMap { name in pods[name].flatMap { pod in selector.allSatisfy { pod.metadata.labels?[$0.key] == $0.value } ? pod : nil } }
    }

    private static func pairs(_ ns: String?, _ labels: [String: String]?) -> [String] {
        (labels ?? [:]).map { "\(ns ?? "")/\($0.key)=\($0.value)" }
    }

    private func resetSlices(_ all: [EndpointSlice]) {
        sliceCache.reset(all)
        for key in sliceCache.serviceKeys { queue.add(key) }
    }

    private func sliceChanged(_ type: WatchEventType, _ s: EndpointSlice) {
        // Our own writes come back here; a sync then finds nothing to do.
        if let key = sliceCache.apply(type, s) { queue.add(key) }
    }

    // MARK: sync

    private func sync(_ key: String) async {
        let existing = sliceCache.slices(of: key)
        let changes: EndpointSliceChanges
        if let service = serviceCache[key] {
            let ns = service.metadata.namespace ?? ""
            changes = reconciler.reconcile(service: service, pods: candidatePods(ns, service.spec.selector), existing: existing)
        } else {
            // The Service is gone: its slices go too (upstream leaves this to the garbage collector).
            changes = EndpointSliceChanges(create: [], update: [], delete: existing)
        }
        do {
            for slice in changes.delete {
                do {
                    _ = try await slices.delete(namespace: slice.metadata.namespace, name: slice.name)
                } catch let status as Status where status.code == 404 {}
                sliceCache.remove(slice, of: key)
            }
            for slice in changes.update {
                let updated = try await slices.update(slice, namespace: slice.metadata.namespace, name: slice.name)
                sliceCache.put(updated, of: key)
            }
            for slice in changes.create {
                let created = try await slices.create(slice, namespace: slice.metadata.namespace)
                sliceCache.put(created, of: key)
            }
        } catch let status as Status where status.code == 409 || status.code == 404 {
            queue.add(key)  // raced with another write; the watch brings the new state
        } catch {
            logger.warning("endpointslice sync of \(key) failed: \(error)")
            if let service = serviceCache[key] {
                await events?.record(EventRecord(involvedObject: EventRecord.reference(to: service), type: .warning,
                                                 reason: "FailedToUpdateEndpointSlices", message: "Error updating Endpoint Slices for Service \(key): \(error)"))
            }
        }
    }
}

/// EndpointSlices of kproxy's EndpointSlice controller, grouped by the Service they belong to: what both
/// endpoint controllers cache (slices others manage are left out).
struct SlicesByService {
    private var byService: [String: [String: EndpointSlice]] = [:]  // ns/service → slice name → slice

    /// The `namespace/name` of the Service a slice of ours belongs to; nil for slices others manage.
    static func serviceKey(of slice: EndpointSlice) -> String? {
        guard slice.metadata.labels?[EndpointSlice.managedByLabel] == EndpointSliceReconciler.managedBy,
              let service = slice.metadata.labels?[EndpointSlice.serviceNameLabel] else { return nil }
        return "\(slice.metadata.namespace ?? "")/\(service)"
    }

    var serviceKeys: Dictionary<String, [String: EndpointSlice]>.Keys { byService.keys }

    func slices(of key: String) -> [EndpointSlice] { Array((byService[key] ?? [:]).values) }

    mutating func reset(_ all: [EndpointSlice]) {
        byService = [:]
        for s in all { if let key = Self.serviceKey(of: s) { byService[key, default: [:]][s.name] = s } }
    }

    /// Applies a watch event; returns the key of the Service it concerns (nil: not one of ours).
    mutating func apply(_ type: WatchEventType, _ s: EndpointSlice) -> String? {
        guard let key = Self.serviceKey(of: s) else { return nil }
        if type == .deleted { remove(s, of: key) } else { put(s, of: key) }
        return key
    }

    mutating func put(_ s: EndpointSlice, of key: String) { byService[key, default: [:]][s.name] = s }
    mutating func remove(_ s: EndpointSlice, of key: String) { byService[key]?[s.name] = nil }
}
