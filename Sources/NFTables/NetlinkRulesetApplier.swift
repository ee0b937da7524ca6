import ProxyCore

/// The nftables applier: lowers each ProxyCore transaction to libnftnl objects and sends one libmnl batch
/// (all or nothing). The daemon reaches it through `RulesetTarget` (ProxyDaemon's `NFTablesTarget`), the one
/// ruleset-target protocol; benches and kernel tests use it directly.
///
/// Remembers the definitions of the sets it has seen (from `addSet` and from reading the kernel) because
/// element encoding depends on the set's flags (intervals). Not thread-safe: owned by the proxy's sync loop.
public final class NetlinkRulesetApplier {
    public let connection: NFTablesConnection
    private var knownSets: [NFTTableID: [String: NFTSet]] = [:]

    /// Opens a netfilter socket in `namespace`.
    public init(namespace: NetnsReference = .current) throws {
        connection = try NFTablesConnection(namespace: namespace)
    }

    /// Applies `transaction` as one batch.
    public func apply(_ transaction: NFTTransaction) throws {
        var sets = knownSets
        let commands = lower(transaction, sets: &sets)
        try connection.apply(commands)
        knownSets = sets
    }

    /// Chain and set headers of those `tables` that exist, for `RulesetDiff.fullSync(to:existing:)`.
    public func existingRuleset(_ tables: [NFTTableID]) throws -> NFTRuleset {
        let ruleset = try connection.readHeaders(tables)
        for table in ruleset.tables {
            for set in table.sets where knownSets[table.id]?[set.name] == nil {
                knownSets[table.id, default: [:]][set.name] = set
            }
        }
        return ruleset
    }

    /// A full sync: reads what the kernel holds, diffs against it (adopting the existing tables), applies.
    public func applyFull(_ ruleset: NFTRuleset) throws {
        let existing = try existingRuleset(ruleset.tables.map(\.id))
        try apply(RulesetDiff.fullSync(to: ruleset, existing: existing))
    }

    /// What the kernel holds for the tables of `ruleset`, next to what `ruleset` lowers to; nil for a table
    /// missing in the kernel.
    public func compare(_ ruleset: NFTRuleset) throws -> [(expected: KernelTable, actual: KernelTable?)] {
        try ruleset.tables.map { (KernelTable(model: $0), try connection.read($0.id)) }
    }

    /// The kernel commands for a transaction; `sets` tracks set definitions through it.
    func lower(_ transaction: NFTTransaction, sets: inout [NFTTableID: [String: NFTSet]]) -> [KernelCommand] {
        var commands: [KernelCommand] = []
        commands.reserveCapacity(transaction.operations.count)
        for operation in transaction.operations {
            switch operation {
            case .addTable(let id, let comment):
                commands.append(.addTable(id, comment: comment))
            case .deleteTable(let id):
                sets[id] = nil
                commands.append(.deleteTable(id))
            case .addChain(let id, let chain):
                commands.append(.addChain(id, chain))
            case .flushChain(let id, let chain):
                commands.append(.flushChain(id, chain: chain))
            case .deleteChain(let id, let chain):
                commands.append(.deleteChain(id, chain: chain))
            case .addSet(let id, let set):
                sets[id, default: [:]][set.name] = set
                commands.append(.addSet(KernelLowering(table: id).set(set)))
            case .flushSet(let id, let set):
                commands.append(.flushSet(id, set: set))
            case .deleteSet(let id, let set):
                sets[id]?[set] = nil
                commands.append(.deleteSet(id, set: set))
            case .addRule(let id, let chain, let rule):
                commands.append(.addRule(id, KernelLowering(table: id).rule(rule, chain: chain)))
            case .addElements(let id, let set, let elements):
                commands.append(.addElements(id, set: set, lowerElements(elements, id, set, sets)))
            case .deleteElements(let id, let set, let elements):
                commands.append(.deleteElements(id, set: set, lowerElements(elements, id, set, sets)))
            }
        }
        return commands
    }

    private func lowerElements(_ elements: [NFTElement], _ id: NFTTableID, _ name: String,
                               _ sets: [NFTTableID: [String: NFTSet]]) -> [KernelElement] {
        // Without a known definition, the key types follow from the values (no interval handling).
        let set = sets[id]?[name] ?? NFTSet(name: name, keyType: [])
        return KernelLowering(table: id).elements(elements, of: set)
    }
}
