import KubeAPI
import Values

// # The nftables ruleset model
//
// A value describing what kproxy wants the kernel to hold: `NFTRuleset` → one `NFTTable` per family
// (`ip`, `ip6`) → `NFTChain`s (base or regular, each an ordered list of `NFTRule`s) and `NFTSet`s (sets and
// maps, with `NFTElement`s). A rule is a list of `NFTExpression`s, each close to one nftables statement so an
// adapter can map it to a fixed short sequence of libnftnl expressions (documented on each case):
//
//     .match(.daddr, .address(ip))           payload/meta load → cmp            `ip daddr 10.96.0.1`
//     .match(.saddr, .prefix(cidr), negated) payload → bitwise → cmp            `ip saddr != 10.244.0.0/16`
//     .lookup([.daddr], set: "cluster-ips")  payload → lookup                   `ip daddr @cluster-ips`
//     .vmap([.daddr, .l4proto, .dport], map:) loads into concatenated regs → lookup with verdict dreg
//     .numgenVmap(modulus:map:)              numgen → lookup in a named verdict map  `numgen random mod 40 vmap @m`
//     .numgenIs(modulus:value:)              numgen → cmp                        `numgen random mod 3 == 0`
//     .fibLocal(.daddr)                      fib (daddr, addrtype) → cmp RTN_LOCAL
//     .ctState([.new])                       ct state → bitwise → cmp != 0
//     .setMark(.or(0x4000))                  meta load → bitwise → meta set
//     .updateSet(set:, key: [.saddr])        payload → dynset update (set's timeout)
//     .dnat(ip, port:)                       immediate(s) → nat dnat
//     .masquerade(fullyRandom:)              masq
//     .reject(.portUnreachable)              reject
//     .verdict(.goto("x"))                   immediate verdict
//
// Values are typed (`NFTValue`), set keys and map data are nftables types (`NFTDataType`: `ipv4_addr`,
// `inet_proto`, `inet_service`, …; a multi-type key is a concatenation). Comments live on chains, rules,
// sets and elements. `NFTRuleset.nftText()` renders canonical `nft -f` input (sorted sets, chains, elements).
// Everything here is a plain `Hashable`, `Sendable` value; the model's public API only grows.

/// An nftables address family. kproxy writes one table per IP family.
public enum NFTFamily: String, Hashable, Sendable, CaseIterable, Comparable {
    case ip
    case ip6

    /// The family for addresses of `ipFamily`.
    public init(_ ipFamily: IPAddress.Family) { self = ipFamily == .ipv4 ? .ip : .ip6 }

    /// The IP family of the table's packets.
    public var ipFamily: IPAddress.Family { self == .ip ? .ipv4 : .ipv6 }

    /// The nftables address type of this family (`ipv4_addr` or `ipv6_addr`).
    public var addressType: NFTDataType { self == .ip ? .ipv4Address : .ipv6Address }

    public static func < (lhs: NFTFamily, rhs: NFTFamily) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// Everything kproxy owns in the kernel: one table per family.
public struct NFTRuleset: Hashable, Sendable {
    public var tables: [NFTTable]

    public init(tables: [NFTTable] = []) { self.tables = tables }

    /// The table of `family`, if any.
    public func table(_ family: NFTFamily) -> NFTTable? { tables.first { $0.family == family } }
}

/// Identifies a table: family plus name.
public struct NFTTableID: Hashable, Sendable, Comparable {
    public var family: NFTFamily
    public var name: String
    public init(family: NFTFamily, name: String) { self.family = family; self.name = name }
    public static func < (lhs: NFTTableID, rhs: NFTTableID) -> Bool { (lhs.family, lhs.name) < (rhs.family, rhs.name) }
}

/// One nftables table: its chains and its named sets and maps.
public struct NFTTable: Hashable, Sendable {
    public var family: NFTFamily
    public var name: String
    public var comment: String?
    /// Chains, in the order the compiler produced them (rendering sorts base chains first, then by name).
    public var chains: [NFTChain]
    /// Named sets and maps.
    public var sets: [NFTSet]

    public init(family: NFTFamily, name: String, comment: String? = nil, chains: [NFTChain] = [], sets: [NFTSet] = []) {
        self.family = family; self.name = name; self.comment = comment; self.chains = chains; self.sets = sets
    }

    public var id: NFTTableID { NFTTableID(family: family, name: name) }

    /// The chain called `name`, if any (linear search; build a dictionary for many lookups).
    public func chain(_ name: String) -> NFTChain? { chains.first { $0.name == name } }

    /// The set or map called `name`, if any.
    public func set(_ name: String) -> NFTSet? { sets.first { $0.name == name } }
}

/// A chain: a base chain when `base` is set (attached to a netfilter hook), else a regular chain reached by
/// jump/goto.
public struct NFTChain: Hashable, Sendable {
    public var name: String
    public var comment: String?
    public var base: NFTBaseChain?
    public var rules: [NFTRule]

    public init(name: String, comment: String? = nil, base: NFTBaseChain? = nil, rules: [NFTRule] = []) {
        self.name = name; self.comment = comment; self.base = base; self.rules = rules
    }
}

/// The hook attachment of a base chain: `type filter hook prerouting priority -110; policy accept;`.
public struct NFTBaseChain: Hashable, Sendable {
    /// `filter`, `nat`, or `route` (an output chain whose mark changes re-route the packet).
    public enum ChainType: String, Hashable, Sendable { case filter, nat, route }
    /// Netfilter hooks of the ip/ip6 families.
    public enum Hook: String, Hashable, Sendable { case prerouting, input, forward, output, postrouting }
    /// `accept` (kproxy's chains never drop by policy) or `drop`.
    public enum Policy: String, Hashable, Sendable { case accept, drop }

    public var type: ChainType
    public var hook: Hook
    /// Numeric priority (`dstnat` is -100, `srcnat` 100, `filter` 0).
    public var priority: Int
    public var policy: Policy

    public init(type: ChainType, hook: Hook, priority: Int, policy: Policy = .accept) {
        self.type = type; self.hook = hook; self.priority = priority; self.policy = policy
    }

    /// nftables' named priorities.
    public static let manglePriority = -150
    public static let dstnatPriority = -100
    public static let srcnatPriority = 100
    public static let filterPriority = 0
}

/// One rule: expressions evaluated left to right (a failing match ends the rule), with an optional comment
/// (stored as the rule's user data).
public struct NFTRule: Hashable, Sendable {
    public var expressions: [NFTExpression]
    public var comment: String?

    public init(_ expressions: [NFTExpression], comment: String? = nil) {
        self.expressions = expressions; self.comment = comment
    }
}
