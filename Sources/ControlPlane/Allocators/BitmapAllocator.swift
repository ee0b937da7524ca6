/// A set of `size` slots (offsets `0..<size`) backed by a bitmap. `allocateNext` picks a
/// pseudo-random start and scans forward, wrapping, like upstream's random-scan strategy;
/// the generator is seeded so results are reproducible in tests.
public struct BitmapAllocator: Hashable, Sendable {
    public let size: Int
    private var words: [UInt64]
    /// Number of allocated slots.
    public private(set) var count: Int = 0
    private var random: SplitMix64

    /// An empty allocator of `size` slots (negative sizes are treated as 0).
    public init(size: Int, seed: UInt64 = 0) {
        self.size = max(0, size)
        self.words = Array(repeating: 0, count: (self.size + 63) / 64)
        self.random = SplitMix64(seed: seed)
    }

    /// Number of free slots.
    public var freeCount: Int { size - count }

    /// True if `offset` is allocated (false when out of range).
    public func has(_ offset: Int) -> Bool {
        guard (0..<size).contains(offset) else { return false }
        return words[offset / 64] & (1 << UInt64(offset % 64)) != 0
    }

    /// Marks `offset` allocated; false if it was already taken or is out of range.
    @discardableResult
    public mutating func allocate(_ offset: Int) -> Bool {
        guard (0..<size).contains(offset), !has(offset) else { return false }
        words[offset / 64] |= 1 << UInt64(offset % 64)
        count += 1
        return true
    }

    /// Frees `offset`; releasing a free or out-of-range offset does nothing.
    public mutating func release(_ offset: Int) {
        guard has(offset) else { return }
        words[offset / 64] &= ~(1 << UInt64(offset % 64))
        count -= 1
    }

    /// Allocates a free slot, or nil when full. Slots below `reservedBelow` (the band kept for
    /// static allocation, upstream's range offset) are used only when the rest is full.
    public mutating func allocateNext(reservedBelow: Int = 0) -> Int? {
        guard count < size else { return nil }
        let split = min(max(0, reservedBelow), size)
        for band in [split..<size, 0..<split] where !band.isEmpty {
            let start = band.lowerBound + Int(random.next() % UInt64(band.count))
            if let found = firstFree(in: band, from: start) {
                allocate(found)
                return found
            }
        }
        return nil
    }

    /// The first free slot at or after `start` within `band`, wrapping to the band's start.
    public func firstFree(in band: Range<Int>, from start: Int) -> Int? {
        let band = band.clamped(to: 0..<size)
        guard !band.isEmpty else { return nil }
        let start = band.contains(start) ? start : band.lowerBound
        return scan(start..<band.upperBound) ?? scan(band.lowerBound..<start)
    }

    private func scan(_ range: Range<Int>) -> Int? {
        var i = range.lowerBound
        while i < range.upperBound {
            if i % 64 == 0 && words[i / 64] == UInt64.max {
                i += 64
                continue
            }
            if !has(i) { return i }
            i += 1
        }
        return nil
    }

    /// Every allocated offset, ascending.
    public var allocated: [Int] {
        var out: [Int] = []
        out.reserveCapacity(count)
        for (w, word) in words.enumerated() where word != 0 {
            for bit in 0..<64 where word & (1 << UInt64(bit)) != 0 {
                out.append(w * 64 + bit)
            }
        }
        return out
    }

    /// Frees everything.
    public mutating func reset() {
        words = Array(repeating: 0, count: words.count)
        count = 0
    }
}

/// A tiny deterministic generator (SplitMix64) so allocation order is reproducible.
struct SplitMix64: Hashable, Sendable {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
