import KubeAPI
import Values

/// One statement of a rule. Each case maps to a fixed short sequence of libnftnl expressions (listed per case).
public enum NFTExpression: Hashable, Sendable {
    /// `FIELD VALUE` / `FIELD != VALUE`: load `field` (payload or meta), then `cmp eq/neq`; a `.prefix` value
    /// adds a `bitwise` mask before comparing the network address.
    case match(NFTField, NFTValue, negated: Bool = false)
    /// `meta mark & MASK == VALUE` (or `!=`): meta load → bitwise and MASK → cmp.
    case maskedMatch(NFTField, mask: UInt32, value: UInt32, negated: Bool = false)
    /// `FIELD . FIELD @set` (or `!= @set`): loads into consecutive registers → `lookup` (invert flag if negated).
    case lookup([NFTField], set: String, negated: Bool = false)
    /// `FIELD . FIELD vmap @map`: loads → `lookup` with the verdict register as destination.
    case vmap([NFTField], map: String)
    /// `numgen random mod N vmap @map`: `numgen` (random, modulus N) → `lookup` in the named verdict map `map`
    /// (key `typeof numgen random mod 1`), which holds `i : goto endpoint-i` for i in 0..<N.
    case numgenVmap(modulus: Int, map: String)
    /// `dnat ip to FIELD . FIELD . numgen random mod N map @map`: the fields and a numgen draw load into
    /// consecutive registers → `lookup` in the named map, whose data (endpoint address . port) lands in the
    /// first registers → `nat` dnat from the address register and the port register after it. A key missing
    /// from the map ends the rule (the next rule is tried).
    case dnatMap([NFTField], modulus: Int, map: String)
    /// `numgen random mod N == V`: `numgen` (random, modulus N) → `cmp eq` V. A chain of these, the i-th of
    /// n rules drawing `mod n-i`, picks uniformly among n endpoints without any set.
    case numgenIs(modulus: Int, value: UInt32)
    /// `fib daddr type local` (or `saddr`; `type != local` when negated): `fib` (flag DADDR/SADDR, result
    /// ADDRTYPE) → cmp with RTN_LOCAL (2).
    case fibLocal(NFTFibAddress, negated: Bool = false)
    /// `ct state new` / `ct state established,related`: `ct` state → bitwise (mask of the states) → cmp neq 0
    /// (eq 0 when negated).
    case ctState([NFTCtState], negated: Bool = false)
    /// `ct status dnat`: like `ctState` on the status bits.
    case ctStatus([NFTCtStatus], negated: Bool = false)
    /// `socket transparent 1`: `socket` (key NFT_SOCKET_TRANSPARENT) → cmp eq 1 (one byte). Holds when a
    /// socket of this host with IP_TRANSPARENT owns the packet's flow (the userspace mode's connections
    /// that keep a client's source address).
    case socketTransparent
    /// `counter`.
    case counter
    /// `meta mark set …`: meta load mark → bitwise → meta set mark (`.set` is just an immediate → meta set).
    case setMark(NFTMarkOperation)
    /// `update @set { ip saddr }`: loads → `dynset` (op update) with the set's default timeout.
    case updateSet(set: String, key: [NFTField])
    /// `dnat to ADDR[:PORT]`: immediate address (and port) → `nat` type dnat of the table's family. Rules put a
    /// `.match(.l4proto, …)` first when a port is given.
    case dnat(IPAddress, port: UInt16?)
    /// `tproxy to ADDR:PORT` (prerouting only): immediate address and port → `tproxy` of the table's family.
    /// The packet keeps its addresses and is handed to the transparent socket listening on ADDR:PORT (an
    /// established socket of its own flow first); without conntrack or NAT. The userspace mode steers
    /// Service traffic to its listeners this way, with a mark that routes the packet to this host.
    case tproxy(IPAddress, port: UInt16)
    /// `masquerade [fully-random]`: `masq` (flag NF_NAT_RANGE_PROTO_RANDOM_FULLY).
    case masquerade(fullyRandom: Bool)
    /// `reject …`: `reject` expression.
    case reject(NFTRejectKind)
    /// A terminal verdict: `immediate` into the verdict register.
    case verdict(NFTVerdict)
}

