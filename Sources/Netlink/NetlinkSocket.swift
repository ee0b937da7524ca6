import CNetlink
#if canImport(Glibc)
import Glibc
#endif

/// A link as the kernel reports it.
public struct LinkInfo: Sendable, Equatable {
    public var index: Int32
    public var name: String
    public var mac: String
    public var mtu: Int
    public var isUp: Bool
    /// The ifindex of the bridge this link is a port of, or 0.
    public var master: Int32
}

/// An `NETLINK_ROUTE` socket (libnl `nl_sock`), bound to the network namespace of the thread
/// that opened it. Owned by one thread; not Sendable.
public final class NetlinkSocket {
    let sock: OpaquePointer

    /// Opens and connects a route socket in the calling thread's namespace.
    public init() throws(NetlinkError) {
        guard let s = nl_socket_alloc() else { throw NetlinkError(code: -NLE_NOMEM, operation: "nl_socket_alloc", object: "route") }
        let rc = nl_connect(s, NETLINK_ROUTE)
        if rc < 0 {
            nl_socket_free(s)
            throw NetlinkError(code: rc, operation: "nl_connect", object: "NETLINK_ROUTE")
        }
        // One recvmsg per answer instead of libnl's default peek-then-read: a buffer as large as any link
        // or route message we ask for (a link with all its attributes is under 2 KiB).
        nl_socket_disable_msg_peek(s)
        _ = nl_socket_set_msg_buf_size(s, 32 * 1024)
        sock = s
    }

    deinit { nl_socket_free(sock) }

    // MARK: - Reading links

    /// The link called `name`, or nil when there is none.
    public func link(named name: String) throws(NetlinkError) -> LinkInfo? {
        var link: OpaquePointer?
        let rc = rtnl_link_get_kernel(sock, 0, name, &link)
        if rc == -NLE_OBJ_NOTFOUND || rc == -NLE_NODEV { return nil }
        try NetlinkError.check(rc, "get link", name)
        guard let link else { return nil }
        defer { rtnl_link_put(link) }
        return Self.info(link)
    }

    /// Every link in the namespace.
    public func links() throws(NetlinkError) -> [LinkInfo] {
        var cache: OpaquePointer?
        try NetlinkError.check(rtnl_link_alloc_cache(sock, AF_UNSPEC, &cache), "list links", "*")
        guard let cache else { return [] }
        defer { nl_cache_free(cache) }
        var out: [LinkInfo] = []
        var obj = nl_cache_get_first(cache)
        while let o = obj {
            out.append(Self.info(o))
            obj = nl_cache_get_next(o)
        }
        return out
    }

    static func info(_ link: OpaquePointer) -> LinkInfo {
        var mac = ""
        if let a = rtnl_link_get_addr(link) {
            var buf = [CChar](repeating: 0, count: 64)
            mac = buf.withUnsafeMutableBufferPointer { p in
                nl_addr2str(a, p.baseAddress, p.count).map { String(cString: $0) } ?? ""
            }
        }
        return LinkInfo(index: Int32(rtnl_link_get_ifindex(link)),
                        name: rtnl_link_get_name(link).map { String(cString: $0) } ?? "",
                        mac: mac, mtu: Int(rtnl_link_get_mtu(link)),
                        isUp: rtnl_link_get_flags(link) & kp_iff_up() != 0,
                        master: Int32(rtnl_link_get_master(link)))
    }

    // MARK: - Changing links

    /// Creates a bridge unless one exists (a concurrent creator is fine), then brings it up.
    @discardableResult
    public func ensureBridge(name: String, mtu: Int?) throws(NetlinkError) -> LinkInfo {
        if let existing = try link(named: name), existing.isUp { return existing }
        if try link(named: name) == nil {
            guard let br = rtnl_link_bridge_alloc() else { throw NetlinkError(code: -NLE_NOMEM, operation: "alloc bridge", object: name) }
            defer { rtnl_link_put(br) }
            rtnl_link_set_name(br, name)
            if let mtu { rtnl_link_set_mtu(br, UInt32(mtu)) }
            let rc = rtnl_link_add(sock, br, kp_nlm_f_create_excl())
            if rc < 0, rc != -NLE_EXIST { throw NetlinkError(code: rc, operation: "create bridge", object: name) }
        }
        try setUp(name: name)
        guard let info = try link(named: name) else { throw NetlinkError.notFound("get link", name) }
        return info
    }

