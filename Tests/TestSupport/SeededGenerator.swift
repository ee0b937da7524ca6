import Glibc

/// SplitMix64: a small, fast generator whose whole sequence follows from its seed, so a property test
/// that fails can be replayed exactly.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    public let seed: UInt64
    private var state: UInt64

    public init(seed: UInt64) { self.seed = seed; state = seed }

    /// A generator for the property test `name`: seeded from `KPROXY_TEST_SEED` when set, else at random;
    /// the seed is printed, so any run can be replayed with `KPROXY_TEST_SEED=<seed> swift test --filter …`.
    public static func forTest(_ name: String) -> SeededGenerator {
        let seed = getenv("KPROXY_TEST_SEED").flatMap { UInt64(String(cString: $0)) } ?? UInt64.random(in: 0...UInt64.max)
        print("\(name): seed \(seed) (replay with KPROXY_TEST_SEED=\(seed))")
        return SeededGenerator(seed: seed)
    }

    public mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
}
