/// Turns rulesets into transactions: a full sync that adopts whatever table exists, and a partial sync that
/// touches only the chains, sets and elements that differ between two rulesets.
public enum RulesetDiff {
    /// A full sync to `new`. `existing` describes what the kernel holds (names and chain/set headers are used;
    /// rules and elements may be omitted), or nil when unknown. The table is created if missing, never
    /// deleted: every chain and non-dynamic set is flushed and refilled, base chains whose hook or priority
    /// changed are recreated, and chains and sets not in `new` are deleted once nothing references them.
    /// Dynamic (affinity) sets keep their elements.
    public static func fullSync(to new: NFTRuleset, existing: NFTRuleset? = nil) -> NFTTransaction {
        var ops: [NFTOperation] = []
        for table in new.tables {
            ops += fullSync(table, existing: existing.map { $0.tables.first { $0.id == table.id } } ?? nil, known: existing != nil)
        }
        return NFTTransaction(ops)
    }

    /// The operations turning `old` (what the last sync programmed) into `new`; empty when they are equal.
    public static func partialSync(from old: NFTRuleset, to new: NFTRuleset) -> NFTTransaction {
        var ops: [NFTOperation] = []
        for table in new.tables {
            if let before = old.tables.first(where: { $0.id == table.id }) {
                ops += partialSync(from: before, to: table)
            } else {
                ops += fullSync(table, existing: nil, known: false)
            }
        }
        for table in old.tables where !new.tables.contains(where: { $0.id == table.id }) {
            ops.append(.deleteTable(table.id))
        }
        return NFTTransaction(ops)
    }

