import CNetlink
import Values
#if canImport(Glibc)
import Glibc
#endif

extension NetlinkSocket {
    /// Adds `address` (`10.244.1.2/24`, `fd00::2/64`) to a link. IPv6 addresses skip DAD (IFA_F_NODAD).
    /// With `allowExisting`, an address already present is not an error (the bridge gateway).
    public func addAddress(_ address: IPPrefix, index: Int32, allowExisting: Bool = false) throws(NetlinkError) {
        let cidr = address.description
        let local = try NetlinkAddress.make(address.address, prefixLength: address.length)
        defer { nl_addr_put(local) }
        guard let addr = rtnl_addr_alloc() else { throw NetlinkError(code: -NLE_NOMEM, operation: "alloc address", object: cidr) }
        defer { rtnl_addr_put(addr) }
        rtnl_addr_set_ifindex(addr, index)
        try NetlinkError.check(rtnl_addr_set_local(addr, local), "set address", cidr)
        if nl_addr_get_family(local) == AF_INET6 { rtnl_addr_set_flags(addr, UInt32(IFA_F_NODAD)) }
        let rc = rtnl_addr_add(sock, addr, kp_nlm_f_create_excl())
        if allowExisting, rc == -NLE_EXIST { return }
        try NetlinkError.check(rc, "add address", "\(cidr) on #\(index)")
    }

    /// Adds a route to `dst` through `gateway` (or on-link when nil) out of link `index`, in the main table.
    public func addRoute(dst destination: CIDR, gateway: IPAddress?, index: Int32) throws(NetlinkError) {
        let dst = destination.description
        if let gateway, gateway.family != destination.family {
            throw NetlinkError(code: -NLE_AF_MISMATCH, operation: "add route", object: "\(dst) via \(gateway)")
        }
        let dstAddr = try NetlinkAddress.make(destination.network, prefixLength: destination.prefixLength)
        defer { nl_addr_put(dstAddr) }
        guard let route = rtnl_route_alloc(), let nh = rtnl_route_nh_alloc() else {
            throw NetlinkError(code: -NLE_NOMEM, operation: "alloc route", object: dst)
        }
        defer { rtnl_route_put(route) }
        rtnl_route_set_family(route, UInt8(nl_addr_get_family(dstAddr)))
        try NetlinkError.check(rtnl_route_set_dst(route, dstAddr), "set route dst", dst)
        rtnl_route_set_table(route, UInt32(RT_TABLE_MAIN.rawValue))
        rtnl_route_set_protocol(route, UInt8(RTPROT_BOOT))
        rtnl_route_nh_set_ifindex(nh, index)
        if let gateway {
            let gw = try NetlinkAddress.make(gateway)
            defer { nl_addr_put(gw) }
            rtnl_route_nh_set_gateway(nh, gw)
            rtnl_route_set_scope(route, UInt8(RT_SCOPE_UNIVERSE.rawValue))
        } else {
            rtnl_route_set_scope(route, UInt8(RT_SCOPE_LINK.rawValue))
        }
        rtnl_route_add_nexthop(route, nh)
        try NetlinkError.check(rtnl_route_add(sock, route, kp_nlm_f_create_excl()), "add route", "\(dst) via \(gateway.map(\.description) ?? "link") dev #\(index)")
    }

    /// Every IPv4 and IPv6 address on link `index`, with its prefix length.
    public func addresses(index: Int32) throws(NetlinkError) -> [IPPrefix] {
        var cache: OpaquePointer?
        try NetlinkError.check(rtnl_addr_alloc_cache(sock, &cache), "list addresses", "#\(index)")
        guard let cache else { return [] }
        defer { nl_cache_free(cache) }
        var out: [IPPrefix] = []
        var obj = nl_cache_get_first(cache)
        while let o = obj {
            if rtnl_addr_get_ifindex(o) == index, let local = rtnl_addr_get_local(o), let address = NetlinkAddress.prefix(local) {
                out.append(address)
            }
            obj = nl_cache_get_next(o)
        }
        return out
    }
}