/// A value loaded from the packet or its metadata.
public enum NFTField: String, Hashable, Sendable {
    /// Network header source address of the table's family (`ip saddr`: offset 12 len 4; `ip6 saddr`: 8, 16).
    case saddr
    /// Network header destination address (`ip daddr`: 16, 4; `ip6 daddr`: 24, 16).
    case daddr
    /// Transport header source port (`th sport`: transport offset 0 len 2).
    case sport
    /// Transport header destination port (`th dport`: transport offset 2 len 2).
    case dport
    /// `meta l4proto` (1 byte).
    case l4proto
    /// `meta mark` (4 bytes, host order).
    case mark
    /// `meta iifname` (16 bytes, NUL padded).
    case iifname
    /// `meta oifname`.
    case oifname

    /// The data type of the loaded value in a table of `family`.
    public func dataType(in family: NFTFamily) -> NFTDataType {
        switch self {
        case .saddr, .daddr: family.addressType
        case .sport, .dport: .inetService
        case .l4proto: .inetProto
        case .mark: .mark
        case .iifname, .oifname: .ifname
        }
    }
}

/// A typed constant.
public enum NFTValue: Hashable, Sendable {
    case address(IPAddress)
    /// A network prefix: a masked match in rules, a range in interval sets.
    case prefix(CIDR)
    case l4proto(NFTL4Proto)
    case port(UInt16)
    case mark(UInt32)
    case ifname(String)
    /// An `integer` (numgen keys).
    case integer(UInt32)
}

/// Transport protocols kproxy balances (`meta l4proto`).
public enum NFTL4Proto: UInt8, Hashable, Sendable, CaseIterable, Comparable {
    case tcp = 6
    case udp = 17
    case sctp = 132

    /// nftables' keyword (`tcp`, `udp`, `sctp`).
    public var name: String {
        switch self {
        case .tcp: "tcp"
        case .udp: "udp"
        case .sctp: "sctp"
        }
    }

    public static func < (lhs: NFTL4Proto, rhs: NFTL4Proto) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// A verdict: in rules (`immediate`) and as verdict-map data.
public enum NFTVerdict: Hashable, Sendable {
    case accept
    case drop
    case `continue`
    case `return`
    /// Call a chain; evaluation comes back here when it returns.
    case jump(String)
    /// Go to a chain; a `return` there returns to this chain's caller.
    case goto(String)

    /// The chain this verdict targets, if any.
    public var chain: String? {
        switch self {
        case .jump(let c), .goto(let c): c
        default: nil
        }
    }
}

/// Which address `fib` looks up.
public enum NFTFibAddress: String, Hashable, Sendable {
    case saddr, daddr
}

/// Conntrack states (bit values as the kernel's `NF_CT_STATE_*` bits).
public enum NFTCtState: String, Hashable, Sendable, CaseIterable {
    case invalid, established, related, new, untracked

    /// The state bit.
    public var bit: UInt32 {
        switch self {
        case .invalid: 1
        case .established: 2
        case .related: 4
        case .new: 8
        case .untracked: 64
        }
    }
}

/// Conntrack status bits used by kproxy.
public enum NFTCtStatus: String, Hashable, Sendable, CaseIterable {
    case snat, dnat

    /// `IPS_SRC_NAT` / `IPS_DST_NAT`.
    public var bit: UInt32 { self == .snat ? 0x10 : 0x20 }
}

/// How `meta mark set` computes the new mark.
public enum NFTMarkOperation: Hashable, Sendable {
    /// `meta mark set V`.
    case set(UInt32)
    /// `meta mark set mark or V` (bitwise: mask ~V, xor V).
    case or(UInt32)
    /// `meta mark set mark xor V` (bitwise: mask 0xffffffff, xor V).
    case xor(UInt32)
}

/// What `reject` sends.
public enum NFTRejectKind: Hashable, Sendable {
    /// Plain `reject`: ICMP (ICMPv6) port unreachable.
    case portUnreachable
    /// `reject with tcp reset` (the rule must match TCP first).
    case tcpReset
    /// `reject with icmpx type port-unreachable` (family-independent code).
    case icmpxPortUnreachable
}
