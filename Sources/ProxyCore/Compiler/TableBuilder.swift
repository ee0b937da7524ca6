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
    private var balanced: [BalancedKey] = []

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

    /// Records `key` as balanced by elements over the fragment's cluster or local endpoints.
    mutating func balance(_ key: [NFTValue], local: Bool, nodePort: Bool, comment: String, unique: Bool) {
        balanced.append(BalancedKey(key: key, local: local, nodePort: nodePort, comment: comment, unique: unique))
    }

    /// Adds an element no other fragment can add (see `BalancedKey.unique`), without the first-wins check.
    private mutating func uniqueElement(_ set: String, _ element: NFTElement) {
        guard let i = setIndex[set] else { return }
        elements[i].append(element)
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
    /// Address tuples balanced by elements, kept in this compact form: each is a member of `lb-N` (N its
    /// endpoint count) and has its endpoints in slots 0..<N of the endpoints map. Expanded into elements
    /// only when a ruleset is assembled or a fragment diffed, so a fragment holds its endpoints once rather
    /// than once per address and slot.
    var balanced: [BalancedKey] = []

    /// `sharedElements` with the balanced tuples expanded into their `lb-N` and endpoint-slot elements.
    var allSharedElements: [(set: String, element: NFTElement)] {
        var out = sharedElements
        expandBalanced { set, element, _ in out.append((set, element)) }
        return out
    }

    /// Calls `body` with each element of the balanced tuples (set, element, whether its key is unique).
    func expandBalanced(_ body: (String, NFTElement, Bool) -> Void) {
        for b in balanced {
            let endpoints = b.local ? localSlots : clusterSlots
            body(b.nodePort ? NFTNames.balancedNodePorts(endpoints.count) : NFTNames.balancedServices(endpoints.count),
                 NFTElement(key: b.key, comment: b.comment), b.unique)
            let map = b.nodePort ? NFTNames.nodePortEndpoints : NFTNames.serviceEndpoints
            for (slot, ep) in endpoints.enumerated() {
                body(map, NFTElement(key: b.key + [.integer(UInt32(slot))], data: .values([.address(ep.address), .port(ep.port)]),
                                     comment: b.comment), b.unique)
            }
        }
    }

    /// Elements this fragment adds to the shared sets (its balanced tuples expanded).
    var sharedElementCount: Int {
        sharedElements.count + balanced.reduce(0) { $0 + 1 + ($1.local ? localSlots : clusterSlots).count }
    }
}

/// An address tuple (address . protocol . port, or protocol . NodePort) balanced by elements over the
/// fragment's cluster or local endpoints.
struct BalancedKey: Hashable, Sendable {
    var key: [NFTValue]
    var local: Bool
    var nodePort: Bool
    var comment: String
    /// The key is the Service's own (its ClusterIP or NodePort, which the API server hands out once), so no
    /// other fragment can add elements with it: assembling skips the first-wins check for its elements.
    var unique: Bool
}

extension TableBuilder {
    /// The fragment this builder holds: its own chains and sets, and its elements of the shared sets.
    func fragment() -> ServiceFragment {
        var out = ServiceFragment()
        out.chains = chains
        out.sharedElements = sharedElements
        out.balanced = balanced
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
        fragment.expandBalanced { set, element, unique in
            if unique { uniqueElement(set, element) } else { self.element(set, element) }
        }
    }
}
