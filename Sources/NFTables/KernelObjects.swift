import CNftnl
import ProxyCore

// The kernel-level vocabulary reuses ProxyCore's table identity, chain and verdict values; what differs from
// the model is the rule body (`KernelExpression`s: one per kernel expression) and raw set keys.

extension NFTFamily {
    /// The `NFPROTO_*` number.
    var protocolFamily: UInt8 { self == .ip ? UInt8(NFPROTO_IPV4) : UInt8(NFPROTO_IPV6) }

    init?(protocolFamily: UInt32) {
        switch protocolFamily {
        case UInt32(NFPROTO_IPV4): self = .ip
        case UInt32(NFPROTO_IPV6): self = .ip6
        default: return nil
        }
    }
}

extension NFTTableID: CustomStringConvertible {
    /// `ip kproxy`
    public var description: String { "\(family.rawValue) \(name)" }
}

extension NFTBaseChain.Hook {
    /// The `NF_INET_*` hook number.
    var number: UInt32 {
        switch self {
        case .prerouting: 0
        case .input: 1
        case .forward: 2
        case .output: 3
        case .postrouting: 4
        }
    }

    init?(number: UInt32) {
        switch number {
        case 0: self = .prerouting
        case 1: self = .input
        case 2: self = .forward
        case 3: self = .output
        case 4: self = .postrouting
        default: return nil
        }
    }
}

extension NFTVerdict {
    /// The kernel's verdict code (`NF_ACCEPT`, `NFT_JUMP`, …).
    var code: Int32 {
        switch self {
        case .drop: 0
        case .accept: 1
        case .continue: -1
        case .return: -5
        case .jump: -3
        case .goto: -4
        }
    }

    /// Decodes a kernel verdict code and chain name.
    init?(code: Int32, chain: String?) {
        switch code {
        case 0: self = .drop
        case 1: self = .accept
        case -1: self = .continue
        case -5: self = .return
        case -3: self = .jump(chain ?? "")
        case -4: self = .goto(chain ?? "")
        default: return nil
        }
    }
}

/// A rule as the kernel holds it: kernel expressions in order, with an optional comment.
public struct KernelRule: Hashable, Sendable {
    public var chain: String
    public var expressions: [KernelExpression]
    public var comment: String?
    public init(chain: String, _ expressions: [KernelExpression], comment: String? = nil) {
        self.chain = chain
        self.expressions = expressions
        self.comment = comment
    }
}

/// One step of a kernel transaction. A list of commands is sent as one batch: all or nothing.
public enum KernelCommand: Hashable, Sendable {
    /// `add table` (no error if it exists).
    case addTable(NFTTableID, comment: String?)
    /// `delete table`.
    case deleteTable(NFTTableID)
    /// `flush table`: deletes every rule of the table.
    case flushTable(NFTTableID)
    /// `add chain` (no error if it exists); the chain's rules are ignored.
    case addChain(NFTTableID, NFTChain)
    /// `flush chain`.
    case flushChain(NFTTableID, chain: String)
    /// `delete chain` (must be empty and unreferenced).
    case deleteChain(NFTTableID, chain: String)
    /// `add set` / `add map` (no error if it exists with the same type).
    case addSet(KernelSet)
    /// `delete set`.
    case deleteSet(NFTTableID, set: String)
    /// `flush set`: deletes every element.
    case flushSet(NFTTableID, set: String)
    /// `add element`.
    case addElements(NFTTableID, set: String, [KernelElement])
    /// `delete element` (only keys matter).
    case deleteElements(NFTTableID, set: String, [KernelElement])
    /// `add rule`: appends to the chain.
    case addRule(NFTTableID, KernelRule)
}
