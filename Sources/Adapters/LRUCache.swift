// A generic least-recently-used cache with a byte budget, pins and an eviction hook.
// Follows vLLM's vllm/lora (LRUCache / AdapterLRUCache: `touch`, `pin`, an eviction callback), with the
// capacity counted in bytes instead of entries because adapters and merged weights differ in size by
// orders of magnitude.
import Foundation

/// Counters for metrics. `bytes` and `count` describe what the cache holds now.
public struct LRUCacheStatistics: Sendable, Equatable {
    public var hits = 0
    public var misses = 0
    public var insertions = 0
    /// Entries dropped to get back within the budget (not explicit removals or replacements).
    public var evictions = 0
    public var bytes = 0
    public var count = 0
    public var pinned = 0
    public var budget = 0
}

/// Why an entry left the cache, as passed to the eviction hook.
public enum LRUEvictionReason: Sendable, Equatable {
    /// Dropped as least recently used to stay within the byte budget.
    case capacity
    /// Removed by `remove(_:)`.
    case removed
    /// Replaced by an `insert` under the same key.
    case replaced
}

/// A thread-safe LRU cache whose capacity is a byte budget.
///
/// - Eviction: after every insert and every last unpin, least-recently-used *unpinned* entries are
///   dropped until the held bytes are within the budget. Pinned entries are never dropped, so the cache
///   may exceed its budget while more than the budget is in use; it shrinks back as pins are released.
/// - Oversized entries (more bytes than the whole budget): `insert` refuses them (returns false and
///   keeps nothing, evicting nothing), while `insertPinned` holds them only as long as they are pinned:
///   the last release drops them again. A request can thus always be served, but never leaves the
///   cache over budget afterwards.
/// - An insert never evicts the entry it stores: if pinned entries leave too little room, the cache
///   stays over budget until the next release or insert, which evicts in LRU order again.
/// - Removal and replacement take an entry out of the accounting at once, even if it is pinned; the
///   holders of its leases keep the value alive until they release it, and their release is a no-op.
/// - The hook runs after the lock is released, so it may call back into the cache.
///
/// Finding the least recently used entry is a linear scan over the entries: caches here hold tens to
/// hundreds of adapters, and each eviction frees megabytes, so the scan is never the cost that matters.
public final class LRUCache<Key: Hashable & Sendable, Value: Sendable>: @unchecked Sendable {
    /// Called once for every entry that leaves the cache, outside the lock.
    public typealias EvictionHook = @Sendable (Key, Value, LRUEvictionReason) -> Void

    private struct Entry {
        var value: Value
        var bytes: Int
        var lastUse: UInt64
        var pins: Int
        /// Distinguishes this entry from a later one under the same key, so a stale lease's release
        /// cannot unpin its successor.
        let serial: UInt64
    }

    /// A pinned value: the cache keeps it until `release()` (or deinit). Releasing twice is harmless.
    public final class Lease: @unchecked Sendable {
        public let key: Key
        public let value: Value
        private let serial: UInt64
        private let cache: LRUCache
        private let lock = NSLock()
        private var released = false

        fileprivate init(key: Key, value: Value, serial: UInt64, cache: LRUCache) {
            self.key = key
            self.value = value
            self.serial = serial
            self.cache = cache
        }

        /// Unpins the value. The first call counts; later ones do nothing.
        public func release() {
            let first = lock.withLock { () -> Bool in
                defer { released = true }
                return !released
            }
            if first { cache.unpin(key, serial: serial) }
        }

        deinit { release() }
    }

    public let budget: Int
    private let onEvict: EvictionHook?
    private let lock = NSLock()
    private var entries: [Key: Entry] = [:]
    private var clock: UInt64 = 0
    private var serials: UInt64 = 0
    private var stats = LRUCacheStatistics()
    private var heldBytes = 0

    /// - Parameters:
    ///   - budget: most bytes held by unpinned entries after any operation.
    ///   - onEvict: called for each entry that leaves the cache (see `LRUEvictionReason`).
    public init(budget: Int, onEvict: EvictionHook? = nil) {
        precondition(budget >= 0, "budget must not be negative")
        self.budget = budget
        self.onEvict = onEvict
    }

    /// The value for `key`, marked most recently used; counts a hit or a miss.
    public func value(for key: Key) -> Value? {
        lock.withLock {
            guard entries[key] != nil else { stats.misses += 1; return nil }
            stats.hits += 1
            clock += 1
            entries[key]!.lastUse = clock
            return entries[key]!.value
        }
    }

    /// Marks `key` most recently used without counting a hit. Returns whether it is present.
    @discardableResult
    public func touch(_ key: Key) -> Bool {
        lock.withLock {
            guard entries[key] != nil else { return false }
            clock += 1
            entries[key]!.lastUse = clock
            return true
        }
    }

    /// Whether `key` is present; neither touches nor counts.
    public func contains(_ key: Key) -> Bool {
        lock.withLock { entries[key] != nil }
    }

