import CLinuxExtras
import LinuxSystem
import DNSCore
import Foundation
import KubeAPI
import KubeClient
import Logging

/// Keeps an `IndexStore` in step with the cluster: informers for Services and EndpointSlices
/// (and Pods in `verified` mode); after any change (coalesced) the index is rebuilt from the
/// informers' caches and published. The index stays unsynced (SERVFAIL) until all have listed.
public struct ClusterIndexWatcher: Sendable {
    public let options: ZoneOptions
    public let store: IndexStore
    let services: Informer<DNSServiceView>
    let slices: Informer<EndpointSlice>
    let pods: Informer<Pod>?
    let logger: Logger

    public init(client: KubeClient, options: ZoneOptions, store: IndexStore, logger: Logger) {
        self.options = options
        self.store = store
        self.logger = logger
        // Events only mark the index dirty (the rebuild reads the caches), so one pending event is enough.
        services = Informer(KubeListWatcher<DNSServiceView>(client: client), eventBuffering: .bufferingNewest(1), logger: logger)
        slices = Informer(KubeListWatcher<EndpointSlice>(client: client), eventBuffering: .bufferingNewest(1),
                          transform: DNSObjectTrim.endpointSlice, logger: logger)
        pods = options.pods == .verified
            ? Informer(KubeListWatcher<Pod>(client: client), eventBuffering: .bufferingNewest(1), transform: DNSObjectTrim.pod, logger: logger)
            : nil
    }

    /// True once every informer has listed.
    public var hasSynced: Bool { services.hasSynced && slices.hasSynced && (pods?.hasSynced ?? true) }

    /// Runs the informers and rebuilds until cancelled.
    public func run() async {
        let (dirty, mark) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        await withDiscardingTaskGroup { group in
            group.addTask { await services.run() }
            group.addTask { await slices.run() }
            if let pods { group.addTask { await pods.run() } }
            group.addTask { for await _ in services.events { mark.yield() } }
            group.addTask { for await _ in slices.events { mark.yield() } }
            if let pods { group.addTask { for await _ in pods.events { mark.yield() } } }
            group.addTask {
                for await _ in dirty {
                    guard hasSynced else { continue }
                    rebuild()
                }
            }
            group.addTask {
                await withTaskCancellationHandler {
                    while !Task.isCancelled { try? await Task.sleep(for: .seconds(3600)) }
                } onCancel: { mark.finish() }
            }
        }
    }

    /// Builds and publishes a new snapshot from the caches.
    func rebuild() {
        let start = ContinuousClock.now
        let index = ServiceIndex.build(options: options, services: services.snapshot().values.lazy.map(\.service), slices: slices.snapshot().values,
                                       pods: pods?.snapshot().values.map { $0 } ?? [],
                                       serial: UInt32(truncatingIfNeeded: Int(Date().timeIntervalSince1970)))
        store.publish(index)
        // The previous index and the decoding garbage of the events that led here are free now; glibc would
        // keep those pages in its arenas (the process's size would stay at its high-water mark).
        Sys.releaseFreeMemory()
        logger.debug("index rebuilt: \(index.nameCount) names in \(ContinuousClock.now - start)")
    }
}
