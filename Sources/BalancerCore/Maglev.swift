/// Maglev's lookup table (Eisenbud et al., NSDI 2016): `size` slots, a prime, each holding a backend index.
/// Every backend fills slots along its own permutation of the table (offset and skip from two hashes of
/// its name) in turn, so each gets about size/n slots, and adding or removing one backend moves few
/// slots of the others.
public struct MaglevTable: Sendable, Hashable {
    /// Slot → backend index.
    public let slots: [Int32]
    public var size: Int { slots.count }

    /// A table for backends called `names` (stable identities, e.g. `ip:port`) of the smallest prime size
    /// that is at least `minimumSize` and at least `slotsPerBackend` × their count. The size must not change
    /// with the backend count — a different size remaps every slot — so the minimum (65,537, the paper's
    /// default) keeps it fixed up to 655 backends.
    public init(names: [String], minimumSize: Int = 65_537, slotsPerBackend: Int = 100) {
        let size = MaglevTable.prime(atLeast: max(2, minimumSize, names.count * slotsPerBackend))
        guard !names.isEmpty else { slots = []; return }
        let m = UInt64(size)
        let offsets = names.map { MaglevTable.hash($0, seed: 0x9e37_79b9) % m }
        let skips = names.map { MaglevTable.hash($0, seed: 0x85eb_ca6b) % (m - 1) + 1 }
        var next = [UInt64](repeating: 0, count: names.count)
        var table = [Int32](repeating: -1, count: size)
        var filled = 0
        while true {
            for i in names.indices {
                var c = (offsets[i] &+ next[i] &* skips[i]) % m
                while table[Int(c)] >= 0 {
                    next[i] += 1
                    c = (offsets[i] &+ next[i] &* skips[i]) % m
                }
                table[Int(c)] = Int32(i)
                next[i] += 1
                filled += 1
                if filled == size { slots = table; return }
            }
        }
    }

    /// The backend index for a key hash.
    public func backend(for hash: UInt64) -> Int { Int(slots[Int(hash % UInt64(slots.count))]) }

    /// The smallest prime ≥ `n`.
    static func prime(atLeast n: Int) -> Int {
        var candidate = max(2, n)
        while !isPrime(candidate) { candidate += 1 }
        return candidate
    }

    static func isPrime(_ n: Int) -> Bool {
        if n < 2 { return false }
        if n < 4 { return true }
        if n % 2 == 0 || n % 3 == 0 { return false }
        var i = 5
        while i * i <= n {
            if n % i == 0 || n % (i + 2) == 0 { return false }
            i += 6
        }
        return true
    }

    /// FNV-1a of `text` mixed with `seed`, finished with a 64-bit avalanche (stable across processes).
    static func hash(_ text: String, seed: UInt64) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325 ^ seed
        for byte in text.utf8 { h = (h ^ UInt64(byte)) &* 0x100_0000_01b3 }
        return mix(h)
    }

    /// A 64-bit finaliser (splitmix64's).
    public static func mix(_ value: UInt64) -> UInt64 {
        var z = value &+ 0x9e37_79b9_7f4a_7c15
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
}
