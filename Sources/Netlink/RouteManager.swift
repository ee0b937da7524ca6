import CNetlink
import Values
#if canImport(Glibc)
import Glibc
#endif

/// A main-table route as the route manager sees it: destination prefix and gateway
/// (`10.244.1.0/24 via 192.168.0.2`), of one family.
public struct GatewayRoute: Hashable, Sendable, CustomStringConvertible {
    public var destination: CIDR
    public var gateway: IPAddress
    /// Out of this link with the gateway taken as on-link (`onlink`), as an overlay's routes are: the
    /// gateway is the peer's address behind the tunnel, not on any subnet of ours. Nil: the kernel picks.
    public var onlinkIndex: Int32?

    public init(destination: CIDR, gateway: IPAddress, onlinkIndex: Int32? = nil) {
        self.destination = destination; self.gateway = gateway; self.onlinkIndex = onlinkIndex
    }

    public var description: String { "\(destination) via \(gateway)" + (onlinkIndex.map { " dev #\($0) onlink" } ?? "") }
}

/// Lists, adds, replaces and deletes main-table gateway routes that carry one route protocol
/// number (`rtm_protocol`), so routes installed by anyone else are never seen or changed.
/// Bound to the namespace of the thread that opened its socket; not Sendable.
public final class RouteManager {
    private let socket: NetlinkSocket
    /// The protocol number that marks the routes this manager owns.
    public let routeProtocol: UInt8

    /// Opens a route socket in the calling thread's namespace.
    public init(routeProtocol: UInt8) throws(NetlinkError) {
        socket = try NetlinkSocket()
        self.routeProtocol = routeProtocol
    }

    /// Every main-table route of our protocol that has a gateway (`rtnl_route_alloc_cache`).
    public func routes() throws(NetlinkError) -> [GatewayRoute] {
        var cache: OpaquePointer?
        try NetlinkError.check(rtnl_route_alloc_cache(socket.sock, AF_UNSPEC, 0, &cache), "list routes", "proto \(routeProtocol)")
        guard let cache else { return [] }
        defer { nl_cache_free(cache) }
        var out: [GatewayRoute] = []
        var obj = nl_cache_get_first(cache)
        while let route = obj {
            obj = nl_cache_get_next(route)
            guard rtnl_route_get_protocol(route) == routeProtocol,
                  rtnl_route_get_table(route) == UInt32(RT_TABLE_MAIN.rawValue),
                  let dst = rtnl_route_get_dst(route),
                  rtnl_route_get_nnexthops(route) >= 1,
                  let nh = rtnl_route_nexthop_n(route, 0),
                  let gwAddr = rtnl_route_nh_get_gateway(nh),
                  let destination = NetlinkAddress.prefix(dst)?.cidr, let gateway = NetlinkAddress.ip(gwAddr) else { continue }
            let onlink = rtnl_route_nh_get_flags(nh) & UInt32(RTNH_F_ONLINK) != 0 ? rtnl_route_nh_get_ifindex(nh) : nil
            out.append(GatewayRoute(destination: destination, gateway: gateway, onlinkIndex: onlink))
        }
        return out
    }

    /// Adds a route; fails with `isExists` when any route (ours or not) has this destination already.
    public func add(_ route: GatewayRoute) throws(NetlinkError) {
        try send(route, operation: "add route") { (r) in rtnl_route_add(self.socket.sock, r, kp_nlm_f_create_excl()) }
    }

    /// Replaces the route to `route.destination` (`NLM_F_REPLACE`); used for routes of ours whose gateway changed.
    public func replace(_ route: GatewayRoute) throws(NetlinkError) {
        try send(route, operation: "replace route") { (r) in rtnl_route_add(self.socket.sock, r, NLM_F_CREATE | NLM_F_REPLACE) }
    }

    /// Deletes our route to `route.destination` via `route.gateway`; returns false when it was gone already.
    /// The kernel matches the protocol too, so a foreign route to the same destination stays.
    @discardableResult
    public func delete(_ route: GatewayRoute) throws(NetlinkError) -> Bool {
        do throws(NetlinkError) {
            try send(route, operation: "delete route") { (r) in rtnl_route_delete(self.socket.sock, r, 0) }
            return true
        } catch {
            if error.code == -NLE_OBJ_NOTFOUND || error.code == -NLE_NOADDR || error.isNotFound || error.code == -ESRCH { return false }
            throw error
        }
    }

    /// Builds the libnl route object for `route` (main table, our protocol, universe scope, one
    /// next hop with only a gateway: the kernel picks the link) and hands it to `body`.
    private func send(_ route: GatewayRoute, operation: String, _ body: (OpaquePointer) -> Int32) throws(NetlinkError) {
        guard route.destination.family == route.gateway.family else {
            throw NetlinkError(code: -NLE_AF_MISMATCH, operation: operation, object: route.description)
        }
        let dst = try NetlinkAddress.make(route.destination.network, prefixLength: route.destination.prefixLength)
        defer { nl_addr_put(dst) }
        let gw = try NetlinkAddress.make(route.gateway)
        defer { nl_addr_put(gw) }
        guard let r = rtnl_route_alloc(), let nh = rtnl_route_nh_alloc() else {
            throw NetlinkError(code: -NLE_NOMEM, operation: "alloc route", object: route.description)
        }
        defer { rtnl_route_put(r) }
        rtnl_route_set_family(r, UInt8(nl_addr_get_family(dst)))
        try NetlinkError.check(rtnl_route_set_dst(r, dst), "set route dst", route.description)
        rtnl_route_set_table(r, UInt32(RT_TABLE_MAIN.rawValue))
        rtnl_route_set_protocol(r, routeProtocol)
        rtnl_route_set_scope(r, UInt8(RT_SCOPE_UNIVERSE.rawValue))
        rtnl_route_set_type(r, UInt8(RTN_UNICAST))
        rtnl_route_nh_set_gateway(nh, gw)
        if let index = route.onlinkIndex {
            rtnl_route_nh_set_ifindex(nh, index)
            rtnl_route_nh_set_flags(nh, UInt32(RTNH_F_ONLINK))
        }
        rtnl_route_add_nexthop(r, nh)
        try NetlinkError.check(body(r), operation, route.description)
    }
}
