import ProxyCore
/// A data register: the verdict register or one of the sixteen 32-bit registers.
///
/// Fields of a concatenated key sit in consecutive 32-bit registers, each padded to 4 bytes.
public enum KernelRegister: Hashable, Sendable {
    case verdict
    /// A 32-bit register, 0…15.
    case r32(Int)

    /// The first data register (`NFT_REG_1`).
    public static let first = KernelRegister.r32(0)

    /// The register `count` 32-bit words after this one.
    public func advanced(by count: Int) -> KernelRegister {
        if case .r32(let index) = self { return .r32(index + count) }
        return self
    }

    /// The number the kernel uses: 128-bit-aligned registers as `NFT_REG_1…4` (as the kernel dumps them),
    /// others as `NFT_REG32_00 + n`.
    var kernelValue: UInt32 {
        switch self {
        case .verdict: 0
        case .r32(let index): index % 4 == 0 ? UInt32(1 + index / 4) : UInt32(8 + index)
        }
    }

    init(kernelValue: UInt32) {
        switch kernelValue {
        case 0: self = .verdict
        case 1...4: self = .r32(Int(kernelValue - 1) * 4)
        default: self = .r32(Int(kernelValue) - 8)
        }
    }
}

/// A kernel expression, one-to-one with an `nft_expr` type and its netlink attributes.
///
/// This is the vocabulary the adapter sends and reads back, so "what the kernel holds" compares with `==`.
public enum KernelExpression: Hashable, Sendable {
    /// Loads `length` bytes at `offset` of a header (`base`: 1 network, 2 transport) into `destination`.
    case payload(base: PayloadBase, offset: UInt32, length: UInt32, destination: KernelRegister)
    /// Loads a packet meta value (`meta l4proto`, `meta mark`, `iifname`, …).
    case meta(MetaKey, destination: KernelRegister)
    /// Sets a packet meta value from a register (`meta mark set …`).
    case metaSet(MetaKey, source: KernelRegister)
    /// Compares a register with constant bytes; a mismatch ends the rule.
    case cmp(source: KernelRegister, op: CmpOp, data: [UInt8])
    /// `destination = (source & mask) ^ xor` over `mask.count` bytes.
    case bitwise(source: KernelRegister, destination: KernelRegister, mask: [UInt8], xor: [UInt8])
    /// Looks a key up in a set; with a destination (a verdict map uses `.verdict`) it loads the mapped value.
    case lookup(source: KernelRegister, set: KernelSetReference, destination: KernelRegister?, inverted: Bool)
    /// Sets the verdict.
    case verdict(NFTVerdict)
    /// Loads constant bytes into a register.
    case immediate(destination: KernelRegister, data: [UInt8])
    /// `numgen random mod N offset O` (or incremental).
    case numgen(destination: KernelRegister, modulus: UInt32, random: Bool, offset: UInt32)
    /// Loads a conntrack key (`ct state`, `ct status`, …), optionally for one direction.
    case ct(CTKey, destination: KernelRegister, direction: UInt8?)
    /// `fib` lookup (`fib daddr type` is flags 0x2 (daddr), result 3 (addrtype)).
    case fib(flags: UInt32, result: UInt32, destination: KernelRegister)
    /// `socket` lookup of the packet's flow, `key` NFT_SOCKET_TRANSPARENT (0), NFT_SOCKET_MARK (1) …, into `destination`.
    case socket(key: UInt32, destination: KernelRegister)
    /// DNAT/SNAT from address and port registers.
    case nat(NATSpec)
    /// `masquerade` with `NF_NAT_RANGE_*` flags (0x10 is fully-random).
    case masquerade(flags: UInt32)
    /// `tproxy` of `family` (NFPROTO_IPV4 2 / NFPROTO_IPV6 10) to the address and port in registers.
    case tproxy(family: UInt32, address: KernelRegister, port: KernelRegister)
    /// `reject`: type 0 icmp unreachable, 1 tcp reset, 2 icmpx; `code` the ICMP code.
    case reject(type: UInt32, code: UInt8)
    /// `counter`.
    case counter
    /// Adds or updates the key in `source` to a set from the packet path (`update @set { ip saddr }`).
    case dynset(DynsetSpec)
    /// `notrack`.
    case notrack
}

