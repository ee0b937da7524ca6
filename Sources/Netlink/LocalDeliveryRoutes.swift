import CNetlink
#if canImport(Glibc)
import Glibc
#endif

/// The policy routing of the userspace mode's tproxy steering, per family: a rule `fwmark MARK/MARK lookup
/// TABLE` at PRIORITY and a `local default dev lo` route in TABLE, so packets carrying the mark are delivered
/// to this host whatever their destination. Both carry kproxy's route protocol. Bound to the namespace of the
/// thread that opened its socket; not Sendable.
public final class LocalDeliveryRoutes {
    public struct Spec: Hashable, Sendable, CustomStringConvertible {
        public var mark: UInt32
        public var table: UInt32
        public var priority: UInt32
        public var routeProtocol: UInt8

        public init(mark: UInt32, table: UInt32, priority: UInt32, routeProtocol: UInt8) {
            self.mark = mark; self.table = table; self.priority = priority; self.routeProtocol = routeProtocol
        }

        public var description: String {
            "fwmark 0x\(String(mark, radix: 16))/0x\(String(mark, radix: 16)) lookup \(table) pref \(priority)"
        }
    }

    private let socket: NetlinkSocket
    public let spec: Spec

    public init(_ spec: Spec) throws(NetlinkError) {
        socket = try NetlinkSocket()
        self.spec = spec
    }

    /// Adds the rule and route of `family` (AF_INET or AF_INET6) where missing; an existing identical rule or
    /// route is kept.
    public func ensure(family: Int32) throws(NetlinkError) {
        try withRule(family) { (r) throws(NetlinkError) in
            let rc = rtnl_rule_add(socket.sock, r, kp_nlm_f_create_excl())
            if rc < 0 && rc != -NLE_EXIST {
                throw NetlinkError(code: rc, operation: "add rule", object: "\(Self.name(family)) \(spec)")
            }
        }
        try withRoute(family) { (r) throws(NetlinkError) in
            try NetlinkError.check(rtnl_route_add(socket.sock, r, NLM_F_CREATE | NLM_F_REPLACE), "add route",
                                   "local default dev lo table \(spec.table) (\(Self.name(family)))")
        }
    }

    /// Removes the rule and route of `family`; returns false when neither was there.
    @discardableResult
    public func remove(family: Int32) throws(NetlinkError) -> Bool {
        var removed = false
        try withRule(family) { (r) throws(NetlinkError) in
            let rc = rtnl_rule_delete(socket.sock, r, 0)
            if rc >= 0 { removed = true } else if !Self.isGone(rc) {
                throw NetlinkError(code: rc, operation: "delete rule", object: "\(Self.name(family)) \(spec)")
            }
        }
        try withRoute(family) { (r) throws(NetlinkError) in
            let rc = rtnl_route_delete(socket.sock, r, 0)
            if rc >= 0 { removed = true } else if !Self.isGone(rc) {
                throw NetlinkError(code: rc, operation: "delete route", object: "local default table \(spec.table)")
            }
        }
        return removed
    }

    /// The rules of `family` that match the spec (mark, mask, table, priority): what `ensure` made.
    public func ruleCount(family: Int32) throws(NetlinkError) -> Int {
        var cache: OpaquePointer?
        try NetlinkError.check(rtnl_rule_alloc_cache(socket.sock, family, &cache), "list rules", Self.name(family))
        guard let cache else { return 0 }
        defer { nl_cache_free(cache) }
        var count = 0
        var obj = nl_cache_get_first(cache)
        while let rule = obj {
            obj = nl_cache_get_next(rule)
            if rtnl_rule_get_family(rule) == family && rtnl_rule_get_mark(rule) == spec.mark && rtnl_rule_get_mask(rule) == spec.mark
                && rtnl_rule_get_table(rule) == spec.table && rtnl_rule_get_prio(rule) == spec.priority { count += 1 }
        }
        return count
    }

    private static func isGone(_ rc: Int32) -> Bool {
        rc == -NLE_OBJ_NOTFOUND || rc == -NLE_NOADDR || rc == -NLE_NODEV
    }

    private static func name(_ family: Int32) -> String { family == AF_INET6 ? "IPv6" : "IPv4" }

    private func withRule(_ family: Int32, _ body: (OpaquePointer) throws(NetlinkError) -> Void) throws(NetlinkError) {
        guard let r = rtnl_rule_alloc() else { throw NetlinkError(code: -NLE_NOMEM, operation: "alloc rule", object: spec.description) }
        defer { rtnl_rule_put(r) }
        rtnl_rule_set_family(r, family)
        rtnl_rule_set_prio(r, spec.priority)
        rtnl_rule_set_mark(r, spec.mark)
        rtnl_rule_set_mask(r, spec.mark)
        rtnl_rule_set_table(r, spec.table)
        rtnl_rule_set_action(r, UInt8(FR_ACT_TO_TBL))
        _ = rtnl_rule_set_protocol(r, spec.routeProtocol)
        try body(r)
    }

    private func withRoute(_ family: Int32, _ body: (OpaquePointer) throws(NetlinkError) -> Void) throws(NetlinkError) {
        var dst: OpaquePointer?
        try NetlinkError.check(nl_addr_parse("default", family, &dst), "parse", "default")
        guard let dst else { throw NetlinkError(code: -NLE_NOMEM, operation: "parse", object: "default") }
        defer { nl_addr_put(dst) }
        guard let lo = try socket.link(named: "lo") else { throw NetlinkError.notFound("find link", "lo") }
        guard let r = rtnl_route_alloc(), let nh = rtnl_route_nh_alloc() else {
            throw NetlinkError(code: -NLE_NOMEM, operation: "alloc route", object: "local default")
        }
        defer { rtnl_route_put(r) }
        rtnl_route_set_family(r, UInt8(family))
        try NetlinkError.check(rtnl_route_set_dst(r, dst), "set route dst", "default")
        rtnl_route_set_table(r, spec.table)
        rtnl_route_set_protocol(r, spec.routeProtocol)
        rtnl_route_set_scope(r, UInt8(RT_SCOPE_HOST.rawValue))
        rtnl_route_set_type(r, UInt8(RTN_LOCAL))
        rtnl_route_nh_set_ifindex(nh, lo.index)
        rtnl_route_add_nexthop(r, nh)
        try body(r)
    }
}