    /// Sets IFF_UP on a link.
    public func setUp(name: String) throws(NetlinkError) {
        var orig: OpaquePointer?
        try NetlinkError.check(rtnl_link_get_kernel(sock, 0, name, &orig), "get link", name)
        guard let orig, let change = rtnl_link_alloc() else { throw NetlinkError(code: -NLE_NOMEM, operation: "alloc link", object: name) }
        defer { rtnl_link_put(orig); rtnl_link_put(change) }
        if rtnl_link_get_flags(orig) & kp_iff_up() != 0 { return }
        rtnl_link_set_flags(change, kp_iff_up())
        try NetlinkError.check(rtnl_link_change(sock, orig, change, 0), "set up", name)
    }

    /// Creates a veth pair: `hostName` here (up, on `master` when given) and `peerName` directly
    /// in the namespace behind `peerNamespaceFD`, so the pod end never appears in this namespace.
    public func addVeth(hostName: String, peerName: String, peerNamespaceFD: Int32, mtu: Int?, master: Int32?) throws(NetlinkError) {
        guard let veth = rtnl_link_veth_alloc() else { throw NetlinkError(code: -NLE_NOMEM, operation: "alloc veth", object: hostName) }
        defer { rtnl_link_veth_release(veth) }
        guard let peer = rtnl_link_veth_get_peer(veth) else { throw NetlinkError(code: -NLE_NOMEM, operation: "veth peer", object: peerName) }
        defer { rtnl_link_put(peer) }
        rtnl_link_set_name(veth, hostName)
        rtnl_link_set_flags(veth, kp_iff_up())
        if let master { rtnl_link_set_master(veth, master) }
        rtnl_link_set_name(peer, peerName)
        rtnl_link_set_ns_fd(peer, peerNamespaceFD)
        if let mtu {
            rtnl_link_set_mtu(veth, UInt32(mtu))
            rtnl_link_set_mtu(peer, UInt32(mtu))
        }
        try NetlinkError.check(rtnl_link_add(sock, veth, kp_nlm_f_create_excl()), "create veth", "\(hostName)/\(peerName)")
    }

    /// Deletes a link; returns false when it did not exist.
    @discardableResult
    public func deleteLink(name: String) throws(NetlinkError) -> Bool {
        guard let link = rtnl_link_alloc() else { throw NetlinkError(code: -NLE_NOMEM, operation: "alloc link", object: name) }
        defer { rtnl_link_put(link) }
        rtnl_link_set_name(link, name)
        let rc = rtnl_link_delete(sock, link)
        if rc == -NLE_OBJ_NOTFOUND || rc == -NLE_NODEV { return false }
        try NetlinkError.check(rc, "delete link", name)
        return true
    }

    /// Turns hairpin mode on for a bridge port (RTM_SETLINK, AF_BRIDGE, IFLA_PROTINFO/IFLA_BRPORT_MODE),
    /// so a pod can reach itself through a Service.
    public func setHairpin(index: Int32, name: String) throws(NetlinkError) {
        guard let msg = nlmsg_alloc_simple(Int32(RTM_SETLINK), NLM_F_REQUEST | NLM_F_ACK) else {
            throw NetlinkError(code: -NLE_NOMEM, operation: "alloc message", object: name)
        }
        defer { nlmsg_free(msg) }
        try NetlinkError.check(kp_append_ifinfo(msg, Int32(AF_BRIDGE), index), "build hairpin", name)
        guard let nest = nla_nest_start(msg, Int32(IFLA_PROTINFO) | kp_nla_f_nested()) else {
            throw NetlinkError(code: -NLE_NOMEM, operation: "build hairpin", object: name)
        }
        try NetlinkError.check(nla_put_u8(msg, Int32(IFLA_BRPORT_MODE), 1), "build hairpin", name)
        try NetlinkError.check(nla_nest_end(msg, nest), "build hairpin", name)
        try NetlinkError.check(nl_send_auto(sock, msg), "send hairpin", name)
        try NetlinkError.check(nl_wait_for_ack(sock), "set hairpin", name)
    }
}
