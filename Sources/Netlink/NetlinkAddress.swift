import CNetlink
import Values
#if canImport(Glibc)
import Glibc
#endif

/// Typed addresses to and from libnl's `nl_addr`: built from the address's bytes (no text round trip) and
/// read back from the bytes the kernel reported. An `nl_addr` returned here belongs to the caller, who
/// releases it with `nl_addr_put`; one read from a libnl object is borrowed.
enum NetlinkAddress {
    /// A new `nl_addr` of `ip` with `prefixLength` (the caller puts it).
    static func make(_ ip: IPAddress, prefixLength: Int) throws(NetlinkError) -> OpaquePointer {
        var bytes = ip.bytes
        let family = ip.isIPv6 ? AF_INET6 : AF_INET
        guard let addr = bytes.withUnsafeMutableBytes({ nl_addr_build(family, $0.baseAddress, $0.count) }) else {
            throw NetlinkError(code: -NLE_NOMEM, operation: "alloc address", object: "\(ip)")
        }
        nl_addr_set_prefixlen(addr, Int32(prefixLength))
        return addr
    }

    /// A new `nl_addr` of a host address (full-length prefix).
    static func make(_ ip: IPAddress) throws(NetlinkError) -> OpaquePointer {
        try make(ip, prefixLength: ip.family.bitWidth)
    }

    /// The address a borrowed `nl_addr` holds; nil unless it is 4 or 16 bytes (IPv4, IPv6).
    static func ip(_ addr: OpaquePointer) -> IPAddress? {
        let count = Int(nl_addr_get_len(addr))
        guard count == 4 || count == 16, let raw = nl_addr_get_binary_addr(addr) else { return nil }
        return IPAddress(bytes: Array(UnsafeRawBufferPointer(start: raw, count: count)))
    }

    /// The address and prefix length a borrowed `nl_addr` holds. A zero-length address (libnl's
    /// `default`) of a known family is that family's `/0`.
    static func prefix(_ addr: OpaquePointer) -> IPPrefix? {
        let length = Int(nl_addr_get_prefixlen(addr))
        if nl_addr_get_len(addr) == 0 {
            switch nl_addr_get_family(addr) {
            case AF_INET: return IPPrefix.any(.ipv4)
            case AF_INET6: return IPPrefix.any(.ipv6)
            default: return nil
            }
        }
        guard let ip = ip(addr) else { return nil }
        return IPPrefix(address: ip, length: length)
    }
}
