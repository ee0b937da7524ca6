/// Accumulates chains, sets and elements of one table while compiling; the first element for a key wins.
struct TableBuilder {
    let family: NFTFamily
    private var chains: [NFTChain] = []
    private var sets: [NFTSet] = []
    private var setIndex: [String: Int] = [:]
    private var elements: [[NFTElement]] = []
    private var elementKeys: [Set<[NFTValue]>] = []

    init(family: NFTFamily) { self.family = family }

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
