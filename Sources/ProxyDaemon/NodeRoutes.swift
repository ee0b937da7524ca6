import Foundation
import KubeAPI
import KubeClient
import Logging
import Netlink
import ProxyCore
import Values

/// Keeps host-gw pod routes in step with the Node objects: every other Node's podCIDRs via its
/// InternalIP (`HostGatewayRoutes`), installed with protocol `HostGatewayRoutes.routeProtocol` so
/// only routes of ours are ever changed. Changes are coalesced; errors are logged and retried with
/// a doubling delay.
public struct NodeRouteSync: Sendable {
    /// How other nodes' pods are reached: their InternalIP as gateway on a shared segment (host-gw), or
    /// through a VXLAN tunnel when the nodes share no layer 2.
    public enum Mode: String, Sendable, CaseIterable { case hostGateway = "host-gw", vxlan }

    private let client: KubeClient
    private let nodeName: String
    private let namespacePath: String?
    private let logger: Logger

    private let resyncInterval: Duration
    private let mode: Mode

    /// `namespacePath` names a network namespace to program (`/var/run/netns/NAME`); nil means the
    /// daemon's own. Besides after Node changes, the routes are checked every `resyncInterval`: the kernel
    /// deletes a link's routes when it goes down, and nothing else puts them back when it comes up.
    public init(client: KubeClient, nodeName: String, namespacePath: String? = nil, mode: Mode = .hostGateway,
                resyncInterval: Duration = .seconds(5), logger: Logger) {
        self.client = client; self.nodeName = nodeName; self.namespacePath = namespacePath; self.mode = mode
        self.resyncInterval = resyncInterval; self.logger = logger
    }

    /// Watches all Nodes and applies the route diff after each batch of changes, until cancelled.
    public func run() async {
        let nodes = Informer(KubeListWatcher<Node>(client: client))
        let trigger = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        await withDiscardingTaskGroup { group in
            group.addTask { await nodes.run() }
            group.addTask {
                for await _ in nodes.events { trigger.continuation.yield() }
                trigger.continuation.finish()
            }
            group.addTask { [resyncInterval] in
                while !Task.isCancelled {
                    do { try await Task.sleep(for: resyncInterval) } catch { return }
                    trigger.continuation.yield()
                }
            }
            group.addTask {
                do { try await nodes.waitForSync() } catch { return }
                var retryDelay = Duration.seconds(1)
                for await _ in trigger.stream {
                    let snapshot = Array(nodes.snapshot().values)
                    do {
                        let plan = try await Self.applyOnThread(nodes: snapshot, localNodeName: nodeName, namespacePath: namespacePath, mode: mode)
                        retryDelay = .seconds(1)
                        if !plan.isEmpty {
                            logger.info("node routes: +\(plan.add.count) ~\(plan.replace.count) -\(plan.delete.count)")
                        }
                    } catch {
                        // Retry with a doubling delay, at most the resync interval (the periodic check must
                        // still come every interval: after a link returns, the routes are back within it).
                        logger.error("node routes (retrying in \(retryDelay)): \(error)")
                        try? await Task.sleep(for: retryDelay)
                        retryDelay = min(retryDelay * 2, resyncInterval)
                        trigger.continuation.yield()
                    }
                }
            }
        }
    }

    /// `apply` on a thread of its own: netlink calls block, and the cooperative pool must not wait on them.
    static func applyOnThread(nodes: [Node], localNodeName: String, namespacePath: String?, mode: Mode) async throws(NodeRouteError) -> NodeRoutePlan {
        let result: Result<NodeRoutePlan, NodeRouteError> = await withCheckedContinuation { done in
            let thread = Thread {
                done.resume(returning: Result { () throws(NodeRouteError) in
                    try apply(nodes: nodes, localNodeName: localNodeName, namespacePath: namespacePath, mode: mode)
                })
            }
            thread.name = "kproxy-node-routes"
            thread.start()
        }
        return try result.get()
    }

    /// Reads our installed routes, computes the plan for `nodes` and applies it (blocking briefly on
    /// netlink). Every change is attempted; failures are thrown together after the rest ran.
    /// With `namespacePath`, the work runs on a dedicated thread inside that namespace.
    @discardableResult
    public static func apply(nodes: [Node], localNodeName: String, namespacePath: String? = nil, mode: Mode = .hostGateway) throws(NodeRouteError) -> NodeRoutePlan {
        let work = { () throws(NetlinkError) -> (plan: NodeRoutePlan, failures: [NetlinkError]) in
            switch mode {
            case .hostGateway: try applyHere(HostGatewayRoutes.desired(nodes: nodes, localNodeName: localNodeName), onlinkIndex: nil)
            case .vxlan: try applyVXLAN(nodes: nodes, localNodeName: localNodeName)
            }
        }
        let outcome: (plan: NodeRoutePlan, failures: [NetlinkError])
        do throws(NetlinkError) {
            if let namespacePath {
                outcome = try NetworkNamespace.run(path: namespacePath) { () throws(NetlinkError) in try work() }
            } else {
                outcome = try work()
            }
        } catch {
            throw NodeRouteError(plan: nil, failures: [error])
        }
        if !outcome.failures.isEmpty { throw NodeRouteError(plan: outcome.plan, failures: outcome.failures) }
        return outcome.plan
    }

