import Synchronization

/// A dictionary behind a mutex, for small shared maps off the hot path.
final class LockedDictionary<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    private let storage = Mutex<[Key: Value]>([:])
    init() {}
    func get(_ key: Key) -> Value? { storage.withLock { $0[key] } }
    func set(_ key: Key, _ value: Value) { storage.withLock { $0[key] = value } }
    @discardableResult func remove(_ key: Key) -> Value? { storage.withLock { $0.removeValue(forKey: key) } }
    var values: [Value] { storage.withLock { Array($0.values) } }
    var keys: [Key] { storage.withLock { Array($0.keys) } }
    /// Removes and returns some key, or nil when empty.
    func popAny() -> Key? {
        storage.withLock { d in
            guard let k = d.keys.first else { return nil }
            d.removeValue(forKey: k)
            return k
        }
    }
}
