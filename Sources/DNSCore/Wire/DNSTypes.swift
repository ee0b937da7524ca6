/// A resource record type (RFC 1035 §3.2.2 and later), open to values this codec does not model.
public struct DNSType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    public static let a = DNSType(rawValue: 1)
    public static let ns = DNSType(rawValue: 2)
    public static let cname = DNSType(rawValue: 5)
    public static let soa = DNSType(rawValue: 6)
    public static let ptr = DNSType(rawValue: 12)
    public static let hinfo = DNSType(rawValue: 13)
    public static let txt = DNSType(rawValue: 16)
    public static let aaaa = DNSType(rawValue: 28)
    public static let srv = DNSType(rawValue: 33)
    public static let opt = DNSType(rawValue: 41)
    public static let axfr = DNSType(rawValue: 252)
    public static let any = DNSType(rawValue: 255)

    private static let names: [UInt16: String] = [1: "A", 2: "NS", 5: "CNAME", 6: "SOA", 12: "PTR", 13: "HINFO", 16: "TXT",
                                                  28: "AAAA", 33: "SRV", 41: "OPT", 252: "AXFR", 255: "ANY"]
    public var description: String { Self.names[rawValue] ?? "TYPE\(rawValue)" }
}

/// A record class; only IN (and ANY in questions) matter here.
public struct DNSClass: RawRepresentable, Hashable, Sendable {
    public var rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }
    public static let `in` = DNSClass(rawValue: 1)
    public static let chaos = DNSClass(rawValue: 3)
    public static let any = DNSClass(rawValue: 255)
}

/// A response code (the low 4 bits in the header; EDNS extends it to 12 bits).
public struct DNSRCode: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }
    public static let noError = DNSRCode(rawValue: 0)
    public static let formErr = DNSRCode(rawValue: 1)
    public static let servFail = DNSRCode(rawValue: 2)
    public static let nxDomain = DNSRCode(rawValue: 3)
    public static let notImp = DNSRCode(rawValue: 4)
    public static let refused = DNSRCode(rawValue: 5)
    public static let badVers = DNSRCode(rawValue: 16)

    private static let names: [UInt16: String] = [0: "NOERROR", 1: "FORMERR", 2: "SERVFAIL", 3: "NXDOMAIN",
                                                  4: "NOTIMP", 5: "REFUSED", 16: "BADVERS"]
    public var description: String { Self.names[rawValue] ?? "RCODE\(rawValue)" }
}

/// The header's fixed fields (RFC 1035 §4.1.1), without section counts.
public struct DNSHeader: Hashable, Sendable {
    public var id: UInt16 = 0
    public var isResponse = false
    public var opcode: UInt8 = 0
    public var authoritative = false
    public var truncated = false
    public var recursionDesired = false
    public var recursionAvailable = false
    public var authenticData = false
    public var checkingDisabled = false
    /// Low 4 bits of the response code.
    public var rcode: UInt8 = 0

    public init(id: UInt16 = 0) { self.id = id }

    /// The 16-bit flags word.
    public var flags: UInt16 {
        var f = UInt16(opcode & 0x0F) << 11 | UInt16(rcode & 0x0F)
        if isResponse { f |= 0x8000 }
        if authoritative { f |= 0x0400 }
        if truncated { f |= 0x0200 }
        if recursionDesired { f |= 0x0100 }
        if recursionAvailable { f |= 0x0080 }
        if authenticData { f |= 0x0020 }
        if checkingDisabled { f |= 0x0010 }
        return f
    }

    init(id: UInt16, flags f: UInt16) {
        self.id = id
        isResponse = f & 0x8000 != 0
        opcode = UInt8((f >> 11) & 0x0F)
        authoritative = f & 0x0400 != 0
        truncated = f & 0x0200 != 0
        recursionDesired = f & 0x0100 != 0
        recursionAvailable = f & 0x0080 != 0
        authenticData = f & 0x0020 != 0
        checkingDisabled = f & 0x0010 != 0
        rcode = UInt8(f & 0x0F)
    }
}

/// Why a message could not be decoded.
public enum DNSWireError: Error, Hashable, Sendable {
    /// Fewer than 12 bytes: not even a header (the packet is dropped).
    case shortHeader
    /// The data ended inside the named section or field.
    case truncated(at: Int)
    /// A label length byte with the reserved 0b01/0b10 prefix.
    case badLabelType(at: Int)
    /// A compression pointer that does not point strictly backwards (loops and forward references).
    case badPointer(at: Int)
    /// A name longer than 255 bytes.
    case nameTooLong(at: Int)
    /// A record whose data length disagrees with its type's contents.
    case badRData(type: UInt16, at: Int)
    /// More than one OPT record, or an OPT record not owned by the root.
    case badOPT
    /// Bytes left over after the last section.
    case trailingBytes(count: Int)
}
