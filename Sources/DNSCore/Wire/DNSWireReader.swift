import KubeAPI
import Values

/// Bounds-checked reading of a DNS message. Every read checks the remaining length; names follow
/// compression pointers only strictly backwards, so decoding always terminates.
struct DNSWireReader {
    let bytes: [UInt8]
    var offset = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    var remaining: Int { bytes.count - offset }

    mutating func u8() throws(DNSWireError) -> UInt8 {
        guard offset < bytes.count else { throw .truncated(at: offset) }
        defer { offset += 1 }
        return bytes[offset]
    }

    mutating func u16() throws(DNSWireError) -> UInt16 {
        guard remaining >= 2 else { throw .truncated(at: offset) }
        defer { offset += 2 }
        return UInt16(bytes[offset]) << 8 | UInt16(bytes[offset + 1])
    }

    mutating func u32() throws(DNSWireError) -> UInt32 {
        guard remaining >= 4 else { throw .truncated(at: offset) }
        defer { offset += 4 }
        return UInt32(bytes[offset]) << 24 | UInt32(bytes[offset + 1]) << 16 | UInt32(bytes[offset + 2]) << 8 | UInt32(bytes[offset + 3])
    }

    mutating func take(_ count: Int) throws(DNSWireError) -> [UInt8] {
        guard count >= 0, remaining >= count else { throw .truncated(at: offset) }
        defer { offset += count }
        return Array(bytes[offset..<offset + count])
    }

    /// Reads a possibly compressed name; the cursor ends after its in-place part.
    mutating func name() throws(DNSWireError) -> DNSName {
        var labels: [[UInt8]] = []
        var position = offset
        var wireLength = 1
        var jumped = false
        // Each pointer must go strictly below the lowest position already visited: no loops.
        var lowestVisited = offset
        while true {
            guard position < bytes.count else { throw .truncated(at: position) }
            let length = bytes[position]
            switch length & 0xC0 {
            case 0x00:
                if length == 0 {
                    if !jumped { offset = position + 1 }
                    return DNSName(unchecked: labels)
                }
                let start = position + 1
                let end = start + Int(length)
                guard end <= bytes.count else { throw .truncated(at: position) }
                wireLength += Int(length) + 1
                guard wireLength <= DNSName.maxWireLength else { throw .nameTooLong(at: position) }
                labels.append(Array(bytes[start..<end]))
                position = end
            case 0xC0:
                guard position + 1 < bytes.count else { throw .truncated(at: position) }
                let target = Int(length & 0x3F) << 8 | Int(bytes[position + 1])
                guard target < lowestVisited else { throw .badPointer(at: position) }
                if !jumped { offset = position + 2 }
                jumped = true
                lowestVisited = target
                position = target
            default:
                throw .badLabelType(at: position)
            }
        }
    }

    mutating func question() throws(DNSWireError) -> DNSQuestion {
        let name = try name()
        let type = try u16()
        let cls = try u16()
        return DNSQuestion(name: name, type: DNSType(rawValue: type), class: DNSClass(rawValue: cls))
    }

    /// One record; an OPT record comes back as `.opt` for the caller to lift out.
    mutating func record() throws(DNSWireError) -> ReadRecord {
        let name = try name()
        let type = DNSType(rawValue: try u16())
        let cls = try u16()
        let ttl = try u32()
        let length = Int(try u16())
        guard remaining >= length else { throw .truncated(at: offset) }
        let start = offset
        let end = offset + length
        if type == .opt {
            guard name == .root else { throw .badOPT }
            var edns = EDNS(udpPayloadSize: cls)
            edns.extendedRCode = UInt8(ttl >> 24)
            edns.version = UInt8((ttl >> 16) & 0xFF)
            edns.dnssecOK = ttl & 0x8000 != 0
            while offset < end {
                let code = try u16()
                let optionLength = Int(try u16())
                guard offset + optionLength <= end else { throw .badRData(type: type.rawValue, at: start) }
                edns.options.append(EDNSOption(code: code, data: try take(optionLength)))
            }
            return .opt(edns)
        }
        let data = try rdata(type: type, start: start, end: end)
        guard offset == end else { throw .badRData(type: type.rawValue, at: start) }
        return .record(DNSRecord(name: name, class: DNSClass(rawValue: cls), ttl: ttl, data: data))
    }

