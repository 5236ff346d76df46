// LRUCache: eviction order, byte budget, pins, the eviction hook and statistics.
import Adapters
import Foundation
import Testing

/// Collects what the eviction hook reports.
private final class EvictionLog: @unchecked Sendable {
    private let lock = NSLock()
    private var events: [(String, LRUEvictionReason)] = []
    func record(_ key: String, _ reason: LRUEvictionReason) { lock.withLock { events.append((key, reason)) } }
    var keys: [String] { lock.withLock { events.map(\.0) } }
    var reasons: [LRUEvictionReason] { lock.withLock { events.map(\.1) } }
}

private func makeCache(budget: Int) -> (LRUCache<String, Int>, EvictionLog) {
    let log = EvictionLog()
    let cache = LRUCache<String, Int>(budget: budget) { key, _, reason in log.record(key, reason) }
    return (cache, log)
}

@Suite struct LRUCacheTests {
    @Test func lruEvictsLeastRecentlyUsedFirst() {
        let (cache, log) = makeCache(budget: 30)
        cache.insert(1, for: "a", bytes: 10)
        cache.insert(2, for: "b", bytes: 10)
        cache.insert(3, for: "c", bytes: 10)
        #expect(cache.value(for: "a") == 1)       // a is now the most recent; b the least
        cache.insert(4, for: "d", bytes: 10)
        #expect(log.keys == ["b"])
        #expect(cache.keysByRecency == ["c", "a", "d"])
        cache.touch("c")
        cache.insert(5, for: "e", bytes: 20)      // needs two slots: a then d go
        #expect(log.keys == ["b", "a", "d"])
        #expect(log.reasons == [.capacity, .capacity, .capacity])
        #expect(cache.keysByRecency == ["c", "e"])
    }

    @Test func lruStaysWithinBudgetAndRefusesOversizedUnpinnedEntries() {
        let (cache, log) = makeCache(budget: 25)
        for (i, key) in ["a", "b", "c", "d"].enumerated() {
            cache.insert(i, for: key, bytes: 10)
            #expect(cache.statistics.bytes <= 25)
        }
        #expect(cache.statistics.count == 2)
        #expect(cache.insert(9, for: "huge", bytes: 26) == false)
        #expect(!cache.contains("huge"))
        #expect(cache.statistics.count == 2)       // refusing evicted nothing
        #expect(log.keys == ["a", "b"])
    }

    @Test func pinnedEntriesSurvivePressureAndAreEvictedAfterRelease() {
        let (cache, log) = makeCache(budget: 20)
        cache.insert(1, for: "a", bytes: 10)
        let lease = cache.pin("a")!
        #expect(lease.value == 1)
        cache.insert(2, for: "b", bytes: 10)
        cache.insert(3, for: "c", bytes: 10)       // a is least recent but pinned: b goes
        #expect(cache.contains("a"))
        #expect(log.keys == ["b"])
        cache.insert(4, for: "d", bytes: 15)       // over budget: only c may go; a stays though 25 > 20
        #expect(cache.contains("a") && cache.contains("d") && !cache.contains("c"))
        #expect(cache.statistics.bytes == 25)
        #expect(cache.statistics.pinned == 1)
        lease.release()                            // now a is evictable and least recent
        #expect(!cache.contains("a"))
        #expect(cache.statistics.bytes == 15)
        lease.release()                            // a second release changes nothing
        #expect(cache.contains("d"))
        #expect(log.keys == ["b", "c", "a"])
    }

    @Test func oversizedPinnedEntryIsHeldOnlyWhilePinned() {
        let (cache, log) = makeCache(budget: 10)
        cache.insert(1, for: "small", bytes: 5)
        let lease = cache.insertPinned(2, for: "big", bytes: 50)
        #expect(cache.contains("big"))
        #expect(!cache.contains("small"))         // evicted trying to make room
        let second = cache.withPinned("big") { $0 * 10 }
        #expect(second == 20)
        #expect(cache.contains("big"))
        lease.release()
        #expect(!cache.contains("big"))
        #expect(log.keys == ["small", "big"])
        #expect(cache.statistics.bytes == 0)
    }

    @Test func removeWhilePinnedKeepsTheLeaseValue() {
        let (cache, log) = makeCache(budget: 100)
        cache.insert(7, for: "a", bytes: 10)
        let lease = cache.pin("a")!
        #expect(cache.remove("a") == 7)
        #expect(!cache.contains("a"))
        #expect(lease.value == 7)
        cache.insert(8, for: "a", bytes: 10)       // a new entry under the same key
        lease.release()                            // must not unpin or drop the new entry
        #expect(cache.value(for: "a") == 8)
        #expect(log.reasons == [.removed])
        cache.insert(9, for: "a", bytes: 10)
        #expect(log.reasons == [.removed, .replaced])
    }

    @Test func leaseReleasesOnDeinit() {
        let (cache, _) = makeCache(budget: 10)
        do {
            let lease = cache.insertPinned(1, for: "a", bytes: 10)
            #expect(cache.statistics.pinned == 1)
            _ = lease
        }
        #expect(cache.statistics.pinned == 0)
    }

    @Test func lruStatistics() {
        let (cache, _) = makeCache(budget: 20)
        cache.insert(1, for: "a", bytes: 10)
        cache.insert(2, for: "b", bytes: 10)
        _ = cache.value(for: "a")
        _ = cache.value(for: "zzz")
        _ = cache.pin("b")?.release()
        cache.insert(3, for: "c", bytes: 10)
        let stats = cache.statistics
        #expect(stats.hits == 2)
        #expect(stats.misses == 1)
        #expect(stats.insertions == 3)
        #expect(stats.evictions == 1)
        #expect(stats.bytes == 20)
        #expect(stats.count == 2)
        #expect(stats.budget == 20)
    }

    @Test func lruIsSafeUnderConcurrentUse() {
        let (cache, _) = makeCache(budget: 50)
        DispatchQueue.concurrentPerform(iterations: 8) { worker in
            for i in 0..<500 {
                let key = "k\((worker * 7 + i) % 20)"
                if let lease = cache.pin(key) {
                    #expect(lease.value >= 0)
                    lease.release()
                } else {
                    cache.insert(i, for: key, bytes: 5)
                }
            }
        }
        let stats = cache.statistics
        #expect(stats.bytes <= 50)
        #expect(stats.pinned == 0)
        #expect(stats.bytes == stats.count * 5)
    }
}
