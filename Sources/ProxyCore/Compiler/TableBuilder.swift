/// Accumulates chains, sets and elements of one table while compiling; the first element for a key wins.
struct TableBuilder {
    let family: NFTFamily
    private var chains: [NFTChain] = []
    private var sets: [NFTSet] = []
    private var setIndex: [String: Int] = [:]
    private var elements: [[NFTElement]] = []
    private var elementKeys: [Set<[NFTValue]>] = []

    /// Names of the table's shared sets, when building one Service's fragment: their elements are kept
    /// apart (`sharedElements`), in order, the first for a key within the fragment winning.
    private var shared: Set<String> = []
    private var sharedElements: [(set: String, element: NFTElement)] = []
    private var sharedKeys: Set<SharedElementKey> = []

    private struct SharedElementKey: Hashable {
        var set: String
        var key: [NFTValue]
    }

    init(family: NFTFamily) { self.family = family }

    /// A builder for one Service's fragment in a table whose shared sets are `shared`.
    init(fragmentOf family: NFTFamily, shared: Set<String>) {
        self.family = family
        self.shared = shared
    }

    /// A builder holding `table`'s chains, sets and elements.
    init(skeleton table: NFTTable) {
        self.init(family: table.family)
        for chain in table.chains { chains.append(chain) }
        for set in table.sets {
            var header = set
            header.elements = []
            self.set(header)
            for element in set.elements { self.element(set.name, element) }
        }
    }

    mutating func chain(_ name: String, comment: String? = nil, base: NFTBaseChain? = nil, rules: [NFTRule]) {
        chains.append(NFTChain(name: name, comment: comment, base: base, rules: rules))
    }

    mutating func set(_ set: NFTSet) {
        setIndex[set.name] = sets.count
        sets.append(set)
        elements.append([])
        elementKeys.append([])
    }

    mutating func element(_ set: String, _ element: NFTElement) {
        if shared.contains(set) {
            if sharedKeys.insert(SharedElementKey(set: set, key: element.key)).inserted { sharedElements.append((set, element)) }
            return
        }
        guard let i = setIndex[set], elementKeys[i].insert(element.key).inserted else { return }
        elements[i].append(element)
    }

    func table(name: String, comment: String?) -> NFTTable {
        var out = sets
        for i in out.indices { out[i].elements = elements[i] }
        return NFTTable(family: family, name: name, comment: comment, chains: chains, sets: out)
    }
}

/// What one Service port adds to a table: its own chains and sets (with their elements), and its elements
/// of the shared maps (`service-ips`, `cluster-ips`, …), in the order the compiler added them.
struct ServiceFragment: Sendable {
    var chains: [NFTChain] = []
    var sets: [NFTSet] = []
    var sharedElements: [(set: String, element: NFTElement)] = []
    /// The order of the endpoints in their `numgen` slots (cluster-policy and local endpoints), which the next
    /// compile keeps: a removed endpoint's slot is refilled by the last one, new endpoints are appended.
    var clusterSlots: [EndpointInfo] = []
    var localSlots: [EndpointInfo] = []
}

extension TableBuilder {
    /// The fragment this builder holds: its own chains and sets, and its elements of the shared sets.
    func fragment() -> ServiceFragment {
        var out = ServiceFragment()
        out.chains = chains
        out.sharedElements = sharedElements
        for (i, set) in sets.enumerated() {
            var s = set
            s.elements = elements[i]
            out.sets.append(s)
        }
        return out
    }

    /// Adds a fragment: chains and own sets as they are, shared elements through `element` (so the first
    /// element for a key still wins).
    mutating func append(_ fragment: ServiceFragment) {
        chains += fragment.chains
        for set in fragment.sets {
            var header = set
            header.elements = []
            self.set(header)
            for element in set.elements { self.element(set.name, element) }
        }
        for (set, element) in fragment.sharedElements { self.element(set, element) }
    }

    /// The sets added so far.
    var currentSets: [NFTSet] { sets }
}
