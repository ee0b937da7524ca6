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

        // Compiles list chains in a stable order, so the two lists mostly line up: walk them side by side,
        // stepping over short runs of added or removed chains, and settle whatever did not line up by name
        // at the end (names are unique in a table, so that settling is exact whatever the order).
        let pairs = alignChains(old.chains, new.chains)
        var changedChains: [NFTChain] = []
        for (before, chain) in pairs.matched {
            if before.rules != chain.rules || (!redefinedNames.isEmpty && references(chain, redefinedNames)) {
                changedChains.append(chain)
            }
        }
        let addedChains = pairs.added
        let staleChains = pairs.removed.map(\.name)
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
            // An element whose data or comment changed is deleted and added again.
            let pairs = align(before.elements, set.elements, key: \.key)
            var removed = pairs.removed, added = pairs.added
            for (old, new) in pairs.matched where old != new {
                removed.append(old)
                added.append(new)
            }
            if !removed.isEmpty { deletes.append(.deleteElements(id, set: set.name, removed)) }
            if !added.isEmpty { adds.append(.addElements(id, set: set.name, added)) }
        }
        ops += deletes + adds
        ops += staleChains.map { .deleteChain(id, chain: $0) }
        ops += staleSets.map { .deleteSet(id, set: $0) }
        return ops
    }

    /// Old and new chains paired by name (see `align`).
    static func alignChains(_ old: [NFTChain], _ new: [NFTChain])
        -> (matched: [(NFTChain, NFTChain)], added: [NFTChain], removed: [NFTChain]) {
        align(old, new, key: \.name)
    }

    /// Old and new items paired by key: a side-by-side walk that resynchronises within a small window (a
    /// compile lists chains and elements in a stable order, so the lists mostly line up), then an exact
    /// match by key of the leftovers. Keys must be unique within each list.
    static func align<T, K: Hashable>(_ old: [T], _ new: [T], key: (T) -> K)
        -> (matched: [(T, T)], added: [T], removed: [T]) {
        let window = 64
        var matched: [(T, T)] = []
        matched.reserveCapacity(min(old.count, new.count))
        var leftoverOld: [T] = []
        var leftoverNew: [T] = []
        var i = 0, j = 0
        while i < new.count && j < old.count {
            let newKey = key(new[i]), oldKey = key(old[j])
            if newKey == oldKey {
                matched.append((old[j], new[i]))
                i += 1; j += 1
                continue
            }
            // Items removed before new[i]?
            if let k = (j + 1..<min(old.count, j + 1 + window)).first(where: { key(old[$0]) == newKey }) {
                leftoverOld += old[j..<k]
                j = k
                continue
            }
            // Items added before old[j]?
            if let k = (i + 1..<min(new.count, i + 1 + window)).first(where: { key(new[$0]) == oldKey }) {
                leftoverNew += new[i..<k]
                i = k
                continue
            }
            // One replaced by another.
            leftoverNew.append(new[i]); leftoverOld.append(old[j])
            i += 1; j += 1
        }
        leftoverNew += new[i...]
        leftoverOld += old[j...]
        var oldByKey = Dictionary(leftoverOld.map { (key($0), $0) }, uniquingKeysWith: { a, _ in a })
        var added: [T] = []
        for item in leftoverNew {
            if let before = oldByKey.removeValue(forKey: key(item)) { matched.append((before, item)) } else { added.append(item) }
        }
        let removed = leftoverOld.filter { oldByKey[key($0)] != nil }
        return (matched, added, removed)
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
