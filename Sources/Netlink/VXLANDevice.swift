import CNetlink
import Values
#if canImport(Glibc)
import Glibc
#endif

/// A VXLAN tunnel device for pod traffic between nodes that share no layer 2 (as flannel's vxlan backend):
/// the device learns where each peer's MAC is from the packets it receives, and floods what it does not
/// know yet (ARP for a peer's gateway address) to every peer on its flood list, which is the list of
/// all-zero-MAC forwarding entries (`bridge fdb append 00:00:00:00:00:00 dev … dst PEER`).
public struct VXLANSettings: Sendable, Equatable {
    public var name: String
    public var vni: UInt32
    /// UDP destination port (4789, IANA's).
    public var port: UInt16
    /// This node's address the tunnel is sent from (nil: the kernel picks by route).
    public var local: IPAddress?
    /// Nil: the kernel's default (1500, too big over a 1500-byte underlay: give the underlay's minus 50).
    public var mtu: Int?
    public init(name: String, vni: UInt32, port: UInt16, local: IPAddress?, mtu: Int?) {
        self.name = name; self.vni = vni; self.port = port; self.local = local; self.mtu = mtu
    }
}

extension NetlinkSocket {
    /// Creates the device unless one with these settings exists (kept: its traffic keeps flowing across a
    /// restart of whoever manages it); a link of that name with other settings (not VXLAN, another VNI,
    /// port or local address) is replaced. Sets the MTU and brings it up.
    @discardableResult
    public func ensureVXLAN(_ s: VXLANSettings) throws(NetlinkError) -> LinkInfo {
        if try link(named: s.name) != nil, try !vxlanMatches(s) { try deleteLink(name: s.name) }
        if try link(named: s.name) == nil {
            guard let link = rtnl_link_vxlan_alloc() else { throw NetlinkError(code: -NLE_NOMEM, operation: "alloc vxlan", object: s.name) }
            defer { rtnl_link_put(link) }
            rtnl_link_set_name(link, s.name)
            if let mtu = s.mtu { rtnl_link_set_mtu(link, UInt32(mtu)) }
            try NetlinkError.check(rtnl_link_vxlan_set_id(link, s.vni), "set vxlan id", s.name)
            if let address = s.local {
                let local = try NetlinkAddress.make(address)
                defer { nl_addr_put(local) }
                try NetlinkError.check(rtnl_link_vxlan_set_local(link, local), "set vxlan local", s.name)
            }
            try NetlinkError.check(rtnl_link_vxlan_set_port(link, UInt32(s.port)), "set vxlan port", s.name)
            try NetlinkError.check(rtnl_link_vxlan_set_learning(link, 1), "set vxlan learning", s.name)
            let rc = rtnl_link_add(sock, link, kp_nlm_f_create_excl())
            if rc < 0, rc != -NLE_EXIST { throw NetlinkError(code: rc, operation: "create vxlan", object: s.name) }
        }
        if let mtu = s.mtu, let current = try link(named: s.name), current.mtu != mtu { try setMTU(name: s.name, mtu) }
        try setUp(name: s.name)
        guard let info = try link(named: s.name) else { throw NetlinkError.notFound("get link", s.name) }
        return info
    }

    /// Whether the link named `s.name` is a VXLAN device with `s`'s VNI, port and local address.
    private func vxlanMatches(_ s: VXLANSettings) throws(NetlinkError) -> Bool {
        var found: OpaquePointer?
        try NetlinkError.check(rtnl_link_get_kernel(sock, 0, s.name, &found), "get link", s.name)
        guard let link = found else { return false }
        defer { rtnl_link_put(link) }
        guard rtnl_link_is_vxlan(link) != 0 else { return false }
        var vni: UInt32 = 0, port: UInt32 = 0
        guard rtnl_link_vxlan_get_id(link, &vni) == 0, vni == s.vni,
              rtnl_link_vxlan_get_port(link, &port) == 0, port == UInt32(s.port) else { return false }
        var local: OpaquePointer?
        let hasLocal = rtnl_link_vxlan_get_local(link, &local) == 0 && local != nil
        defer { if let local { nl_addr_put(local) } }
        guard let want = s.local else { return !hasLocal || local.map { nl_addr_iszero($0) != 0 } ?? true }
        guard let local else { return false }
        return NetlinkAddress.ip(local) == want
    }

