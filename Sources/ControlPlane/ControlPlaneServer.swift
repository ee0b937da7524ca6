import Foundation
import HTTPServing
import KubeAPI
import LinuxSystem
import Logging
import Values

/// Settings of `kproxy controlplane`.
public struct ControlPlaneConfig: Sendable {
    public var dataDir: String
    public var listenHost = "127.0.0.1"
    public var listenPort = 6443
    public var serviceCIDR = "10.96.0.0/12"
    public var clusterCIDR = "10.244.0.0/16"
    public var nodeCIDRMaskSize = 24
    public var nodePortRange: ClosedRange<Int> = 30000...32767
    /// Bearer token clients must present; generated (and kept in the data dir) when nil.
    public var token: String?
    public var historyLimit = 100_000
    /// How long a node may go without a heartbeat before it turns Unknown (upstream's `--node-monitor-grace-period`).
    public var nodeMonitorGracePeriod: TimeInterval = 40
    /// The address the `kubernetes` Service's endpoints point at; defaults to the listen address when that
    /// is routable. Loopback cannot be an endpoint (upstream validation), so on loopback there is none.
    public var advertiseAddress: String?

    public init(dataDir: String) { self.dataDir = dataDir }
}

public enum ControlPlaneError: Error, CustomStringConvertible {
    case invalidConfig(String)
    public var description: String { switch self { case .invalidConfig(let m): "invalid configuration: \(m)" } }
}

/// The embedded control plane: store, registries, API server and controllers in one process.
public final class ControlPlaneServer: Sendable {
    public let config: ControlPlaneConfig
    public let token: String
    /// PEM of the CA that signed the serving certificate (`certificate-authority-data` of kubeconfigs).
    public let caPEM: String
    public let store: SQLiteStore
    public let services: ResourceRegistry<Service>
    public let pods: ResourceRegistry<Pod>
    public let nodes: ResourceRegistry<Node>
    public let namespaces: ResourceRegistry<Namespace>
    public let endpointSlices: ResourceRegistry<EndpointSlice>
    /// core/v1 Endpoints, mirrored from the slices for the clients that still read them.
    public let endpoints: ResourceRegistry<Endpoints>
    public let events: ResourceRegistry<Event>
    public let deployments: ResourceRegistry<Deployment>
    public let replicaSets: ResourceRegistry<ReplicaSet>
    public let leases: ResourceRegistry<Lease>
    private let http: HTTPServer
    private let allocations: ServiceAllocations
    private let nodeIPAM: NodeIPAMController
    /// The checks behind `/readyz`.
    public let readiness: ReadinessChecks
    private let recorder: ControlPlaneEvents
    private let logger: Logger

    /// The port the API server listens on (resolved when `listenPort` is 0).
    public var port: Int { http.localAddress.port ?? config.listenPort }
    public var serverURL: String {
        let host = config.listenHost.contains(":") ? "[\(config.listenHost)]" : config.listenHost
        return "https://\(host == "0.0.0.0" ? "127.0.0.1" : host):\(port)"
    }

