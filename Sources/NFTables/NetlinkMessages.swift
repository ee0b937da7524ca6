import CNftnl

/// The netlink messages in a received buffer, walked with libmnl's `mnl_nlmsg_ok` / `mnl_nlmsg_next`.
/// Valid only while the buffer is.
struct NetlinkMessages: Sequence {
    let bytes: UnsafeRawBufferPointer

    init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }
    init(_ bytes: Slice<UnsafeRawBufferPointer>) { self.bytes = UnsafeRawBufferPointer(rebasing: bytes) }

    struct Message {
        let header: UnsafePointer<nlmsghdr>
        var type: Int32 { Int32(header.pointee.nlmsg_type) }
        var flags: UInt16 { header.pointee.nlmsg_flags }
        var sequence: UInt32 { header.pointee.nlmsg_seq }

        /// For `NLMSG_ERROR`: the (negative) errno, 0 for an ACK; the sequence number is the request's.
        var error: Int32 {
            guard type == NLMSG_ERROR, header.pointee.nlmsg_len >= UInt32(MemoryLayout<nlmsghdr>.size + 4) else { return 0 }
            return mnl_nlmsg_get_payload(header).load(as: Int32.self)
        }

        /// For `NLMSG_ERROR` with extended ACK attributes: the kernel's explanation (`NLMSGERR_ATTR_MSG`).
        var extendedMessage: String? {
            guard type == NLMSG_ERROR, flags & UInt16(NLM_F_ACK_TLVS) != 0 else { return nil }
            let total = Int(header.pointee.nlmsg_len)
            let headerSize = MemoryLayout<nlmsghdr>.size
            // struct nlmsgerr: int error + the request header (payload cut off with NETLINK_CAP_ACK).
            var offset = headerSize + 4 + headerSize
            if flags & UInt16(NLM_F_CAPPED) == 0 {
                let requestLength = Int(UnsafeRawPointer(header).load(fromByteOffset: headerSize + 4, as: UInt32.self))
                offset = headerSize + 4 + ((requestLength + 3) & ~3)
            }
            let base = UnsafeRawPointer(header)
            while offset + 4 <= total {
                let length = Int(base.load(fromByteOffset: offset, as: UInt16.self))
                let kind = base.load(fromByteOffset: offset + 2, as: UInt16.self) & 0x3fff
                guard length >= 4, offset + length <= total else { return nil }
                if kind == UInt16(NLMSGERR_ATTR_MSG.rawValue) {
                    let text = UnsafeRawBufferPointer(start: base + offset + 4, count: length - 4).prefix { $0 != 0 }
                    return String(decoding: text, as: UTF8.self)
                }
                offset += (length + 3) & ~3
            }
            return nil
        }
    }

    struct Iterator: IteratorProtocol {
        var current: UnsafePointer<nlmsghdr>?
        var remaining: Int32

        mutating func next() -> Message? {
            guard let header = current, mnl_nlmsg_ok(header, remaining) else { return nil }
            current = UnsafePointer(mnl_nlmsg_next(header, &remaining))
            return Message(header: header)
        }
    }

    func makeIterator() -> Iterator {
        Iterator(current: bytes.baseAddress?.assumingMemoryBound(to: nlmsghdr.self), remaining: Int32(bytes.count))
    }
}
