/// The store's keys in sorted order, for prefix lists without sorting on every request.
///
/// Keys live in a list of small sorted chunks (a flat B-tree of height two), so inserting
/// or removing one key moves at most one chunk's worth of elements even with 100,000 keys.
struct SortedKeyIndex: Sendable {
    private static let maxChunk = 512
    private var chunks: [[String]] = []
    private(set) var count = 0

    init() {}

    /// Builds the index from keys in any order.
    init<S: Sequence>(_ keys: S) where S.Element == String {
        let sorted = keys.sorted()
        count = sorted.count
        var start = 0
        while start < sorted.count {
            let end = min(start + Self.maxChunk / 2, sorted.count)
            chunks.append(Array(sorted[start..<end]))
            start = end
        }
    }

    /// Inserts `key`; returns false when it was already present.
    @discardableResult
    mutating func insert(_ key: String) -> Bool {
        guard !chunks.isEmpty else {
            chunks = [[key]]
            count = 1
            return true
        }
        let c = min(chunkIndex(for: key), chunks.count - 1)
        let i = Self.lowerBound(of: key, in: chunks[c])
        if i < chunks[c].count && chunks[c][i] == key { return false }
        chunks[c].insert(key, at: i)
        count += 1
        if chunks[c].count > Self.maxChunk {
            let upper = Array(chunks[c][(Self.maxChunk / 2)...])
            chunks[c].removeSubrange((Self.maxChunk / 2)...)
            chunks.insert(upper, at: c + 1)
        }
        return true
    }

    /// Removes `key`; returns false when it was absent.
    @discardableResult
    mutating func remove(_ key: String) -> Bool {
        let c = chunkIndex(for: key)
        guard c < chunks.count else { return false }
        let i = Self.lowerBound(of: key, in: chunks[c])
        guard i < chunks[c].count && chunks[c][i] == key else { return false }
        chunks[c].remove(at: i)
        count -= 1
        if chunks[c].isEmpty { chunks.remove(at: c) }
        return true
    }

    /// Calls `body` for each key starting with `prefix`, in ascending order.
    func forEach(withPrefix prefix: String, _ body: (String) -> Void) {
        var c = chunkIndex(for: prefix)
        guard c < chunks.count else { return }
        var i = Self.lowerBound(of: prefix, in: chunks[c])
        while c < chunks.count {
            let chunk = chunks[c]
            while i < chunk.count {
                guard chunk[i].hasPrefix(prefix) else { return }
                body(chunk[i])
                i += 1
            }
            c += 1
            i = 0
        }
    }

    /// All keys in order (for tests and diagnostics).
    var all: [String] { chunks.flatMap { $0 } }

    /// The first chunk whose last key is >= `key` (chunks.count when none).
    private func chunkIndex(for key: String) -> Int {
        var low = 0, high = chunks.count
        while low < high {
            let mid = (low + high) / 2
            if let last = chunks[mid].last, last < key { low = mid + 1 } else { high = mid }
        }
        return low
    }

    private static func lowerBound(of key: String, in chunk: [String]) -> Int {
        var low = 0, high = chunk.count
        while low < high {
            let mid = (low + high) / 2
            if chunk[mid] < key { low = mid + 1 } else { high = mid }
        }
        return low
    }
}