    /// Opens the store, rebuilds allocations from it, creates the bootstrap objects and binds the port.
    public static func start(_ config: ControlPlaneConfig, logger: Logger) async throws -> ControlPlaneServer {
        guard let serviceCIDR = CIDR(config.serviceCIDR) else { throw ControlPlaneError.invalidConfig("--service-cidr \(config.serviceCIDR)") }
        guard let clusterCIDR = CIDR(config.clusterCIDR) else { throw ControlPlaneError.invalidConfig("--cluster-cidr \(config.clusterCIDR)") }
        // The data dir holds the token, the CA key and the store: only its owner may enter it.
        try PrivateFiles.makeDirectory(config.dataDir)
        let token = try config.token ?? loadOrCreateToken(dir: config.dataDir)
        let store = try SQLiteStore(path: config.dataDir + "/state.db", historyLimit: config.historyLimit, logger: logger)
        let allocations = try ServiceAllocations(serviceCIDR: serviceCIDR, nodePortRange: config.nodePortRange)

        let namespaces = ResourceRegistry<Namespace>(store: store, hooks: NamespaceHooks(), deletion: NamespaceDeletion())
        let gate = NamespaceHooks.gate(namespaces)
        let services = ResourceRegistry<Service>(store: store, hooks: ServiceHooks(allocations: allocations), namespaceGate: gate)
        let pods = ResourceRegistry<Pod>(store: store, deletion: PodDeletion(), namespaceGate: gate)
        let nodes = ResourceRegistry<Node>(store: store)
        let slices = ResourceRegistry<EndpointSlice>(store: store, namespaceGate: gate)
        let events = ResourceRegistry<Event>(store: store, namespaceGate: gate)
        let endpointsRegistry = ResourceRegistry<Endpoints>(store: store, namespaceGate: gate)
        let deployments = ResourceRegistry<Deployment>(store: store, deletion: OwnerDeletion<Deployment>(), namespaceGate: gate)
        let replicaSets = ResourceRegistry<ReplicaSet>(store: store, deletion: OwnerDeletion<ReplicaSet>(), namespaceGate: gate)
        let leases = ResourceRegistry<Lease>(store: store, namespaceGate: gate)

        for service in try await services.list(namespace: nil).items { await allocations.occupy(service) }

        // Not ready until the controllers run and every informer has listed (upstream's post-start hooks and informer-sync).
        let readiness = ReadinessChecks()
        readiness.register(Self.controllersCheck)
        let recorder = ControlPlaneEvents(events: events, logger: logger)
        let nodeIPAM = try NodeIPAMController(nodes: nodes, clusterCIDR: clusterCIDR, maskSize: config.nodeCIDRMaskSize, logger: logger,
                                              readiness: readiness, events: recorder)

        let endpoints: [any ResourceEndpoint] = [
            TypedEndpoint(registry: namespaces, now: { Date() }), TypedEndpoint(registry: nodes, now: { Date() }),
            TypedEndpoint(registry: pods, now: { Date() }, extras: Dictionary(uniqueKeysWithValues: [
                BindingSubresource.make(pods, now: { Date() }),
                LogSubresource.make(pods: pods, nodes: nodes, token: token),
                ExecSubresource.make(),
            ])),
            TypedEndpoint(registry: services, now: { Date() }),
            TypedEndpoint(registry: deployments, now: { Date() }, extras: Dictionary(uniqueKeysWithValues: [ScaleSubresource.make(deployments)])),
            TypedEndpoint(registry: replicaSets, now: { Date() }, extras: Dictionary(uniqueKeysWithValues: [ScaleSubresource.make(replicaSets)])),
            TypedEndpoint(registry: events, now: { Date() }), TypedEndpoint(registry: slices, now: { Date() }),
            TypedEndpoint(registry: endpointsRegistry, now: { Date() }), TypedEndpoint(registry: leases, now: { Date() }),
        ] + ReviewEndpoint.all
        let api = APIServer(token: token, endpoints: endpoints, logger: logger,
                            health: HealthEndpoint(store: { try await store.checkHealth() }, readiness: readiness))
        var sans = [IPAddress("127.0.0.1"), IPAddress("::1"), IPAddress(config.listenHost), serviceCIDR.address(at: 1)].compactMap { $0 }
        if let text = config.advertiseAddress, let advertise = IPAddress(text) { sans.append(advertise) }
        let tls = try TLSCertificates.prepare(directory: config.dataDir, addresses: sans.filter { !$0.isUnspecified },
                                              dnsNames: ["localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc",
                                                         "kubernetes.default.svc.cluster.local"])
        let http = try await HTTPServer.bind(host: config.listenHost, port: config.listenPort, tls: try tls.serverContext(), handler: api, logger: logger,
                                             webSockets: ExecProxy(pods: pods, nodes: nodes, token: token, logger: logger))
        let server = ControlPlaneServer(config: config, token: token, caPEM: tls.caPEM, store: store, services: services, pods: pods, nodes: nodes,
                                        namespaces: namespaces, endpointSlices: slices, endpoints: endpointsRegistry, events: events,
                                        deployments: deployments, replicaSets: replicaSets, leases: leases, http: http,
                                        allocations: allocations, nodeIPAM: nodeIPAM, readiness: readiness, recorder: recorder, logger: logger)
        try await server.bootstrap()
        let revision = await store.currentRevision()
        logger.info("control plane serving on \(server.serverURL) (store revision \(revision))")
        return server
    }

