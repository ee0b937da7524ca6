/// NodePorts of one port range (upstream default 30000-32767). Dynamic allocation prefers
/// ports above a low band kept for explicitly requested ports, as upstream does.
public struct PortAllocator: Hashable, Sendable {
    /// The default `--service-node-port-range`.
    public static let defaultRange: ClosedRange<Int> = 30000...32767

    public let range: ClosedRange<Int>
    private var bitmap: BitmapAllocator
    /// Offsets below this are handed out dynamically only when the rest is full.
    public let reservedBand: Int

    public init(range: ClosedRange<Int> = PortAllocator.defaultRange, seed: UInt64 = 0) {
        self.range = range
        self.bitmap = BitmapAllocator(size: range.count, seed: seed)
        self.reservedBand = PortAllocator.rangeOffset(size: range.count)
    }

    /// Upstream's `min(max(16, size/32), 128)` static band (0 for ranges under 16 ports).
    static func rangeOffset(size: Int) -> Int {
        if size < 16 { return 0 }
        return min(max(16, size / 32), 128)
    }

    /// `30000-32767`, as error messages print it.
    public var rangeDescription: String { "\(range.lowerBound)-\(range.upperBound)" }

    public var used: Int { bitmap.count }
    public var free: Int { bitmap.freeCount }

    public func has(_ port: Int) -> Bool {
        range.contains(port) && bitmap.has(port - range.lowerBound)
    }

    /// Allocates a specific port (a Service that asks for its `nodePort`).
    public mutating func allocate(specific port: Int) throws(AllocationError) {
        guard range.contains(port) else { throw .portNotInRange(validRange: rangeDescription) }
        guard bitmap.allocate(port - range.lowerBound) else { throw .portAlreadyAllocated }
    }

    /// Allocates some free port.
    public mutating func allocateNext() throws(AllocationError) -> Int {
        guard let i = bitmap.allocateNext(reservedBelow: reservedBand) else { throw .full }
        return range.lowerBound + i
    }

    /// Frees a port; unknown or free ports are ignored.
    public mutating func release(_ port: Int) {
        if range.contains(port) { bitmap.release(port - range.lowerBound) }
    }

    /// Forgets all allocations and marks `ports` allocated; returns the ports out of range.
    @discardableResult
    public mutating func rebuild(from ports: [Int]) -> [Int] {
        bitmap.reset()
        var outside: [Int] = []
        for port in ports {
            if range.contains(port) { bitmap.allocate(port - range.lowerBound) } else { outside.append(port) }
        }
        return outside
    }

    /// All allocated ports, ascending.
    public var allocated: [Int] { bitmap.allocated.map { $0 + range.lowerBound } }
}
