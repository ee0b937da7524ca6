/// Writes a message with name compression (RFC 1035 §4.1.4) into a size limit: records that do
/// not fit are left out, and when an answer or authority record is left out the TC bit is set.
struct DNSWireWriter {
    private(set) var bytes: [UInt8] = []
    /// Offsets of names already written, by (case-insensitive) suffix.
    private var offsets: [DNSName: Int] = [:]
    /// Names added to `offsets` since the last checkpoint, so a record can be undone.
    private var added: [DNSName] = []

    init(capacity: Int) { bytes.reserveCapacity(capacity) }

    mutating func u8(_ v: UInt8) { bytes.append(v) }
    mutating func u16(_ v: UInt16) { bytes.append(UInt8(v >> 8)); bytes.append(UInt8(truncatingIfNeeded: v)) }
    mutating func u32(_ v: UInt32) { u16(UInt16(v >> 16)); u16(UInt16(truncatingIfNeeded: v)) }

    mutating func set16(_ v: UInt16, at offset: Int) {
        bytes[offset] = UInt8(v >> 8)
        bytes[offset + 1] = UInt8(truncatingIfNeeded: v)
    }

    mutating func name(_ name: DNSName, compress: Bool = true) {
        let labels = name.labels
        for i in 0..<labels.count {
            let suffix = DNSName(unchecked: Array(labels[i...]))
            if compress, let target = offsets[suffix] {
                u16(0xC000 | UInt16(target))
                return
            }
            if compress, bytes.count < 0x3FFF {
                offsets[suffix] = bytes.count
                added.append(suffix)
            }
            u8(UInt8(labels[i].count))
            bytes.append(contentsOf: labels[i])
        }
        u8(0)
    }

    mutating func question(_ q: DNSQuestion) {
        name(q.name)
        u16(q.type.rawValue)
        u16(q.class.rawValue)
    }

    mutating func record(_ r: DNSRecord) {
        name(r.name)
        u16(r.type.rawValue)
        u16(r.class.rawValue)
        u32(r.ttl)
        let lengthAt = bytes.count
        u16(0)
        switch r.data {
        case .a(let ip), .aaaa(let ip): bytes.append(contentsOf: ip.bytes)
        case .cname(let n), .ns(let n), .ptr(let n): name(n)
        case .srv(let s):
            u16(s.priority); u16(s.weight); u16(s.port)
            name(s.target, compress: false)  // RFC 2782: SRV targets are not compressed
        case .txt(let strings):
            for s in strings {
                let chunk = s.prefix(255)
                u8(UInt8(chunk.count))
                bytes.append(contentsOf: chunk)
            }
        case .soa(let s):
            name(s.mname); name(s.rname)
            u32(s.serial); u32(s.refresh); u32(s.retry); u32(s.expire); u32(s.minimum)
        case .unknown(_, let data): bytes.append(contentsOf: data)
        }
        set16(UInt16(truncatingIfNeeded: bytes.count - lengthAt - 2), at: lengthAt)
    }

    mutating func opt(_ e: EDNS) {
        u8(0)
        u16(DNSType.opt.rawValue)
        u16(e.udpPayloadSize)
        u32(UInt32(e.extendedRCode) << 24 | UInt32(e.version) << 16 | (e.dnssecOK ? 0x8000 : 0))
        u16(UInt16(truncatingIfNeeded: e.options.reduce(0) { $0 + 4 + $1.data.count }))
        for o in e.options {
            u16(o.code); u16(UInt16(truncatingIfNeeded: o.data.count)); bytes.append(contentsOf: o.data)
        }
    }

    /// Starts a record that may be undone with `rollback(to:)`.
    mutating func checkpoint() -> Int {
        added.removeAll(keepingCapacity: true)
        return bytes.count
    }

    mutating func rollback(to mark: Int) {
        bytes.removeSubrange(mark...)
        for n in added { offsets.removeValue(forKey: n) }
        added.removeAll(keepingCapacity: true)
    }
}

extension DNSMessage {
    /// The wire form, at most `maxSize` bytes (512 for plain UDP, the EDNS size, 65535 for TCP).
    /// Answer or authority records that do not fit are dropped with TC set; additional records
    /// that do not fit are dropped silently. The OPT record is always kept.
    public func encode(maxSize: Int = 65535) -> [UInt8] {
        var w = DNSWireWriter(capacity: min(maxSize, 512))
        let limit = max(maxSize, 12) - (edns?.wireLength ?? 0)
        var header = self.header
        w.u16(header.id)
        w.u16(0)
        for _ in 0..<4 { w.u16(0) }
        var counts: [UInt16] = [0, 0, 0, 0]
        var full = false
        for q in questions {
            let mark = w.checkpoint()
            w.question(q)
            if w.bytes.count > limit { w.rollback(to: mark); header.truncated = true; full = true; break }
            counts[0] += 1
        }
        for (section, records) in [answers, authority, additional].enumerated() where !full {
            for r in records {
                let mark = w.checkpoint()
                w.record(r)
                if w.bytes.count > limit {
                    w.rollback(to: mark)
                    if section < 2 { header.truncated = true }
                    full = true
                    break
                }
                counts[section + 1] += 1
            }
        }
        if let edns {
            w.opt(edns)
            counts[3] += 1
        }
        w.set16(header.flags, at: 2)
        for (i, c) in counts.enumerated() { w.set16(c, at: 4 + 2 * i) }
        return w.bytes
    }
}
