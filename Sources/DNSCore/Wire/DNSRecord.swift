import KubeAPI
import Values

/// SOA data (RFC 1035 §3.3.13).
public struct SOAData: Hashable, Sendable {
    public var mname: DNSName
    public var rname: DNSName
    public var serial: UInt32
    public var refresh: UInt32
    public var retry: UInt32
    public var expire: UInt32
    public var minimum: UInt32

    public init(mname: DNSName, rname: DNSName, serial: UInt32, refresh: UInt32, retry: UInt32, expire: UInt32, minimum: UInt32) {
        self.mname = mname; self.rname = rname; self.serial = serial
        self.refresh = refresh; self.retry = retry; self.expire = expire; self.minimum = minimum
    }
}

/// SRV data (RFC 2782).
public struct SRVData: Hashable, Sendable {
    public var priority: UInt16
    public var weight: UInt16
    public var port: UInt16
    public var target: DNSName

    public init(priority: UInt16, weight: UInt16, port: UInt16, target: DNSName) {
        self.priority = priority; self.weight = weight; self.port = port; self.target = target
    }
}

/// Record data for the types this server answers; anything else is kept as raw bytes.
public enum RData: Hashable, Sendable {
    case a(IPAddress)
    case aaaa(IPAddress)
    case cname(DNSName)
    case ns(DNSName)
    case ptr(DNSName)
    case srv(SRVData)
    /// Character strings, each at most 255 bytes.
    case txt([[UInt8]])
    case soa(SOAData)
    /// Uninterpreted data of another type (names inside it are never decompressed).
    case unknown(type: DNSType, bytes: [UInt8])

    /// The record type this data belongs to.
    public var type: DNSType {
        switch self {
        case .a: .a
        case .aaaa: .aaaa
        case .cname: .cname
        case .ns: .ns
        case .ptr: .ptr
        case .srv: .srv
        case .txt: .txt
        case .soa: .soa
        case .unknown(let type, _): type
        }
    }
}

/// One resource record of class IN (or another class, kept as read).
public struct DNSRecord: Hashable, Sendable {
    public var name: DNSName
    public var `class`: DNSClass
    public var ttl: UInt32
    public var data: RData

    public var type: DNSType { data.type }

    public init(name: DNSName, class: DNSClass = .in, ttl: UInt32, data: RData) {
        self.name = name; self.class = `class`; self.ttl = ttl; self.data = data
    }
}

/// A question (RFC 1035 §4.1.2).
public struct DNSQuestion: Hashable, Sendable {
    public var name: DNSName
    public var type: DNSType
    public var `class`: DNSClass

    public init(name: DNSName, type: DNSType, class: DNSClass = .in) {
        self.name = name; self.type = type; self.class = `class`
    }
}

/// The EDNS(0) OPT pseudo-record (RFC 6891), lifted out of the additional section.
public struct EDNS: Hashable, Sendable {
    /// The EDNS buffer size this server advertises (DNS flag day 2020).
    public static let advertisedPayloadSize: UInt16 = 1232

    public var udpPayloadSize: UInt16
    /// Upper 8 bits of the 12-bit response code.
    public var extendedRCode: UInt8 = 0
    public var version: UInt8 = 0
    public var dnssecOK = false
    /// Options as (code, data), kept in order.
    public var options: [EDNSOption] = []

    public init(udpPayloadSize: UInt16 = EDNS.advertisedPayloadSize, dnssecOK: Bool = false) {
        self.udpPayloadSize = udpPayloadSize; self.dnssecOK = dnssecOK
    }

    /// Encoded size of the OPT record.
    var wireLength: Int { 11 + options.reduce(0) { $0 + 4 + $1.data.count } }
}

/// One EDNS option.
public struct EDNSOption: Hashable, Sendable {
    public var code: UInt16
    public var data: [UInt8]
    public init(code: UInt16, data: [UInt8]) { self.code = code; self.data = data }
}

/// A whole message. The response code combines the header's 4 bits with EDNS's extension.
public struct DNSMessage: Hashable, Sendable {
    public var header: DNSHeader
    public var questions: [DNSQuestion] = []
    public var answers: [DNSRecord] = []
    public var authority: [DNSRecord] = []
    public var additional: [DNSRecord] = []
    public var edns: EDNS?

    public init(header: DNSHeader = DNSHeader(), questions: [DNSQuestion] = [], answers: [DNSRecord] = [],
                authority: [DNSRecord] = [], additional: [DNSRecord] = [], edns: EDNS? = nil) {
        self.header = header; self.questions = questions; self.answers = answers
        self.authority = authority; self.additional = additional; self.edns = edns
    }

    /// The full response code (EDNS extended bits included).
    public var rcode: DNSRCode {
        get { DNSRCode(rawValue: UInt16(edns?.extendedRCode ?? 0) << 4 | UInt16(header.rcode)) }
        set {
            header.rcode = UInt8(newValue.rawValue & 0x0F)
            if edns != nil { edns?.extendedRCode = UInt8(truncatingIfNeeded: newValue.rawValue >> 4) }
        }
    }

    /// A response skeleton for `query`: same id, opcode, RD and CD, the question echoed, EDNS
    /// answered with the advertised size when the query had it.
    public static func response(to query: DNSMessage, rcode: DNSRCode = .noError) -> DNSMessage {
        var header = DNSHeader(id: query.header.id)
        header.isResponse = true
        header.opcode = query.header.opcode
        header.recursionDesired = query.header.recursionDesired
        header.checkingDisabled = query.header.checkingDisabled
        var response = DNSMessage(header: header, questions: query.questions)
        if let edns = query.edns { response.edns = EDNS(dnssecOK: edns.dnssecOK) }
        response.rcode = rcode
        return response
    }
}