    /// Pins and touches the entry for `key`, counting a hit or a miss. Nil if absent.
    public func pin(_ key: Key) -> Lease? {
        lock.withLock { () -> Lease? in
            guard var entry = entries[key] else { stats.misses += 1; return nil }
            stats.hits += 1
            clock += 1
            entry.lastUse = clock
            entry.pins += 1
            entries[key] = entry
            return Lease(key: key, value: entry.value, serial: entry.serial, cache: self)
        }
    }

    /// Runs `body` with the value for `key` pinned, or returns nil if absent.
    public func withPinned<R>(_ key: Key, _ body: (Value) throws -> R) rethrows -> R? {
        guard let lease = pin(key) else { return nil }
        defer { lease.release() }
        return try body(lease.value)
    }

    /// Inserts (or replaces) an unpinned entry, then evicts down to the budget.
    /// - Returns: false, storing nothing, when `bytes` alone exceeds the budget.
    @discardableResult
    public func insert(_ value: Value, for key: Key, bytes: Int) -> Bool {
        guard bytes <= budget else { return false }
        _ = store(value, for: key, bytes: bytes, pinned: false)
        return true
    }

    /// Inserts (or replaces) an entry already pinned for the caller, then evicts other entries down to
    /// the budget. Always succeeds: an entry larger than the budget is held until the lease is released.
    public func insertPinned(_ value: Value, for key: Key, bytes: Int) -> Lease {
        store(value, for: key, bytes: bytes, pinned: true)!
    }

    /// Removes the entry for `key` now, even if pinned (its leases stay valid). Returns the value.
    @discardableResult
    public func remove(_ key: Key) -> Value? {
        let removed = lock.withLock { () -> Entry? in
            guard let entry = entries.removeValue(forKey: key) else { return nil }
            heldBytes -= entry.bytes
            return entry
        }
        if let removed { onEvict?(key, removed.value, .removed) }
        return removed?.value
    }

    /// Removes every entry for which `predicate` holds.
    public func removeAll(where predicate: (Key) -> Bool) {
        let removed = lock.withLock { () -> [(Key, Entry)] in
            let keys = entries.keys.filter(predicate)
            return keys.map { key in
                let entry = entries.removeValue(forKey: key)!
                heldBytes -= entry.bytes
                return (key, entry)
            }
        }
        for (key, entry) in removed { onEvict?(key, entry.value, .removed) }
    }

    /// Current counters, including bytes and entries held.
    public var statistics: LRUCacheStatistics {
        lock.withLock {
            var s = stats
            s.bytes = heldBytes
            s.count = entries.count
            s.pinned = entries.values.filter { $0.pins > 0 }.count
            s.budget = budget
            return s
        }
    }

    /// Keys from least to most recently used.
    public var keysByRecency: [Key] {
        lock.withLock { entries.sorted { $0.value.lastUse < $1.value.lastUse }.map(\.key) }
    }

    // MARK: - Internals

    private func store(_ value: Value, for key: Key, bytes: Int, pinned: Bool) -> Lease? {
        var dropped: [(Key, Value, LRUEvictionReason)] = []
        let lease = lock.withLock { () -> Lease? in
            if let old = entries.removeValue(forKey: key) {
                heldBytes -= old.bytes
                dropped.append((key, old.value, .replaced))
            }
            clock += 1
            serials += 1
            entries[key] = Entry(value: value, bytes: bytes, lastUse: clock, pins: pinned ? 1 : 0, serial: serials)
            heldBytes += bytes
            stats.insertions += 1
            dropped += evictLocked(sparing: key)
            return pinned ? Lease(key: key, value: value, serial: serials, cache: self) : nil
        }
        for (k, v, reason) in dropped { onEvict?(k, v, reason) }
        return lease
    }

    fileprivate func unpin(_ key: Key, serial: UInt64) {
        let dropped = lock.withLock { () -> [(Key, Value, LRUEvictionReason)] in
            guard var entry = entries[key], entry.serial == serial else { return [] }   // removed or replaced
            entry.pins -= 1
            entries[key] = entry
            guard entry.pins == 0 else { return [] }
            // An oversized entry is held only while pinned: drop it first rather than everything else.
            if entry.bytes > budget {
                entries.removeValue(forKey: key)
                heldBytes -= entry.bytes
                stats.evictions += 1
                return [(key, entry.value, .capacity)]
            }
            return evictLocked()
        }
        for (k, v, reason) in dropped { onEvict?(k, v, reason) }
    }

    /// Drops least-recently-used unpinned entries until within budget. Caller holds the lock.
    /// `spared` (the entry an insert just stored) is never the victim of its own insert.
    private func evictLocked(sparing spared: Key? = nil) -> [(Key, Value, LRUEvictionReason)] {
        var dropped: [(Key, Value, LRUEvictionReason)] = []
        while heldBytes > budget {
            guard let victim = entries.filter({ $0.value.pins == 0 && $0.key != spared }).min(by: { $0.value.lastUse < $1.value.lastUse }) else {
                break   // everything left is pinned
            }
            entries.removeValue(forKey: victim.key)
            heldBytes -= victim.value.bytes
            stats.evictions += 1
            dropped.append((victim.key, victim.value.value, .capacity))
        }
        return dropped
    }
}
