/// An ordered list of changes to apply to the kernel as one atomic netlink batch (all or nothing).
///
/// The order is valid as given: creations (tables, chains, sets) come before the rules and elements that
/// reference them, and deletions of chains/sets come after everything referencing them was flushed or deleted.
public struct NFTTransaction: Hashable, Sendable {
    public var operations: [NFTOperation]

    public init(_ operations: [NFTOperation] = []) { self.operations = operations }

    /// Whether there is nothing to do.
    public var isEmpty: Bool { operations.isEmpty }
}

/// One change in a transaction.
public enum NFTOperation: Hashable, Sendable {
    /// Create the table if it does not exist (`add table`; NEWTABLE without `NLM_F_EXCL`).
    case addTable(NFTTableID, comment: String?)
    /// Delete the table and everything in it.
    case deleteTable(NFTTableID)
    /// Create the chain if missing (`add chain`, with hook/type/priority/policy for base chains). Only name,
    /// comment and base are used; rules come as `.addRule`.
    case addChain(NFTTableID, NFTChain)
    /// Remove every rule of a chain.
    case flushChain(NFTTableID, chain: String)
    /// Delete an (already flushed, unreferenced) chain.
    case deleteChain(NFTTableID, chain: String)
    /// Create the set or map if missing. Elements are not used; they come as `.addElements`.
    case addSet(NFTTableID, NFTSet)
    /// Remove every element of a set or map.
    case flushSet(NFTTableID, set: String)
    /// Delete an unreferenced set or map.
    case deleteSet(NFTTableID, set: String)
    /// Append a rule at the end of a chain.
    case addRule(NFTTableID, chain: String, NFTRule)
    /// Add elements to a set or map.
    case addElements(NFTTableID, set: String, [NFTElement])
    /// Delete elements (matched by key) from a set or map.
    case deleteElements(NFTTableID, set: String, [NFTElement])
}
