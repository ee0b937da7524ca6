import KubeAPI

/// What a compile produced, kept between syncs as a plain value: per family the skeleton (base chains, the
/// fixed dispatch chains, set headers and their node-level elements) and per Service port its fragment with
/// the inputs it was compiled from. The compiler takes the previous value and returns the next one, so a sync
/// recompiles only the Service ports whose inputs changed, and `RulesetDiff.partialSync(from:to:)` diffs
/// only their fragments — no walk over the whole ruleset.
///
/// Elements several fragments can add (a ClusterIP shared by a Service's ports, `endpoint . endpoint` of a
/// pod behind several Services) are reference counted, so removing one fragment keeps the element while
/// another still needs it.
public struct CompiledRuleset: Sendable {
    struct Key: Hashable, Sendable, Comparable {
        var family: NFTFamily
        var name: ServicePortName
        static func < (a: Key, b: Key) -> Bool { (a.family, a.name) < (b.family, b.name) }
    }

    struct Entry: Sendable {
        var service: ServicePortInfo
        var endpoints: [EndpointInfo]
        /// Userspace mode: the listener ports the fragment hands traffic to.
        var ports: [UInt16?]
        var fragment: ServiceFragment
    }

    /// A reference-counted element: its table, set and key (the keys of these sets have one or two values;
    /// kept apart rather than as an array, so hashing the counts stays cheap).
    struct SharedKey: Hashable, Sendable {
        var family: NFTFamily
        var hairpin: Bool
        var first: NFTValue?
        var second: NFTValue?

        init(family: NFTFamily, set: String, key: [NFTValue]) {
            self.family = family
            hairpin = set == NFTNames.hairpinEndpoints
            first = key.first
            second = key.count > 1 ? key[1] : nil
        }
    }

    /// Sets whose elements several fragments may add.
    static let sharedSets: Set<String> = [NFTNames.clusterIPs, NFTNames.hairpinEndpoints]

    let config: ProxyConfig
    let node: NodeInfo
    let userspace: Bool
    var skeletons: [NFTTable]
    var entries: [Key: Entry]
    var sharedCounts: [SharedKey: Int]
    /// The fragments this compile replaced, added or removed, relative to the value it was compiled from
    /// (`base`); nil when unknown (a compile from nothing, or after the configuration or node changed).
    var changed: Set<Key>?
    /// What those fragments were before (absent: the Service port was not compiled then), and the reference
    /// counts of the shared elements they touched before (absent: 0): all a partial diff needs of the past.
    var replacedFragments: [Key: ServiceFragment] = [:]
    var previousCounts: [SharedKey: Int] = [:]
    /// Counts compiles: `base` is the generation of the value this one was compiled from, so a partial diff
    /// can check it is given the pair it expects.
    public internal(set) var generation: UInt64 = 0
    var base: UInt64?

    /// The whole ruleset: the skeletons with every fragment (Services in name order). O(everything): for
    /// full syncs, tests and the text form, not for partial syncs.
    public var ruleset: NFTRuleset {
        var builders = skeletons.map { TableBuilder(skeleton: $0) }
        for key in entries.keys.sorted() {
            guard let entry = entries[key], let i = skeletons.firstIndex(where: { $0.family == key.family }) else { continue }
            builders[i].append(entry.fragment)
        }
        return NFTRuleset(tables: zip(skeletons, builders).map { $1.table(name: $0.name, comment: $0.comment) })
    }

    /// Number of Service port fragments held (over all families).
    public var fragmentCount: Int { entries.count }

    /// Service ports whose fragments the last compile changed (nil: everything may have changed).
    public var changedServices: Set<ServicePortName>? { changed.map { Set($0.map(\.name)) } }

    /// Whether this was compiled with `config` for `node`.
    public func compiled(config: ProxyConfig, node: NodeInfo) -> Bool { self.config == config && self.node == node }

    /// Whether `other` was compiled with the same configuration, node, mode and skeletons, so the two differ
    /// only in fragments.
    func sameSkeleton(as other: CompiledRuleset) -> Bool {
        config == other.config && node == other.node && userspace == other.userspace && skeletons == other.skeletons
    }

    /// Chains, rules and set elements the ruleset holds (shared elements once), kept as fragments come and go.
    public struct Size: Hashable, Sendable {
        public var chains = 0, rules = 0, elements = 0
    }

    /// The fragments' part of `size`; shared elements are counted by `sharedCounts`.
    var fragmentSize = Size()

    /// What the whole ruleset holds, without assembling it.
    public var size: Size {
        var total = fragmentSize
        for table in skeletons {
            total.chains += table.chains.count
            total.rules += table.chains.reduce(0) { $0 + $1.rules.count }
            total.elements += table.sets.reduce(0) { $0 + $1.elements.count }
        }
        total.elements += sharedCounts.count
        return total
    }

    /// Starts recording what this compile changes.
    mutating func beginDelta() {
        changed = []
        replacedFragments = [:]
        previousCounts = [:]
    }

    /// Puts `entry` (nil: nothing) in place of what `key` had, recording the change.
    mutating func replace(_ key: Key, with entry: Entry?) {
        let old = entries[key]
        if changed?.insert(key).inserted == true, let old { replacedFragments[key] = old.fragment }
        if let old { count(old.fragment, family: key.family, by: -1) }
        if let entry { count(entry.fragment, family: key.family, by: 1) }
        entries[key] = entry
    }

    /// Counts `fragment` up (`by: 1`) or down (`by: -1`): its shared elements' references and its size.
    mutating func count(_ fragment: ServiceFragment, family: NFTFamily, by delta: Int) {
        fragmentSize.chains += delta * fragment.chains.count
        fragmentSize.rules += delta * fragment.chains.reduce(0) { $0 + $1.rules.count }
        fragmentSize.elements += delta * fragment.sets.reduce(0) { $0 + $1.elements.count }
        fragmentSize.elements += delta * (fragment.sharedElementCount - fragment.sharedElements.count)
        for (set, element) in fragment.sharedElements {
            guard Self.sharedSets.contains(set) else {
                fragmentSize.elements += delta
                continue
            }
            let key = SharedKey(family: family, set: set, key: element.key)
            if changed != nil && previousCounts[key] == nil { previousCounts[key] = sharedCounts[key] ?? 0 }
            let n = sharedCounts[key, default: 0] + delta
            sharedCounts[key] = n > 0 ? n : nil
        }
    }
}
