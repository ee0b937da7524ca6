/// The most recent committed events, oldest first, bounded to `capacity`: the in-memory part
/// of the watch history. `floor` is the revision after which the ring holds every event, so a
/// watch from `afterRevision >= floor` can be served from memory alone.
struct EventRing: Sendable {
    let capacity: Int
    private var storage: [StoreEvent] = []
    private var head = 0
    private(set) var floor: Int64

    /// - Parameters:
    ///   - events: the newest committed events, in revision order (at most `capacity` are kept).
    ///   - floor: the revision after which `events` are complete.
    init(capacity: Int, events: [StoreEvent], floor: Int64) {
        self.capacity = max(1, capacity)
        self.floor = floor
        storage.reserveCapacity(min(self.capacity, 4096))
        for event in events { append(event) }
    }

    var count: Int { storage.count }

    /// Adds the newest event, evicting the oldest when full.
    mutating func append(_ event: StoreEvent) {
        if storage.count < capacity {
            storage.append(event)
            return
        }
        floor = storage[head].revision
        storage[head] = event
        head = (head + 1) % capacity
    }

    /// Events with revision > `revision` whose key starts with `prefix`, oldest first.
    /// Only meaningful when `revision >= floor`.
    func events(after revision: Int64, prefix: String) -> [StoreEvent] {
        var result: [StoreEvent] = []
        var i = firstIndex(after: revision)
        while i < storage.count {
            let event = self[i]
            if event.object.key.hasPrefix(prefix) { result.append(event) }
            i += 1
        }
        return result
    }

    private subscript(logical: Int) -> StoreEvent {
        storage[(head + logical) % storage.count]
    }

    /// Logical index of the first event with revision > `revision` (binary search).
    private func firstIndex(after revision: Int64) -> Int {
        var low = 0, high = storage.count
        while low < high {
            let mid = (low + high) / 2
            if self[mid].revision <= revision { low = mid + 1 } else { high = mid }
        }
        return low
    }
}