    private static func fullSync(_ table: NFTTable, existing: NFTTable?, known: Bool) -> [NFTOperation] {
        let id = table.id
        let oldChains = Dictionary((existing?.chains ?? []).map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        let oldSets = Dictionary((existing?.sets ?? []).map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        let newChainNames = Set(table.chains.map(\.name))
        let newSetNames = Set(table.sets.map(\.name))
        var ops: [NFTOperation] = [.addTable(id, comment: table.comment)]

        for chain in table.chains {
            if let old = oldChains[chain.name], old.base != chain.base {
                ops += [.flushChain(id, chain: chain.name), .deleteChain(id, chain: chain.name)]
            }
            ops.append(.addChain(id, header(chain)))
        }
        for chain in table.chains where !known || oldChains[chain.name] != nil {
            ops.append(.flushChain(id, chain: chain.name))
        }
        let stale = (existing?.chains ?? []).filter { !newChainNames.contains($0.name) }.map(\.name)
        ops += stale.map { .flushChain(id, chain: $0) }

        for set in table.sets {
            let old = oldSets[set.name]
            if let old, header(old) != header(set) {
                ops += [.deleteSet(id, set: set.name), .addSet(id, header(set))]
                continue
            }
            ops.append(.addSet(id, header(set)))
            if !set.isDynamic && (!known || old != nil) { ops.append(.flushSet(id, set: set.name)) }
        }
        for chain in table.chains {
            ops += chain.rules.map { .addRule(id, chain: chain.name, $0) }
        }
        for set in table.sets where !set.elements.isEmpty {
            ops.append(.addElements(id, set: set.name, set.elements))
        }
        ops += stale.map { .deleteChain(id, chain: $0) }
        ops += (existing?.sets ?? []).filter { !newSetNames.contains($0.name) }.map { .deleteSet(id, set: $0.name) }
        return ops
    }

    private static func partialSync(from old: NFTTable, to new: NFTTable) -> [NFTOperation] {
        let id = new.id
        let oldSets = Dictionary(old.sets.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        let newSetNames = Set(new.sets.map(\.name))

        let addedSets = new.sets.filter { oldSets[$0.name] == nil }
        let redefinedSets = new.sets.filter { set in oldSets[set.name].map { header($0) != header(set) } ?? false }
        let redefinedNames = Set(redefinedSets.map(\.name))

        // Compiles list chains in a stable order, so most chains sit at the same index in both tables:
        // walk them side by side and hash names only where the two lists differ.
        var oldIndex: [String: Int]?
        func oldChain(_ name: String, at position: Int) -> NFTChain? {
            if position < old.chains.count, old.chains[position].name == name { return old.chains[position] }
            if oldIndex == nil {
                oldIndex = Dictionary(old.chains.enumerated().map { ($1.name, $0) }, uniquingKeysWith: { a, _ in a })
            }
            return oldIndex?[name].map { old.chains[$0] }
        }
        var addedChains: [NFTChain] = []
        var changedChains: [NFTChain] = []
        var matched = 0
        for (position, chain) in new.chains.enumerated() {
            guard let before = oldChain(chain.name, at: position) else { addedChains.append(chain); continue }
            matched += 1
            if before.rules != chain.rules || (!redefinedNames.isEmpty && references(chain, redefinedNames)) {
                changedChains.append(chain)
            }
        }
        // Every old chain matched a new one: nothing is stale (names are unique within a table).
        let staleChains: [String]
        if matched == old.chains.count {
            staleChains = []
        } else {
            let newChainNames = Set(new.chains.map(\.name))
            staleChains = old.chains.filter { !newChainNames.contains($0.name) }.map(\.name)
        }
        let staleSets = old.sets.filter { !newSetNames.contains($0.name) }.map(\.name)

        var ops: [NFTOperation] = []
        ops += addedChains.map { .addChain(id, header($0)) }
        ops += addedSets.map { .addSet(id, header($0)) }
        ops += changedChains.map { .flushChain(id, chain: $0.name) }
        ops += staleChains.map { .flushChain(id, chain: $0) }
        for set in redefinedSets { ops += [.deleteSet(id, set: set.name), .addSet(id, header(set))] }
        for chain in addedChains + changedChains {
            ops += chain.rules.map { .addRule(id, chain: chain.name, $0) }
        }

        var deletes: [NFTOperation] = []
        var adds: [NFTOperation] = []
        for set in new.sets {
            guard let before = oldSets[set.name], !redefinedNames.contains(set.name) else {
                if !set.elements.isEmpty { adds.append(.addElements(id, set: set.name, set.elements)) }
                continue
            }
            guard before.elements != set.elements else { continue }
            let oldByKey = Dictionary(before.elements.map { ($0.key, $0) }, uniquingKeysWith: { a, _ in a })
            let newByKey = Dictionary(set.elements.map { ($0.key, $0) }, uniquingKeysWith: { a, _ in a })
            let removed = before.elements.filter { newByKey[$0.key] != $0 }
            let added = set.elements.filter { oldByKey[$0.key] != $0 }
            if !removed.isEmpty { deletes.append(.deleteElements(id, set: set.name, removed)) }
            if !added.isEmpty { adds.append(.addElements(id, set: set.name, added)) }
        }
        ops += deletes + adds
        ops += staleChains.map { .deleteChain(id, chain: $0) }
        ops += staleSets.map { .deleteSet(id, set: $0) }
        return ops
    }

    /// A chain without rules.
    private static func header(_ chain: NFTChain) -> NFTChain {
        NFTChain(name: chain.name, comment: chain.comment, base: chain.base)
    }

    /// A set without elements.
    private static func header(_ set: NFTSet) -> NFTSet {
        var s = set
        s.elements = []
        return s
    }

    /// Whether a rule of `chain` names one of `sets`.
    private static func references(_ chain: NFTChain, _ sets: Set<String>) -> Bool {
        chain.rules.contains { rule in
            rule.expressions.contains { e in
                switch e {
                case .lookup(_, let s, _), .vmap(_, let s), .updateSet(let s, _), .numgenVmap(_, let s): sets.contains(s)
                default: false
                }
            }
        }
    }
}
