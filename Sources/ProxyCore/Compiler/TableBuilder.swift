/// Accumulates chains, sets and elements of one table while compiling; the first element for a key wins.
struct TableBuilder {
    let family: NFTFamily
    private var chains: [NFTChain] = []
    private var sets: [NFTSet] = []
    private var setIndex: [String: Int] = [:]
    private var elements: [[NFTElement]] = []
    private var elementKeys: [Set<[NFTValue]>] = []

    init(family: NFTFamily) { self.family = family }

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
    /// A builder for one Service's fragment: the shared sets are known (so their elements are kept) but
    /// are not part of the fragment.
    static func forFragment(family: NFTFamily, sharedSets: [NFTSet]) -> TableBuilder {
        var b = TableBuilder(family: family)
        for set in sharedSets { b.set(NFTSet(name: set.name, keyType: set.keyType, dataTypes: set.dataTypes)) }
        return b
    }

    /// The fragment this builder holds beyond the `shared` sets it was made with.
    func fragment(shared: Set<String>) -> ServiceFragment {
        var out = ServiceFragment()
        out.chains = chains
        for (i, set) in sets.enumerated() {
            if shared.contains(set.name) {
                out.sharedElements += elements[i].map { (set.name, $0) }
            } else {
                var s = set
                s.elements = elements[i]
                out.sets.append(s)
            }
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
