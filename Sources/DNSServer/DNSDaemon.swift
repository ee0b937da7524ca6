import DNSCore
import KubeClient
import Logging
import NIOCore
import NIOPosix

/// Settings of `kproxy dns`, parsed.
public struct DNSDaemonConfig: Sendable {
    public var listenHost: String
    public var listenPort: Int
    public var zone: ZoneOptions
    /// Resolvers for names outside the zone; one that is this server itself is dropped (a forwarding loop).
    public var upstreams: [SocketAddress]
    /// Where /metrics, /health and /ready are served; nil for none.
    public var metrics: (host: String, port: Int)?
    public var threads: Int

    public init(listenHost: String, listenPort: Int, zone: ZoneOptions, upstreams: [SocketAddress] = [],
                metrics: (host: String, port: Int)? = nil, threads: Int = System.coreCount) {
        self.listenHost = listenHost; self.listenPort = listenPort; self.zone = zone; self.upstreams = upstreams
        self.metrics = metrics; self.threads = max(1, threads)
    }
}

/// The cluster DNS server as one unit: the UDP and TCP listeners, the forwarder, the index kept from the
/// API's Services, EndpointSlices and Pods, the metrics and health endpoints, and the forwarding-loop
/// probe. `start` binds everything, `run` serves until cancelled, `shutdown` releases it all.
public final class DNSDaemon: Sendable {
    public let config: DNSDaemonConfig
    public let store: IndexStore
    public let metrics: DNSMetrics
    private let group: MultiThreadedEventLoopGroup
    private let server: DNSServer
    private let forwarder: Forwarder?
    private let processor: QueryProcessor
    private let metricsServer: DNSMetricsServer?
    private let watcher: ClusterIndexWatcher
    private let logger: Logger

    /// The address the DNS listeners are bound to (the kernel's port when asked for 0).
    public var localAddress: SocketAddress { server.localAddress }
    public var metricsAddress: SocketAddress? { metricsServer?.localAddress }

    private init(config: DNSDaemonConfig, store: IndexStore, metrics: DNSMetrics, group: MultiThreadedEventLoopGroup, server: DNSServer,
                 forwarder: Forwarder?, processor: QueryProcessor, metricsServer: DNSMetricsServer?, watcher: ClusterIndexWatcher, logger: Logger) {
        self.config = config; self.store = store; self.metrics = metrics; self.group = group; self.server = server
        self.forwarder = forwarder; self.processor = processor; self.metricsServer = metricsServer; self.watcher = watcher; self.logger = logger
    }

    public static func start(_ config: DNSDaemonConfig, client: KubeClient, logger: Logger) async throws -> DNSDaemon {
        let listen = try SocketAddress(ipAddress: config.listenHost, port: config.listenPort)
        var upstreams = config.upstreams
        let looping = upstreams.filter { ResolvConf.isSelf($0, listen: listen) }
        if !looping.isEmpty {
            logger.warning("not forwarding to \(looping.map { "\($0)" }): that is this server")
            upstreams.removeAll { ResolvConf.isSelf($0, listen: listen) }
        }
        let store = IndexStore(.unsynced(config.zone))
        let metrics = DNSMetrics(server: "dns://\(config.listenHost):\(config.listenPort)", zone: config.zone.zone.description)
        let group = MultiThreadedEventLoopGroup(numberOfThreads: config.threads)
        do {
            let forwarder = upstreams.isEmpty ? nil : try await Forwarder.start(upstreams: upstreams, group: group, logger: logger)
            let processor = QueryProcessor(store: store, forwarder: forwarder, metrics: metrics, logger: logger)
            let server: DNSServer
            do { server = try await DNSServer.bind(host: config.listenHost, port: config.listenPort, processor: processor, group: group) } catch {
                await forwarder?.shutdown()
                throw error
            }
            var metricsServer: DNSMetricsServer?
            if let m = config.metrics {
                do { metricsServer = try await DNSMetricsServer.bind(host: m.host, port: m.port, metrics: metrics, store: store, logger: logger) } catch {
                    await server.close()
                    await forwarder?.shutdown()
                    throw error
                }
            }
            let watcher = ClusterIndexWatcher(client: client, options: config.zone, store: store, logger: logger)
            logger.info("serving \(config.zone.zone) on \(server.localAddress) (udp, tcp); upstreams \(upstreams.map { "\($0)" })")
            return DNSDaemon(config: config, store: store, metrics: metrics, group: group, server: server, forwarder: forwarder,
                             processor: processor, metricsServer: metricsServer, watcher: watcher, logger: logger)
        } catch {
            try? await group.shutdownGracefully()
            throw error
        }
    }

    /// Keeps the index current and serves until the calling task is cancelled.
    public func run() async {
        await withDiscardingTaskGroup { group in
            group.addTask { await self.watcher.run() }
            if let metricsServer { group.addTask { await metricsServer.run() } }
            group.addTask { await self.processor.probeForLoops() }
        }
    }

    /// Closes the listeners and the forwarder and stops the threads.
    public func shutdown() async {
        await server.close()
        await forwarder?.shutdown()
        try? await group.shutdownGracefully()
        logger.info("dns stopped")
    }
}
