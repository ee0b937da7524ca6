extension RulesetDiff {
    /// The operations turning what `old` programmed into `new`, where `new` was compiled from `old`: only
    /// the fragments that compile changed are compared, so the cost follows what changed, not the size of
    /// the ruleset. Elements shared by several fragments are added on their first reference and deleted
    /// with their last. When the two differ in more than fragments (configuration, node, mode) or `new` does
    /// not know what changed, the whole rulesets are compared instead.
    public static func partialSync(from old: CompiledRuleset, to new: CompiledRuleset) -> NFTTransaction {
        guard new.base == old.generation, old.sameSkeleton(as: new), let tx = partialSync(to: new, fromGeneration: old.generation) else {
            return partialSync(from: old.ruleset, to: new.ruleset)
        }
        return tx
    }

    /// The operations turning the compile of generation `fromGeneration` (what the kernel holds) into `new`,
    /// from what `new` recorded of the fragments it replaced; nil when `new` was not compiled from that
    /// generation or does not know what changed (then only a full sync is exact).
    public static func partialSync(to new: CompiledRuleset, fromGeneration: UInt64) -> NFTTransaction? {
        guard new.base == fromGeneration, let changed = new.changed else { return nil }
        var ops: [NFTOperation] = []
        for skeleton in new.skeletons {
            let keys = changed.filter { $0.family == skeleton.family }.sorted()
            guard !keys.isEmpty else { continue }
            var plan = FragmentPlan(table: skeleton.id)
            for key in keys {
                plan.add(from: new.replacedFragments[key], to: new.entries[key]?.fragment, family: key.family,
                         oldCounts: new.previousCounts, newCounts: new.sharedCounts)
            }
            ops += plan.operations
        }
        return NFTTransaction(ops)
    }
}

/// The operations of one table's changed fragments, gathered by kind so they run in an order the kernel
/// accepts: new chains and sets first, then flushes and rules, element deletes before adds, stale chains
/// and sets last (after nothing refers to them).
private struct FragmentPlan {
    let table: NFTTableID
    var addChains: [NFTChain] = []
    var flushChains: [String] = []
    var rules: [(String, NFTRule)] = []
    var addSets: [NFTSet] = []
    var redefineSets: [NFTSet] = []
    var deleteChains: [String] = []
    var deleteSets: [String] = []
    var deletes: [String: [NFTElement]] = [:]
    var adds: [String: [NFTElement]] = [:]
    var setOrder: [String] = []
    var sharedSeen: Set<CompiledRuleset.SharedKey> = []

    init(table: NFTTableID) { self.table = table }

    mutating func add(from old: ServiceFragment?, to new: ServiceFragment?, family: NFTFamily,
                      oldCounts: [CompiledRuleset.SharedKey: Int], newCounts: [CompiledRuleset.SharedKey: Int]) {
        // Chains.
        let before = Dictionary((old?.chains ?? []).map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        let after = Set((new?.chains ?? []).map(\.name))
        for chain in new?.chains ?? [] {
            if let was = before[chain.name] {
                guard was != chain else { continue }
                flushChains.append(chain.name)
            } else {
                addChains.append(NFTChain(name: chain.name, comment: chain.comment, base: chain.base))
            }
            rules += chain.rules.map { (chain.name, $0) }
        }
        for chain in old?.chains ?? [] where !after.contains(chain.name) {
            flushChains.append(chain.name)
            deleteChains.append(chain.name)
        }
        // Sets of the fragment's own (affinity, pick maps).
        let oldSets = Dictionary((old?.sets ?? []).map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        let newSetNames = Set((new?.sets ?? []).map(\.name))
        for set in new?.sets ?? [] {
            var header = set
            header.elements = []
            if let was = oldSets[set.name] {
                var wasHeader = was
                wasHeader.elements = []
                if wasHeader != header {
                    redefineSets.append(header)
                    if !set.isDynamic { elements(set.name, added: set.elements) }
                } else if !set.isDynamic {
                    diff(set.name, was.elements, set.elements)
                }
            } else {
                addSets.append(header)
                if !set.isDynamic { elements(set.name, added: set.elements) }
            }
        }
        for set in old?.sets ?? [] where !newSetNames.contains(set.name) { deleteSets.append(set.name) }
        // Elements of the shared sets and maps.
        var oldShared: [String: [NFTElement]] = [:], newShared: [String: [NFTElement]] = [:]
        for (set, element) in old?.allSharedElements ?? [] { oldShared[set, default: []].append(element) }
        for (set, element) in new?.allSharedElements ?? [] { newShared[set, default: []].append(element) }
        for set in Set(oldShared.keys).union(newShared.keys).sorted() {
            let a = oldShared[set] ?? [], b = newShared[set] ?? []
            guard CompiledRuleset.sharedSets.contains(set) else {
                diff(set, a, b)
                continue
            }
            for element in a + b {
                let key = CompiledRuleset.SharedKey(family: family, set: set, key: element.key)
                guard sharedSeen.insert(key).inserted else { continue }
                let was = oldCounts[key] ?? 0, now = newCounts[key] ?? 0
                if was > 0 && now == 0 { record(delete: true, set, element) }
                if was == 0 && now > 0 { record(delete: false, set, element) }
            }
        }
    }

    /// Elements of `set` that differ between `a` and `b`, by key: gone ones deleted, new ones added,
    /// changed ones (data or comment) deleted and added again.
    private mutating func diff(_ set: String, _ a: [NFTElement], _ b: [NFTElement]) {
        guard a != b else { return }
        let was = Dictionary(a.map { ($0.key, $0) }, uniquingKeysWith: { x, _ in x })
        let now = Dictionary(b.map { ($0.key, $0) }, uniquingKeysWith: { x, _ in x })
        for element in a where now[element.key] != element { record(delete: true, set, element) }
        for element in b where was[element.key] != element { record(delete: false, set, element) }
    }

    private mutating func elements(_ set: String, added: [NFTElement]) {
        for element in added { record(delete: false, set, element) }
    }

    private mutating func record(delete: Bool, _ set: String, _ element: NFTElement) {
        if deletes[set] == nil && adds[set] == nil { setOrder.append(set) }
        if delete { deletes[set, default: []].append(element) } else { adds[set, default: []].append(element) }
    }

    var operations: [NFTOperation] {
        var ops: [NFTOperation] = []
        ops += addChains.map { .addChain(table, $0) }
        ops += addSets.map { .addSet(table, $0) }
        ops += flushChains.map { .flushChain(table, chain: $0) }
        for set in redefineSets { ops += [.deleteSet(table, set: set.name), .addSet(table, set)] }
        ops += rules.map { .addRule(table, chain: $0.0, $0.1) }
        for set in setOrder { if let d = deletes[set], !d.isEmpty { ops.append(.deleteElements(table, set: set, d)) } }
        for set in setOrder { if let a = adds[set], !a.isEmpty { ops.append(.addElements(table, set: set, a)) } }
        ops += deleteChains.map { .deleteChain(table, chain: $0) }
        ops += deleteSets.map { .deleteSet(table, set: $0) }
        return ops
    }
}
