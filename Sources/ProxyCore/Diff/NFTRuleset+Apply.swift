/// Why applying a transaction in memory failed (what the kernel would refuse).
public enum NFTApplyError: Error, Hashable, Sendable {
    case noSuchTable(NFTTableID)
    case noSuchChain(String)
    case noSuchSet(String)
    case noSuchElement(set: String, key: [NFTValue])
    case exists(String)
    /// A chain or set still has rules or is referenced.
    case busy(String)
}

extension NFTRuleset {
    /// This ruleset after `transaction`, checking each operation as the kernel would (missing objects,
    /// references to missing chains and sets, deleting referenced or non-empty chains). A fake kernel for tests.
    public func applying(_ transaction: NFTTransaction) throws(NFTApplyError) -> NFTRuleset {
        var result = self
        for op in transaction.operations { try result.apply(op) }
        return result
    }

    private mutating func apply(_ op: NFTOperation) throws(NFTApplyError) {
        switch op {
        case .addTable(let id, let comment):
            if !tables.contains(where: { $0.id == id }) {
                tables.append(NFTTable(family: id.family, name: id.name, comment: comment))
            }
        case .deleteTable(let id):
            guard tables.contains(where: { $0.id == id }) else { throw .noSuchTable(id) }
            tables.removeAll { $0.id == id }
        case .addChain(let id, let chain):
            try withTable(id) { t throws(NFTApplyError) in
                if let old = t.chain(chain.name) {
                    if old.base != chain.base { throw .exists(chain.name) }
                } else {
                    t.chains.append(NFTChain(name: chain.name, comment: chain.comment, base: chain.base))
                }
            }
        case .flushChain(let id, let name):
            try withTable(id) { t throws(NFTApplyError) in t.chains[try t.chainIndex(name)].rules = [] }
        case .deleteChain(let id, let name):
            try withTable(id) { t throws(NFTApplyError) in
                let i = try t.chainIndex(name)
                if !t.chains[i].rules.isEmpty || t.references(chain: name) { throw .busy(name) }
                t.chains.remove(at: i)
            }
        case .addSet(let id, let set):
            try withTable(id) { t throws(NFTApplyError) in
                if let old = t.set(set.name) {
                    var header = old; header.elements = []
                    var new = set; new.elements = []
                    if header != new { throw .exists(set.name) }
                } else {
                    var s = set; s.elements = []
                    t.sets.append(s)
                }
            }
        case .flushSet(let id, let name):
            try withTable(id) { t throws(NFTApplyError) in t.sets[try t.setIndex(name)].elements = [] }
        case .deleteSet(let id, let name):
            try withTable(id) { t throws(NFTApplyError) in
                let i = try t.setIndex(name)
                if t.references(set: name) { throw .busy(name) }
                t.sets.remove(at: i)
            }
        case .addRule(let id, let chain, let rule):
            try withTable(id) { t throws(NFTApplyError) in
                let i = try t.chainIndex(chain)
                for e in rule.expressions { try t.checkTargets(e) }
                t.chains[i].rules.append(rule)
            }
        case .addElements(let id, let set, let elements):
            try withTable(id) { t throws(NFTApplyError) in
                let i = try t.setIndex(set)
                for e in elements {
                    if case .verdict(let v)? = e.data, let c = v.chain { _ = try t.chainIndex(c) }
                    if let old = t.sets[i].elements.first(where: { $0.key == e.key }) {
                        if old.data != e.data { throw .exists("\(set) element") }
                        continue
                    }
                    t.sets[i].elements.append(e)
                }
            }
        case .deleteElements(let id, let set, let elements):
            try withTable(id) { t throws(NFTApplyError) in
                let i = try t.setIndex(set)
                for e in elements {
                    guard let j = t.sets[i].elements.firstIndex(where: { $0.key == e.key }) else {
                        throw .noSuchElement(set: set, key: e.key)
                    }
                    t.sets[i].elements.remove(at: j)
                }
            }
        }
    }

    private mutating func withTable(_ id: NFTTableID, _ body: (inout NFTTable) throws(NFTApplyError) -> Void) throws(NFTApplyError) {
        guard let i = tables.firstIndex(where: { $0.id == id }) else { throw .noSuchTable(id) }
        try body(&tables[i])
    }
}

extension NFTTable {
    fileprivate func chainIndex(_ name: String) throws(NFTApplyError) -> Int {
        guard let i = chains.firstIndex(where: { $0.name == name }) else { throw .noSuchChain(name) }
        return i
    }

    fileprivate func setIndex(_ name: String) throws(NFTApplyError) -> Int {
        guard let i = sets.firstIndex(where: { $0.name == name }) else { throw .noSuchSet(name) }
        return i
    }

    fileprivate func checkTargets(_ e: NFTExpression) throws(NFTApplyError) {
        switch e {
        case .lookup(_, let s, _), .vmap(_, let s), .updateSet(let s, _), .numgenVmap(_, let s): _ = try setIndex(s)
        case .verdict(let v): if let c = v.chain { _ = try chainIndex(c) }
        default: break
        }
    }

    fileprivate func references(chain name: String) -> Bool {
        chains.contains { c in
            c.rules.contains { r in
                r.expressions.contains { e in
                    switch e {
                    case .verdict(let v): v.chain == name
                    default: false
                    }
                }
            }
        } || sets.contains { s in s.elements.contains { if case .verdict(let v)? = $0.data { v.chain == name } else { false } } }
    }

    fileprivate func references(set name: String) -> Bool {
        chains.contains { c in
            c.rules.contains { r in
                r.expressions.contains { e in
                    switch e {
                    case .lookup(_, let s, _), .vmap(_, let s), .updateSet(let s, _), .numgenVmap(_, let s): s == name
                    default: false
                    }
                }
            }
        }
    }
}