    private mutating func rdata(type: DNSType, start: Int, end: Int) throws(DNSWireError) -> RData {
        let length = end - start
        func nameWithin(_ reader: inout DNSWireReader) throws(DNSWireError) -> DNSName {
            let n = try reader.name()
            guard reader.offset <= end else { throw .badRData(type: type.rawValue, at: start) }
            return n
        }
        switch type {
        case .a:
            guard length == 4, let ip = IPAddress(bytes: try take(4)) else { throw .badRData(type: type.rawValue, at: start) }
            return .a(ip)
        case .aaaa:
            guard length == 16, let ip = IPAddress(bytes: try take(16)) else { throw .badRData(type: type.rawValue, at: start) }
            return .aaaa(ip)
        case .cname: return .cname(try nameWithin(&self))
        case .ns: return .ns(try nameWithin(&self))
        case .ptr: return .ptr(try nameWithin(&self))
        case .srv:
            guard length >= 7 else { throw .badRData(type: type.rawValue, at: start) }
            let priority = try u16(), weight = try u16(), port = try u16()
            return .srv(SRVData(priority: priority, weight: weight, port: port, target: try nameWithin(&self)))
        case .soa:
            let mname = try nameWithin(&self)
            let rname = try nameWithin(&self)
            guard end - offset == 20 else { throw .badRData(type: type.rawValue, at: start) }
            return .soa(SOAData(mname: mname, rname: rname, serial: try u32(), refresh: try u32(), retry: try u32(),
                                expire: try u32(), minimum: try u32()))
        case .txt:
            var strings: [[UInt8]] = []
            while offset < end {
                let n = Int(try u8())
                guard offset + n <= end else { throw .badRData(type: type.rawValue, at: start) }
                strings.append(try take(n))
            }
            return .txt(strings)
        default:
            return .unknown(type: type, bytes: try take(length))
        }
    }

    enum ReadRecord {
        case record(DNSRecord)
        case opt(EDNS)
    }
}

extension DNSMessage {
    /// Decodes a whole message. Throws `.shortHeader` when not even the header is there (drop the
    /// packet); any other error means the header is readable (`DNSMessage.header(of:)`) and
    /// FORMERR is the answer.
    public static func decode(_ bytes: [UInt8]) throws(DNSWireError) -> DNSMessage {
        guard bytes.count >= 12 else { throw .shortHeader }
        var r = DNSWireReader(bytes)
        let id = try r.u16()
        let flags = try r.u16()
        let qd = try r.u16(), an = try r.u16(), ns = try r.u16(), ar = try r.u16()
        var message = DNSMessage(header: DNSHeader(id: id, flags: flags))
        // Each question needs ≥5 bytes and each record ≥11: reject impossible counts before allocating.
        guard Int(qd) * 5 + (Int(an) + Int(ns) + Int(ar)) * 11 <= r.remaining else { throw .truncated(at: 12) }
        message.questions.reserveCapacity(Int(qd))
        for _ in 0..<qd { message.questions.append(try r.question()) }
        for section in 0..<3 {
            let count = [an, ns, ar][section]
            for _ in 0..<count {
                switch try r.record() {
                case .record(let record):
                    switch section {
                    case 0: message.answers.append(record)
                    case 1: message.authority.append(record)
                    default: message.additional.append(record)
                    }
                case .opt(let edns):
                    guard section == 2, message.edns == nil else { throw .badOPT }
                    message.edns = edns
                }
            }
        }
        guard r.remaining == 0 else { throw .trailingBytes(count: r.remaining) }
        return message
    }

    /// Just the header of a packet (to answer FORMERR); nil when shorter than 12 bytes.
    public static func header(of bytes: [UInt8]) -> DNSHeader? {
        guard bytes.count >= 12 else { return nil }
        return DNSHeader(id: UInt16(bytes[0]) << 8 | UInt16(bytes[1]), flags: UInt16(bytes[2]) << 8 | UInt16(bytes[3]))
    }
}
