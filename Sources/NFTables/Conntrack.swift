import CNftnl
import KubeAPI
import Values
#if canImport(Glibc)
import Glibc
#endif

/// ctnetlink message layout: `nlmsghdr`, `nfgenmsg`, then attributes (`CTA_*` from
/// `linux/netfilter/nfnetlink_conntrack.h`, whose header clashes with glibc's in Swift, hence the numbers).
enum Conntrack {
    static let subsystem: UInt16 = 1  // NFNL_SUBSYS_CTNETLINK
    static let get: UInt16 = 1  // IPCTNL_MSG_CT_GET
    static let delete: UInt16 = 2  // IPCTNL_MSG_CT_DELETE
    static let tupleOrig: UInt16 = 1, tupleReply: UInt16 = 2  // CTA_TUPLE_ORIG, CTA_TUPLE_REPLY
    static let tupleIP: UInt16 = 1, tupleProto: UInt16 = 2  // CTA_TUPLE_IP, CTA_TUPLE_PROTO
    static let ipv4Source: UInt16 = 1, ipv4Destination: UInt16 = 2, ipv6Source: UInt16 = 3, ipv6Destination: UInt16 = 4
    static let protoNumber: UInt16 = 1, protoSourcePort: UInt16 = 2, protoDestinationPort: UInt16 = 3

    /// Writes `nlmsghdr` + `nfgenmsg` at `buffer`.
    static func header(_ buffer: UnsafeMutablePointer<CChar>, type: UInt16, flags: UInt16, family: UInt8,
                       sequence: UInt32) -> UnsafeMutablePointer<nlmsghdr>? {
        guard let header = mnl_nlmsg_put_header(buffer) else { return nil }
        header.pointee.nlmsg_type = (subsystem << 8) | type
        header.pointee.nlmsg_flags = flags
        header.pointee.nlmsg_seq = sequence
        guard let extra = mnl_nlmsg_put_extra_header(header, MemoryLayout<nfgenmsg>.size) else { return nil }
        let message = extra.assumingMemoryBound(to: nfgenmsg.self)
        message.pointee.nfgen_family = family
        message.pointee.version = UInt8(NFNETLINK_V0)
        message.pointee.res_id = 0
        return header
    }

    /// `IPCTNL_MSG_CT_DELETE` for the entry's original tuple.
    static func deleteMessage(_ buffer: UnsafeMutablePointer<CChar>, _ entry: ConntrackEntry,
                              sequence: UInt32) -> UnsafeMutablePointer<nlmsghdr>? {
        let ipv4 = entry.source.isIPv4
        guard let header = header(buffer, type: delete, flags: UInt16(NLM_F_REQUEST | NLM_F_ACK),
                                  family: UInt8(ipv4 ? AF_INET : AF_INET6), sequence: sequence) else { return nil }
        let tuple = mnl_attr_nest_start(header, tupleOrig)
        let ip = mnl_attr_nest_start(header, tupleIP)
        for (type, address) in [(ipv4 ? ipv4Source : ipv6Source, entry.source),
                                (ipv4 ? ipv4Destination : ipv6Destination, entry.destination)] {
            var bytes = address.bytes
            mnl_attr_put(header, type, bytes.count, &bytes)
        }
        mnl_attr_nest_end(header, ip)
        let proto = mnl_attr_nest_start(header, tupleProto)
        mnl_attr_put_u8(header, protoNumber, entry.proto)
        mnl_attr_put_u16(header, protoSourcePort, entry.sourcePort.bigEndian)
        mnl_attr_put_u16(header, protoDestinationPort, entry.destinationPort.bigEndian)
        mnl_attr_nest_end(header, proto)
        mnl_attr_nest_end(header, tuple)
        return header
    }

    /// The entry in a `IPCTNL_MSG_CT_NEW` dump message, nil for entries without addresses or ports.
    static func decode(_ header: UnsafePointer<nlmsghdr>) -> ConntrackEntry? {
        let start = mnl_nlmsg_get_payload_offset(header, MemoryLayout<nfgenmsg>.size)
        let length = Int(header.pointee.nlmsg_len) - MemoryLayout<nlmsghdr>.size - MemoryLayout<nfgenmsg>.size
        guard let start, length > 0 else { return nil }
        let top = attributes(UnsafeRawBufferPointer(start: start, count: length))
        guard let original = top[tupleOrig].flatMap(tuple), let reply = top[tupleReply].flatMap(tuple) else { return nil }
        return ConntrackEntry(proto: original.proto, source: original.source, destination: original.destination,
                              sourcePort: original.sourcePort, destinationPort: original.destinationPort,
                              replySource: reply.source)
    }

    private static func tuple(_ bytes: UnsafeRawBufferPointer) -> ConntrackEntry? {
        let parts = attributes(bytes)
        guard let ip = parts[tupleIP].map(attributes), let proto = parts[tupleProto].map(attributes) else { return nil }
        let source = (ip[ipv4Source] ?? ip[ipv6Source]).flatMap { IPAddress(bytes: Array($0)) }
        let destination = (ip[ipv4Destination] ?? ip[ipv6Destination]).flatMap { IPAddress(bytes: Array($0)) }
        guard let source, let destination, let number = proto[protoNumber]?.first else { return nil }
        func port(_ type: UInt16) -> UInt16 {
            guard let value = proto[type], value.count >= 2 else { return 0 }
            return UInt16(value[0]) << 8 | UInt16(value[1])
        }
        return ConntrackEntry(proto: number, source: source, destination: destination,
                              sourcePort: port(protoSourcePort), destinationPort: port(protoDestinationPort),
                              replySource: source)
    }

    /// Netlink attributes by type (nested flag stripped); values borrow `bytes`.
    static func attributes(_ bytes: UnsafeRawBufferPointer) -> [UInt16: UnsafeRawBufferPointer] {
        var result: [UInt16: UnsafeRawBufferPointer] = [:]
        var offset = 0
        while offset + 4 <= bytes.count {
            let length = Int(bytes.loadUnaligned(fromByteOffset: offset, as: UInt16.self))
            let type = bytes.loadUnaligned(fromByteOffset: offset + 2, as: UInt16.self) & 0x3fff
            guard length >= 4, offset + length <= bytes.count else { break }
            result[type] = UnsafeRawBufferPointer(rebasing: bytes[(offset + 4)..<(offset + length)])
            offset += (length + 3) & ~3
        }
        return result
    }
}
