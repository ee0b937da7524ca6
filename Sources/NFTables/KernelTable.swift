import ProxyCore

/// A table as the kernel holds it (or as a model table lowers to), keyed so that equality ignores the order
/// in which chains, sets and elements are listed. Rules keep their order within a chain.
public struct KernelTable: Hashable, Sendable {
    public var id: NFTTableID
    public var comment: String?
    /// Chain headers (name, base, comment) by name; their `rules` are empty.
    public var chains: [String: NFTChain]
    /// Rules by chain name, in order.
    public var rules: [String: [KernelRule]]
    /// Named sets and maps by name.
    public var sets: [String: KernelSet]
    /// Elements by set name. Dynamic sets are left out when reading unless asked for.
    public var elements: [String: Set<KernelElement>]

    public init(id: NFTTableID, comment: String? = nil, chains: [String: NFTChain] = [:],
                rules: [String: [KernelRule]] = [:], sets: [String: KernelSet] = [:],
                elements: [String: Set<KernelElement>] = [:]) {
        self.id = id
        self.comment = comment
        self.chains = chains
        self.rules = rules
        self.sets = sets
        self.elements = elements
    }

    /// Number of rules over all chains.
    public var ruleCount: Int { rules.values.reduce(0) { $0 + $1.count } }

    /// What the model table lowers to (elements of dynamic sets left out, as the kernel read does by default).
    public init(model: NFTTable) {
        let lowering = KernelLowering(table: model.id)
        self.init(id: model.id, comment: model.comment)
        for chain in model.chains {
            chains[chain.name] = NFTChain(name: chain.name, comment: chain.comment, base: chain.base)
            rules[chain.name] = chain.rules.map { lowering.rule($0, chain: chain.name) }
        }
        for set in model.sets {
            sets[set.name] = lowering.set(set)
            if !set.isDynamic {
                elements[set.name] = Set(lowering.elements(set.elements, of: set))
            }
        }
    }

    /// Human-readable differences from `other` (empty when equal): missing or extra chains and sets, chains
    /// whose rules differ (with the first differing rule), sets whose elements differ.
    public func differences(from other: KernelTable) -> [String] {
        var result: [String] = []
        if comment != other.comment { result.append("table comment \(comment ?? "nil") vs \(other.comment ?? "nil")") }
        for name in Set(chains.keys).union(other.chains.keys).sorted() {
            guard let mine = chains[name] else { result.append("chain \(name) only in other"); continue }
            guard let theirs = other.chains[name] else { result.append("chain \(name) missing in other"); continue }
            if mine != theirs { result.append("chain \(name) header \(mine) vs \(theirs)") }
            let left = rules[name] ?? [], right = other.rules[name] ?? []
            if left != right {
                let index = zip(left, right).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? min(left.count, right.count)
                let a = index < left.count ? Self.describe(left[index], against: index < right.count ? right[index] : nil) : "none"
                let b = index < right.count ? Self.describe(right[index], against: index < left.count ? left[index] : nil) : "none"
                result.append("chain \(name): \(left.count) vs \(other.rules[name]?.count ?? 0) rules; rule \(index): \(a) vs \(b)")
            }
        }
        for name in Set(sets.keys).union(other.sets.keys).sorted() {
            guard let mine = sets[name] else { result.append("set \(name) only in other"); continue }
            guard let theirs = other.sets[name] else { result.append("set \(name) missing in other"); continue }
            if mine != theirs { result.append("set \(name) header \(mine) vs \(theirs)") }
            let left = elements[name] ?? [], right = other.elements[name] ?? []
            if left != right {
                result.append("set \(name) elements: \(left.subtracting(right).count) only here, \(right.subtracting(left).count) only in other; e.g. \(left.symmetricDifference(right).first.map { "\($0)" } ?? "")")
            }
        }
        return result
    }

    /// A rule, or only its first expression that differs from `other`.
    static func describe(_ rule: KernelRule, against other: KernelRule?) -> String {
        guard let other, rule.comment == other.comment else { return "\(rule)" }
        for (index, expression) in rule.expressions.enumerated()
        where index >= other.expressions.count || other.expressions[index] != expression {
            return "expression \(index): \(expression)"
        }
        return "\(rule.expressions.count) expressions"
    }

    /// The model-level headers of this table (chains without rules, sets without elements), as
    /// `RulesetDiff.fullSync(existing:)` needs them.
    public var modelHeaders: NFTTable {
        NFTTable(family: id.family, name: id.name, comment: comment,
                 chains: chains.keys.sorted().compactMap { chains[$0] },
                 sets: sets.keys.sorted().compactMap { sets[$0]?.modelHeader })
    }
}

extension KernelSet {
    /// The model set header this kernel set corresponds to, when its types are model types.
    var modelHeader: NFTSet? {
        let keyTypes = key.compactMap(\.modelType)
        guard keyTypes.count == key.count else { return nil }
        var modelFlags: [NFTSetFlag] = []
        if flags.contains(.interval) { modelFlags.append(.interval) }
        if flags.contains(.timeout) { modelFlags.append(.timeout) }
        if flags.contains(.dynamic) { modelFlags.append(.dynamic) }
        if flags.contains(.constant) { modelFlags.append(.constant) }
        var dataTypes: [NFTDataType] = []
        if let data {
            let fields = data == .verdict ? [data] : KernelDecoding.keyFields(typeID: data.id, length: data.size)
            dataTypes = fields.compactMap(\.modelType)
            guard dataTypes.count == fields.count else { return nil }
        }
        return NFTSet(name: name, keyType: keyTypes, dataTypes: dataTypes, flags: modelFlags,
                      timeoutSeconds: timeoutMilliseconds.map { Int($0 / 1000) }, comment: comment)
    }
}

extension KernelDataType {
    /// The model data type with the same `nft` type id.
    var modelType: NFTDataType? {
        switch self {
        case .ipv4Address: .ipv4Address
        case .ipv6Address: .ipv6Address
        case .inetProtocol: .inetProto
        case .inetService: .inetService
        case .mark: .mark
        case .interfaceName: .ifname
        case .verdict: .verdict
        case .integer32: .integer
        default: nil
        }
    }

    /// The known type with this `nft` id, or an opaque one of `size` bytes.
    static func known(id: UInt32, size: Int) -> KernelDataType {
        let all: [KernelDataType] = [.verdict, .integer32, .ipv4Address, .ipv6Address, .inetProtocol, .inetService,
                                     .mark, .interfaceName]
        return all.first { $0.id == id } ?? KernelDataType(id: id, size: size)
    }
}
