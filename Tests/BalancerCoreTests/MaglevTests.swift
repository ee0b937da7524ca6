import Testing

@testable import BalancerCore

@Suite struct MaglevTests {
    static func names(_ n: Int, from: Int = 0) -> [String] { (from..<(from + n)).map { "10.244.\($0 / 200).\($0 % 200 + 2):8080" } }

    @Test(arguments: [1, 3, 10, 50])
    func tableIsPrimeAndFair(n: Int) {
        let t = MaglevTable(names: Self.names(n))
        #expect(MaglevTable.isPrime(t.size) && t.size >= 100 * n)
        #expect(MaglevTable(names: Self.names(n + 1)).size == t.size, "the size does not change with the count")
        #expect(MaglevTable(names: Self.names(1000)).size >= 100_000)
        var counts = [Int](repeating: 0, count: n)
        for s in t.slots { counts[Int(s)] += 1 }
        // Maglev's round-robin fill gives every backend ⌊M/n⌋ or ⌈M/n⌉ slots.
        let low = t.size / n
        #expect(counts.allSatisfy { $0 == low || $0 == low + 1 }, "\(counts)")
    }

    /// Removing one of n backends: its slots move (necessarily); of the others' slots, few move. The paper
    /// measures a few percent at 100 slots per backend; this bound is 5%.
    @Test(arguments: [5, 10, 40])
    func removingABackendMovesLittleElse(n: Int) {
        let before = Self.names(n)
        let removed = n / 2
        let after = before.enumerated().filter { $0.offset != removed }.map(\.element)
        let t0 = MaglevTable(names: before), t1 = MaglevTable(names: after)
        var moved = 0, kept = 0
        for h in 0..<UInt64(100_000) {
            let key = MaglevTable.mix(h)
            let old = before[t0.backend(for: key)], new = after[t1.backend(for: key)]
            guard old != before[removed] else { continue }
            kept += 1
            if old != new { moved += 1 }
        }
        let fraction = Double(moved) / Double(kept)
        #expect(fraction <= 0.05, "n=\(n): \(fraction * 100)% of other clients moved")
    }

    @Test(arguments: [5, 20])
    func addingABackendTakesAboutItsShare(n: Int) {
        let before = Self.names(n), after = Self.names(n + 1)
        let t0 = MaglevTable(names: before), t1 = MaglevTable(names: after)
        var moved = 0, total = 0
        for h in 0..<UInt64(100_000) {
            let key = MaglevTable.mix(h)
            total += 1
            if before[t0.backend(for: key)] != after[t1.backend(for: key)] { moved += 1 }
        }
        let fraction = Double(moved) / Double(total), ideal = 1 / Double(n + 1)
        #expect(fraction >= ideal * 0.8 && fraction <= ideal + 0.05, "n=\(n): \(fraction * 100)% moved, ideal \(ideal * 100)%")
    }

    @Test func aClientKeepsItsBackendAndFallsBackDeterministically() {
        let set = BC.set(6, .maglev)
        var random = FastRandom(seed: 1)
        let client = BC.client(42)
        let first = set.pick(client: client, now: 0, random: &random)
        for _ in 0..<20 { #expect(set.pick(client: client, now: 0, random: &random) === first) }
        guard let first else { Issue.record("no pick"); return }
        let fallback = set.pick(client: client, now: 0, excluding: [first], random: &random)
        #expect(fallback != nil && fallback !== first)
        #expect(set.pick(client: client, now: 0, excluding: [first], random: &random) === fallback)
    }
}