/// The set a lookup refers to: a named set, or an anonymous one sent in the same batch as the rule.
public enum KernelSetReference: Hashable, Sendable {
    case named(String)
    case anonymous(KernelSet, [KernelElement])
}

/// Header base of a payload load.
public struct PayloadBase: RawRepresentable, Hashable, Sendable {
    public var rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    public static let link = PayloadBase(rawValue: 0)
    public static let network = PayloadBase(rawValue: 1)
    public static let transport = PayloadBase(rawValue: 2)
}

/// A meta key (`NFT_META_*`).
public struct MetaKey: RawRepresentable, Hashable, Sendable {
    public var rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    public static let length = MetaKey(rawValue: 0)
    public static let `protocol` = MetaKey(rawValue: 1)
    public static let mark = MetaKey(rawValue: 3)
    public static let iif = MetaKey(rawValue: 4)
    public static let oif = MetaKey(rawValue: 5)
    public static let iifname = MetaKey(rawValue: 6)
    public static let oifname = MetaKey(rawValue: 7)
    public static let nfproto = MetaKey(rawValue: 15)
    public static let l4proto = MetaKey(rawValue: 16)
    public static let pkttype = MetaKey(rawValue: 19)
}

/// A comparison operator (`NFT_CMP_*`).
public struct CmpOp: RawRepresentable, Hashable, Sendable {
    public var rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    public static let eq = CmpOp(rawValue: 0)
    public static let neq = CmpOp(rawValue: 1)
    public static let lt = CmpOp(rawValue: 2)
    public static let lte = CmpOp(rawValue: 3)
    public static let gt = CmpOp(rawValue: 4)
    public static let gte = CmpOp(rawValue: 5)
}

/// A conntrack key (`NFT_CT_*`).
public struct CTKey: RawRepresentable, Hashable, Sendable {
    public var rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    public static let state = CTKey(rawValue: 0)
    public static let direction = CTKey(rawValue: 1)
    public static let status = CTKey(rawValue: 2)
    public static let mark = CTKey(rawValue: 3)
}

/// A `nat` expression: type 0 SNAT, 1 DNAT; registers holding the address and port.
public struct NATSpec: Hashable, Sendable {
    public var type: UInt32
    public var family: NFTFamily
    public var address: KernelRegister?
    public var port: KernelRegister?
    /// `NF_NAT_RANGE_*` flags besides the ones the kernel derives from the registers.
    public var flags: UInt32
    public init(type: UInt32, family: NFTFamily, address: KernelRegister?, port: KernelRegister?, flags: UInt32 = 0) {
        self.type = type
        self.family = family
        self.address = address
        self.port = port
        self.flags = flags
    }
    /// `dnat to <address register>:<port register>`.
    public static func dnat(_ family: NFTFamily, address: KernelRegister, port: KernelRegister?) -> NATSpec {
        NATSpec(type: 1, family: family, address: address, port: port)
    }
}

/// A `dynset` expression.
public struct DynsetSpec: Hashable, Sendable {
    /// 0 add, 1 update, 2 delete.
    public var op: UInt32
    public var source: KernelRegister
    public var set: String
    /// Element timeout in milliseconds, nil for the set's default.
    public var timeoutMilliseconds: UInt64?
    public init(op: UInt32, source: KernelRegister, set: String, timeoutMilliseconds: UInt64? = nil) {
        self.op = op
        self.source = source
        self.set = set
        self.timeoutMilliseconds = timeoutMilliseconds
    }
    /// `update @set { <source> }`.
    public static func update(_ set: String, from source: KernelRegister, timeoutMilliseconds: UInt64? = nil) -> DynsetSpec {
        DynsetSpec(op: 1, source: source, set: set, timeoutMilliseconds: timeoutMilliseconds)
    }
}
