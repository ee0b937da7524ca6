/// A plain query read straight off the wire, without building a `DNSMessage`: one question with an
/// uncompressed name, no answer or authority records, at most an OPT record without options. Such a query's
/// response depends only on its `key` (the question lower-cased, the EDNS flags and the size limit) and the
/// zone data, so an authoritative response can be reused for every query with the same key: the ID, the RD
/// bit and the question (echoed in the client's case) are patched in. Anything else returns nil and takes
/// the full decoder.
public struct DNSQueryShape: Sendable, Hashable {
    public var id: UInt16
    public var recursionDesired: Bool
    /// Bytes of the question section (name, type, class) in the packet, starting at offset 12.
    public var questionLength: Int
    /// Lower-cased question, then the response size limit (2 bytes) and EDNS state (0 none, 1 EDNS, 2 EDNS+DO).
    public var key: [UInt8]

    /// The largest UDP response when the query has no EDNS.
    public static let plainUDPLimit = 512

    /// The largest response to a query over TCP, or over UDP with the EDNS payload size it offers (nil: no
    /// EDNS), capped at what we advertise. Keys and encoded responses must agree on it.
    public static func responseLimit(tcp: Bool, udpPayloadSize: UInt16?) -> Int {
        if tcp { return 65535 }
        guard let size = udpPayloadSize else { return plainUDPLimit }
        return max(plainUDPLimit, min(Int(size), Int(EDNS.advertisedPayloadSize)))
    }

    /// Reads `packet` as a plain query arriving over UDP (`tcp` false) or TCP; nil when it is anything else.
    public static func parse(_ packet: UnsafeRawBufferPointer, tcp: Bool) -> DNSQueryShape? {
        let count = packet.count
        guard count >= 17 else { return nil }
        let flags = UInt16(packet[2]) << 8 | UInt16(packet[3])
        // QR 0, opcode 0 (QUERY); the other bits (RD, CD, AD) do not change a cluster-zone answer except RD,
        // which is echoed.
        guard flags & 0xF800 == 0 else { return nil }
        func u16(_ at: Int) -> UInt16 { UInt16(packet[at]) << 8 | UInt16(packet[at + 1]) }
        guard u16(4) == 1, u16(6) == 0, u16(8) == 0 else { return nil }
        let additional = u16(10)
        guard additional <= 1 else { return nil }

        var key: [UInt8] = []
        key.reserveCapacity(64)
        var offset = 12
        var nameLength = 0
        while true {
            guard offset < count else { return nil }
            let length = Int(packet[offset])
            if length == 0 { key.append(0); offset += 1; nameLength += 1; break }
            // A compression pointer or extended label type in a question: leave it to the full decoder.
            guard length <= 63, offset + 1 + length <= count else { return nil }
            nameLength += 1 + length
            guard nameLength < 255 else { return nil }
            key.append(UInt8(length))
            for i in offset + 1...offset + length {
                let b = packet[i]
                key.append(b >= 0x41 && b <= 0x5A ? b | 0x20 : b)
            }
            offset += 1 + length
        }
        guard offset + 4 <= count else { return nil }
        for i in offset..<offset + 4 { key.append(packet[i]) }
        offset += 4
        let questionLength = offset - 12

        var payloadSize: UInt16?
        var edns: UInt8 = 0
        if additional == 1 {
            // OPT: root name, type 41, class = UDP size, TTL = extended rcode/version/flags, no options.
            guard offset + 11 == count, packet[offset] == 0, u16(offset + 1) == DNSType.opt.rawValue else { return nil }
            payloadSize = u16(offset + 3)
            let extendedRCode = packet[offset + 5], version = packet[offset + 6]
            guard extendedRCode == 0, version == 0, u16(offset + 9) == 0 else { return nil }
            let dnssecOK = packet[offset + 7] & 0x80 != 0
            edns = dnssecOK ? 2 : 1
        } else {
            guard offset == count else { return nil }
        }
        let limit = responseLimit(tcp: tcp, udpPayloadSize: payloadSize)
        key.append(UInt8(limit >> 8))
        key.append(UInt8(limit & 0xFF))
        key.append(edns)
        return DNSQueryShape(id: u16(0), recursionDesired: flags & 0x0100 != 0, questionLength: questionLength, key: key)
    }

    /// Writes the response for this query into `out` from `template`, a response to another query with the
    /// same key: the ID, RD and the question bytes come from `query`.
    public func patch(_ template: [UInt8], query: UnsafeRawBufferPointer, into out: UnsafeMutableRawBufferPointer) -> Int? {
        let length = template.count
        guard length <= out.count, length >= 12 + questionLength, query.count >= 12 + questionLength,
              let destination = out.baseAddress else { return nil }
        template.withUnsafeBytes { raw in
            if let source = raw.baseAddress { destination.copyMemory(from: source, byteCount: length) }
        }
        out[0] = UInt8(id >> 8)
        out[1] = UInt8(id & 0xFF)
        out[2] = (out[2] & 0xFE) | (recursionDesired ? 1 : 0)
        if let source = query.baseAddress {
            (destination + 12).copyMemory(from: source + 12, byteCount: questionLength)
        }
        return length
    }
}