    private init(config: ControlPlaneConfig, token: String, caPEM: String, store: SQLiteStore, services: ResourceRegistry<Service>, pods: ResourceRegistry<Pod>,
                 nodes: ResourceRegistry<Node>, namespaces: ResourceRegistry<Namespace>, endpointSlices: ResourceRegistry<EndpointSlice>,
                 endpoints: ResourceRegistry<Endpoints>,
                 events: ResourceRegistry<Event>, deployments: ResourceRegistry<Deployment>, replicaSets: ResourceRegistry<ReplicaSet>,
                 leases: ResourceRegistry<Lease>, http: HTTPServer, allocations: ServiceAllocations, nodeIPAM: NodeIPAMController,
                 readiness: ReadinessChecks, recorder: ControlPlaneEvents, logger: Logger) {
        self.config = config; self.token = token; self.caPEM = caPEM; self.store = store; self.services = services; self.pods = pods
        self.nodes = nodes; self.namespaces = namespaces; self.endpointSlices = endpointSlices; self.endpoints = endpoints; self.events = events
        self.deployments = deployments; self.replicaSets = replicaSets; self.leases = leases
        self.http = http; self.allocations = allocations; self.nodeIPAM = nodeIPAM; self.readiness = readiness; self.recorder = recorder; self.logger = logger
    }

    static let controllersCheck = "poststarthook/start-kproxy-controllers"

    /// Serves and runs the controllers until the calling task is cancelled.
    public func run() async {
        let purgers: [@Sendable (String) async throws -> Void] = [
            { [deployments] ns in _ = try await deployments.deleteCollection(namespace: ns, listOptions: ListOptions(), options: DeleteOptions()) },
            { [replicaSets] ns in _ = try await replicaSets.deleteCollection(namespace: ns, listOptions: ListOptions(), options: DeleteOptions()) },
            { [services] ns in _ = try await services.deleteCollection(namespace: ns, listOptions: ListOptions(), options: DeleteOptions()) },
            { [pods] ns in
                var force = DeleteOptions(); force.gracePeriodSeconds = 0
                _ = try await pods.deleteCollection(namespace: ns, listOptions: ListOptions(), options: force)
            },
            { [endpointSlices] ns in _ = try await endpointSlices.deleteCollection(namespace: ns, listOptions: ListOptions(), options: DeleteOptions()) },
            { [leases] ns in _ = try await leases.deleteCollection(namespace: ns, listOptions: ListOptions(), options: DeleteOptions()) },
            { [events] ns in _ = try await events.deleteCollection(namespace: ns, listOptions: ListOptions(), options: DeleteOptions()) },
            { [endpoints] ns in _ = try await endpoints.deleteCollection(namespace: ns, listOptions: ListOptions(), options: DeleteOptions()) },
        ]
        let namespaceController = NamespaceController(namespaces: namespaces, purgers: purgers, logger: logger,
                                                      reporter: SyncReporter(readiness, "informer-sync/namespace-controller/namespaces"))
        let sliceController = EndpointSliceController(services: services, pods: pods, slices: endpointSlices, logger: logger, readiness: readiness,
                                                      events: recorder)
        let endpointsController = EndpointsController(services: services, slices: endpointSlices, endpoints: endpoints, logger: logger,
                                                      readiness: readiness, events: recorder)
        let terminator = PodTerminator(pods: pods, logger: logger, now: { Date() },
                                       reporter: SyncReporter(readiness, "informer-sync/pod-terminator/pods"),
                                       hasAgent: { [leases] node in
                                           guard let lease = try? await leases.get(namespace: Lease.nodeLeaseNamespace, name: node),
                                                 let renewed = lease.lastRenewal else { return false }
                                           return Date().timeIntervalSince(renewed) < Double(lease.spec.leaseDurationSeconds ?? 40)
                                       })
        let replicaSetController = ReplicaSetController(replicaSets: replicaSets, pods: pods, logger: logger, readiness: readiness)
        let deploymentController = DeploymentController(deployments: deployments, replicaSets: replicaSets, logger: logger, readiness: readiness)
        let scheduler = Scheduler(pods: pods, nodes: nodes, logger: logger, readiness: readiness)
        let lifecycle = NodeLifecycleController(nodes: nodes, leases: leases, pods: pods, logger: logger,
                                                grace: config.nodeMonitorGracePeriod)
        let collector = GarbageCollector(kinds: [.of(deployments), .of(replicaSets), .of(pods), .of(nodes), .of(leases)], logger: logger)
        readiness.pass(Self.controllersCheck)
        await withDiscardingTaskGroup { group in
            group.addTask { await self.http.run() }
            group.addTask { await namespaceController.run() }
            group.addTask { await sliceController.run() }
            group.addTask { await endpointsController.run() }
            group.addTask { await self.nodeIPAM.run() }
            group.addTask { await terminator.run() }
            group.addTask { await replicaSetController.run() }
            group.addTask { await deploymentController.run() }
            group.addTask { await scheduler.run() }
            group.addTask { await collector.run() }
            group.addTask { await lifecycle.run() }
            group.addTask { await self.store.runCompaction(every: .seconds(60), keepLast: self.config.historyLimit) }
        }
        await store.close()
    }