    /// The tunnel device (made when missing, kept when present: a restart must not cut pod traffic), its
    /// address, its flood list and the routes through it, in the calling thread's namespace.
    private static func applyVXLAN(nodes: [Node], localNodeName: String) throws(NetlinkError) -> (plan: NodeRoutePlan, failures: [NetlinkError]) {
        let local = nodes.first { $0.name == localNodeName }
        let nl = try NetlinkSocket()
        let localIP = local.flatMap(VXLANOverlay.internalIPv4)
        // The tunnel's MTU: the underlay's (the link holding the local address; else a 1500-byte one) minus
        // the encapsulation, so inner packets never exceed the underlay.
        var underlay = 1500
        if let localIP {
            for link in try nl.links() where try nl.addresses(index: link.index).contains(where: { $0.address == localIP }) {
                underlay = link.mtu
            }
        }
        let device = try nl.ensureVXLAN(VXLANSettings(name: VXLANOverlay.device, vni: VXLANOverlay.vni, port: VXLANOverlay.port,
                                                       local: localIP, mtu: underlay - VXLANOverlay.overhead))
        var failures: [NetlinkError] = []
        if let local, let address = VXLANOverlay.localAddress(podCIDRs: HostGatewayRoutes.podCIDRs(of: local)) {
            do throws(NetlinkError) { try nl.addAddress(IPPrefix(address), index: device.index, allowExisting: true) } catch { failures.append(error) }
        }
        let wanted = Set(VXLANOverlay.floodList(nodes: nodes, localNodeName: localNodeName))
        let present = Set(try nl.floodList(index: device.index))
        for remote in wanted.subtracting(present).sorted() {
            do throws(NetlinkError) { try nl.addFlood(index: device.index, remote: remote) } catch { failures.append(error) }
        }
        for remote in present.subtracting(wanted).sorted() {
            do throws(NetlinkError) { try nl.deleteFlood(index: device.index, remote: remote) } catch { failures.append(error) }
        }
        let routes = try applyHere(VXLANOverlay.desired(nodes: nodes, localNodeName: localNodeName), onlinkIndex: device.index)
        return (routes.plan, failures + routes.failures)
    }

    /// Applies the plan from our installed routes to `desired` in the calling thread's namespace.
    private static func applyHere(_ desired: [NodeRoute], onlinkIndex: Int32?) throws(NetlinkError) -> (plan: NodeRoutePlan, failures: [NetlinkError]) {
        let manager = try RouteManager(routeProtocol: HostGatewayRoutes.routeProtocol)
        let routes = try manager.routes()
        var plan = HostGatewayRoutes.plan(desired: desired, installed: routes.compactMap(nodeRoute))
        // A route of ours with the right gateway but the wrong way out (host-gw vs the tunnel, or a tunnel
        // device made again) is replaced too.
        let wanted = Set(desired)
        let unchanged = Set(plan.add + plan.replace + plan.delete)
        for route in routes where route.onlinkIndex != onlinkIndex {
            guard let r = nodeRoute(route), wanted.contains(r), !unchanged.contains(r) else { continue }
            plan.replace.append(r)
        }
        var failures: [NetlinkError] = []
        func attempt(_ change: () throws(NetlinkError) -> Void) {
            do throws(NetlinkError) { try change() } catch { failures.append(error) }
        }
        for route in plan.delete { attempt { () throws(NetlinkError) in try manager.delete(gatewayRoute(route)) } }
        for route in plan.replace { attempt { () throws(NetlinkError) in try manager.replace(gatewayRoute(route, onlinkIndex)) } }
        for route in plan.add { attempt { () throws(NetlinkError) in try manager.add(gatewayRoute(route, onlinkIndex)) } }
        return (plan, failures)
    }

    static func gatewayRoute(_ route: NodeRoute, _ onlinkIndex: Int32? = nil) -> GatewayRoute {
        GatewayRoute(destination: route.destination, gateway: route.gateway, onlinkIndex: onlinkIndex)
    }

    static func nodeRoute(_ route: GatewayRoute) -> NodeRoute? {
        NodeRoute(destination: route.destination, gateway: route.gateway)
    }
}

/// Applying node routes failed: the netlink errors, and the plan when it was computed.
public struct NodeRouteError: Error, Sendable, CustomStringConvertible {
    public var plan: NodeRoutePlan?
    public var failures: [NetlinkError]
    public var description: String { failures.map(\.description).joined(separator: "; ") }
}