    private func setMTU(name: String, _ mtu: Int) throws(NetlinkError) {
        var orig: OpaquePointer?
        try NetlinkError.check(rtnl_link_get_kernel(sock, 0, name, &orig), "get link", name)
        guard let orig, let change = rtnl_link_alloc() else { throw NetlinkError(code: -NLE_NOMEM, operation: "alloc link", object: name) }
        defer { rtnl_link_put(orig); rtnl_link_put(change) }
        rtnl_link_set_mtu(change, UInt32(mtu))
        try NetlinkError.check(rtnl_link_change(sock, orig, change, 0), "set mtu", name)
    }

    /// The remote addresses on link `index`'s flood list.
    public func floodList(index: Int32) throws(NetlinkError) -> [IPAddress] {
        // Forwarding entries are dumped only for a request of family AF_BRIDGE (an AF_UNSPEC neighbour dump
        // has the ARP and ND tables alone): the cache's first argument is that family.
        var made: OpaquePointer?
        try NetlinkError.check(nl_cache_alloc_name("route/neigh", &made), "list fdb", "#\(index)")
        guard let cache = made else { return [] }
        defer { nl_cache_free(cache) }
        nl_cache_set_arg1(cache, AF_BRIDGE)
        try NetlinkError.check(nl_cache_refill(sock, cache), "list fdb", "#\(index)")
        var out: [IPAddress] = []
        var obj = nl_cache_get_first(cache)
        while let o = obj {
            obj = nl_cache_get_next(o)
            guard rtnl_neigh_get_family(o) == AF_BRIDGE, rtnl_neigh_get_ifindex(o) == index,
                  let ll = rtnl_neigh_get_lladdr(o), Self.isZeroMAC(ll), let dst = rtnl_neigh_get_dst(o),
                  let remote = NetlinkAddress.ip(dst) else { continue }
            out.append(remote)
        }
        return out
    }

    /// Adds `remote` to link `index`'s flood list (present already: no change).
    public func addFlood(index: Int32, remote: IPAddress) throws(NetlinkError) {
        try floodEntry(index: index, remote: remote, operation: "add fdb") { n in rtnl_neigh_add(sock, n, NLM_F_CREATE | NLM_F_APPEND) }
    }

    /// Removes `remote` from link `index`'s flood list; false when it was not on it.
    @discardableResult
    public func deleteFlood(index: Int32, remote: IPAddress) throws(NetlinkError) -> Bool {
        do throws(NetlinkError) {
            try floodEntry(index: index, remote: remote, operation: "delete fdb") { n in rtnl_neigh_delete(sock, n, 0) }
            return true
        } catch {
            if error.isNotFound || error.code == -NLE_OBJ_NOTFOUND || error.code == -ENOENT { return false }
            throw error
        }
    }

    private func floodEntry(index: Int32, remote: IPAddress, operation: String, _ body: (OpaquePointer) -> Int32) throws(NetlinkError) {
        guard let neigh = rtnl_neigh_alloc() else { throw NetlinkError(code: -NLE_NOMEM, operation: "alloc fdb entry", object: "\(remote)") }
        defer { rtnl_neigh_put(neigh) }
        let dst = try NetlinkAddress.make(remote)
        defer { nl_addr_put(dst) }
        var zero = [UInt8](repeating: 0, count: 6)
        guard let ll = zero.withUnsafeMutableBytes({ nl_addr_build(AF_LLC, $0.baseAddress, 6) }) else {
            throw NetlinkError(code: -NLE_NOMEM, operation: "alloc lladdr", object: "\(remote)")
        }
        defer { nl_addr_put(ll) }
        rtnl_neigh_set_ifindex(neigh, index)
        // libnl takes the entry's family from its first address and refuses another one later: the remote
        // (IPv4) first, then the family the kernel files forwarding entries under.
        try NetlinkError.check(rtnl_neigh_set_dst(neigh, dst), "set fdb dst", "\(remote)")
        rtnl_neigh_set_family(neigh, AF_BRIDGE)
        rtnl_neigh_set_lladdr(neigh, ll)
        rtnl_neigh_set_state(neigh, Int32(NUD_PERMANENT))
        rtnl_neigh_set_flags(neigh, UInt32(NTF_SELF))
        let rc = body(neigh)
        if rc == -NLE_EXIST && operation == "add fdb" { return }
        try NetlinkError.check(rc, operation, "\(remote) on #\(index)")
    }

    private static func isZeroMAC(_ addr: OpaquePointer) -> Bool {
        guard nl_addr_get_len(addr) == 6, let raw = nl_addr_get_binary_addr(addr) else { return false }
        let bytes = raw.assumingMemoryBound(to: UInt8.self)
        return (0..<6).allSatisfy { bytes[$0] == 0 }
    }
}