    /// The namespaces every cluster has, and the `kubernetes` Service at the first ClusterIP with its endpoints.
    private func bootstrap() async throws {
        for name in ["default", "kube-system", "kube-public", "kube-node-lease"] {
            do { _ = try await namespaces.create(Namespace(metadata: ObjectMeta(name: name)), namespace: nil) } catch let s as Status where s.code == 409 {}
        }
        guard let first = await allocations.firstAddress else { throw ControlPlaneError.invalidConfig("--service-cidr \(config.serviceCIDR) has no usable address") }
        var kubernetes = Service(metadata: ObjectMeta(name: "kubernetes", namespace: "default",
                                                      labels: ["component": "apiserver", "provider": "kubernetes"]))
        kubernetes.spec.clusterIP = first.description
        var https = ServicePort()
        https.name = "https"; https.protocol = .tcp; https.port = 443; https.targetPort = .int(port)
        kubernetes.spec.ports = [https]
        kubernetes.spec.sessionAffinity = SessionAffinity.none
        if (try? await services.get(namespace: "default", name: "kubernetes")) == nil {
            _ = try await services.create(kubernetes, namespace: "default")
        }

        let advertise = config.advertiseAddress ?? config.listenHost
        guard let address = IPAddress(advertise), !address.isLoopback, !address.isUnspecified else {
            logger.info("no routable advertise address: the kubernetes Service has no endpoints (use --advertise-address)")
            return
        }
        var slice = EndpointSlice()
        slice.metadata = ObjectMeta(name: "kubernetes", namespace: "default",
                                    labels: [EndpointSlice.serviceNameLabel: "kubernetes", EndpointSlice.managedByLabel: "kproxy-controlplane"])
        slice.addressType = address.isIPv4 ? .ipv4 : .ipv6
        var endpoint = Endpoint()
        endpoint.addresses = [address.description]
        endpoint.conditions.ready = true
        slice.endpoints = [endpoint]
        var p = EndpointPort()
        p.name = "https"; p.protocol = .tcp; p.port = port
        slice.ports = [p]
        let desired = slice
        do { _ = try await endpointSlices.create(desired, namespace: "default") } catch let s as Status where s.code == 409 {
            _ = try await endpointSlices.guaranteedUpdate(namespace: "default", name: "kubernetes") { current in
                var copy = current
                copy.endpoints = desired.endpoints
                copy.ports = desired.ports
                return copy
            }
        }
    }

    /// A kubeconfig for this control plane, with its token.
    public func kubeconfig(contextName: String = "kproxy") -> String {
        """
        apiVersion: v1
        kind: Config
        clusters:
        - name: \(contextName)
          cluster:
            server: \(serverURL)
            certificate-authority-data: \(Data(caPEM.utf8).base64EncodedString())
        users:
        - name: \(contextName)-admin
          user:
            token: \(token)
        contexts:
        - name: \(contextName)
          context:
            cluster: \(contextName)
            user: \(contextName)-admin
            namespace: default
        current-context: \(contextName)

        """
    }

    static func loadOrCreateToken(dir: String) throws -> String {
        let path = dir + "/token"
        if let existing = try? String(contentsOfFile: path, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines), !existing.isEmpty {
            return existing
        }
        var rng = SystemRandomNumberGenerator()
        let token = (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &rng)) }.joined()
        // A token that is not on disk would be replaced at the next start, and every kubeconfig would break.
        try PrivateFiles.write(token + "\n", to: path)
        return token
    }
}
