/// What a loop timer does when it fires.
enum TimerAction {
    /// Try `attempt` of `relay`'s connect took too long.
    case connectTimeout(Relay, attempt: Int)
    /// Close UDP sessions idle past the timeout.
    case udpSweep
    /// The drain deadline passed.
    case drainDeadline
}

/// A binary min-heap of deadlines (monotonic ns). Stale timers (a connect that finished) stay until they
/// fire and are ignored then: cheaper than removal.
struct TimerHeap {
    private var items: [(deadline: Int64, seq: UInt64, action: TimerAction)] = []
    private var seq: UInt64 = 0

    var isEmpty: Bool { items.isEmpty }
    var next: Int64? { items.first?.deadline }

    mutating func add(_ deadline: Int64, _ action: TimerAction) {
        seq &+= 1
        items.append((deadline, seq, action))
        var i = items.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            guard less(i, parent) else { break }
            items.swapAt(i, parent)
            i = parent
        }
    }

    /// Removes and returns the earliest timer if it is due at `now`.
    mutating func popDue(_ now: Int64) -> TimerAction? {
        guard let first = items.first, first.deadline <= now else { return nil }
        let last = items.removeLast()
        if !items.isEmpty {
            items[0] = last
            var i = 0
            while true {
                let l = 2 * i + 1, r = l + 1
                var m = i
                if l < items.count && less(l, m) { m = l }
                if r < items.count && less(r, m) { m = r }
                if m == i { break }
                items.swapAt(i, m)
                i = m
            }
        }
        return first.action
    }

    private func less(_ a: Int, _ b: Int) -> Bool {
        (items[a].deadline, items[a].seq) < (items[b].deadline, items[b].seq)
    }
}
