// The adapters registered on one base model: descriptions, a cache of loaded adapters, a cache of
// merged weights, and leases that pin what a request uses. Mirrors vLLM's vllm/lora split: the
// registry (this file) decides, LRUCache keeps, UnmergedAdapter / MergedAdapter compute.
//
// Replicas sharing one store directory: every call that names an id (`contains`, `description`,
// `lease`) first compares the registration's store generation with the token on disk
// (`AdapterStore.generation(of:)`, one small read) and follows the store: an id uploaded by another
// replica is loaded and registered, a replaced one re-registered (its caches dropped), a deleted one
// forgotten. `list()` does the same for every id in the store.
import Dispatch
import Foundation
import Formats
import LinearAlgebra
import Models

/// How a request applies its adapter.
public enum AdapterMode: String, Sendable, CaseIterable {
    /// `W·x + s·B·(A·x)` per module: no extra weight memory, two thin GEMMs per adapted module.
    case unmerged
    /// `W'·x` with `W' = W + s·B·A` built once and cached: base-model speed, one weight copy per module.
    case merged
    /// Let the registry choose (see `AdapterRegistry.lease(id:mode:)`).
    case auto
}

/// What the registry knows about a registered adapter.
public struct AdapterDescription: Sendable, Equatable {
    public enum Variant: String, Sendable { case lora, dora }

    public let id: String
    public let rank: Int
    public let alpha: Double
    /// `alpha / r`, or `alpha / √r` with rsLoRA (before rank / alpha patterns).
    public let scaling: Double
    public let useRSLoRA: Bool
    public let variant: Variant
    /// Adapted module paths in the base model's order.
    public let targets: [String]
    public let parameterCount: Int
    /// Bytes of the loaded adapter (float32 factors).
    public let bytes: Int
    /// Bytes its merged weights would take.
    public let mergedBytes: Int
    public let created: Date
}

/// An adapter pinned for one request. Its caches keep it until `release()` (or deinit); a deleted
/// adapter's lease stays usable until then.
public final class AdapterLease: @unchecked Sendable {
    public let id: String
    /// The mode actually used: `.merged` or `.unmerged`, never `.auto`.
    public let mode: AdapterMode
    public let adapter: LoRAAdapter
    /// What to pass to the forward pass: an `UnmergedAdapter` or a `MergedAdapter`.
    public let overlay: any LinearOverlay
    private let pin: LRUCache<AdapterRegistry.CacheKey, LoRAAdapter>.Lease?
    private let mergedPin: LRUCache<AdapterRegistry.CacheKey, MergedAdapter>.Lease?

    fileprivate init(id: String, adapterPin: LRUCache<AdapterRegistry.CacheKey, LoRAAdapter>.Lease) {
        self.id = id
        self.mode = .unmerged
        self.adapter = adapterPin.value
        self.overlay = UnmergedAdapter(adapterPin.value)
        self.pin = adapterPin
        self.mergedPin = nil
    }

    fileprivate init(id: String, mergedPin: LRUCache<AdapterRegistry.CacheKey, MergedAdapter>.Lease) {
        self.id = id
        self.mode = .merged
        self.adapter = mergedPin.value.adapter
        self.overlay = mergedPin.value
        self.pin = nil
        self.mergedPin = mergedPin
    }

    /// Unpins the adapter or merged weights. Idempotent.
    public func release() {
        pin?.release()
        mergedPin?.release()
    }
}

/// The adapters of one base model, backed by an `AdapterStore`. Thread-safe.
public final class AdapterRegistry: @unchecked Sendable {
    /// Cache entries belong to one registration: a replaced adapter gets a new generation, so a load
    /// racing the replacement can never be served under the new registration.
    public struct CacheKey: Hashable, Sendable {
        public let id: String
        let generation: UInt64
    }

    private struct Registration {
        var description: AdapterDescription
        let generation: UInt64
        /// The store's token for the entry this registration was read from.
        let storeGeneration: String
    }

    public let model: BaseModel
    public let store: AdapterStore
    public let maxRank: Int
    /// Leases within `hotWindow` seconds (including the current one) that make an adapter hot.
    public let hotThreshold: Int
    public let hotWindow: TimeInterval
    /// Loaded adapters (`LoRAAdapter`), budget in bytes.
    public let loaded: LRUCache<CacheKey, LoRAAdapter>
    /// Merged weights (`MergedAdapter`), their own budget in bytes.
    public let merged: LRUCache<CacheKey, MergedAdapter>

    private let now: @Sendable () -> Date
    private let lock = NSLock()
    /// Serialises put / delete so the store and the registrations change in the same order.
    private let writeLock = NSLock()
    private var registrations: [String: Registration] = [:]
    private let mergeLock = NSLock()
    private var merging: [CacheKey: MergeFlight] = [:]
    private var mergeCount = 0
    private var uses: [String: [Date]] = [:]
    private var generations: UInt64 = 0

    /// - Parameters:
    ///   - loadedBudget: bytes of loaded adapters kept; `mergedBudget`: bytes of merged weights kept.
    ///   - hotThreshold, hotWindow: the `auto` rule's notion of hot (see `lease(id:mode:)`).
    ///   - now: the clock for the hot window (injectable for tests).
    ///   - onEvict: told when an adapter leaves the loaded (`.unmerged`) or merged (`.merged`) cache.
    public init(model: BaseModel, store: AdapterStore, loadedBudget: Int, mergedBudget: Int,
                hotThreshold: Int = 3, hotWindow: TimeInterval = 60, maxRank: Int = AdapterConfig.defaultMaxRank,
                now: @escaping @Sendable () -> Date = { Date() },
                onEvict: (@Sendable (_ id: String, _ cache: AdapterMode, _ reason: LRUEvictionReason) -> Void)? = nil) {
        self.model = model
        self.store = store
        self.maxRank = maxRank
        self.hotThreshold = max(1, hotThreshold)
        self.hotWindow = hotWindow
        self.loaded = LRUCache(budget: loadedBudget) { key, _, reason in onEvict?(key.id, .unmerged, reason) }
        self.merged = LRUCache(budget: mergedBudget) { key, _, reason in onEvict?(key.id, .merged, reason) }
        self.now = now
    }

    // MARK: - Registration

    /// Registers every adapter in the store (after a restart). Damaged entries are reported, not thrown.
    @discardableResult
    public func start() -> AdapterScanReport {
        writeLock.withLock {
            store.scan { stored in
                let adapter = try validatedAdapter(id: stored.id, configData: stored.configData, weightsData: stored.weightsData)
                register(describe(stored.id, adapter, created: stored.created), storeGeneration: stored.generation)
            }
        }
    }

    /// Validates an upload against the base model, stores it and registers it. Replacing drops the
    /// old version from the caches; requests holding its lease finish with it.
    @discardableResult
    public func put(id: String, configData: Data, weightsData: Data, replace: Bool) throws -> AdapterDescription {
        try writeLock.withLock {
            var adapter: LoRAAdapter?
            let token = try store.put(id: id, configData: configData, weightsData: weightsData, replace: replace) { config, weights in
                adapter = try validatedAdapter(id: id, configData: config, weightsData: weights)
            }
            let description = describe(id, adapter!, created: now())
            let key = register(description, storeGeneration: token)
            dropCaches(of: id, except: key)
            loaded.insert(adapter!, for: key, bytes: adapter!.byteCount)   // warm: the upload was just parsed
            return description
        }
    }

    /// Removes an adapter from the store, the registrations and both caches. Leases already handed out
    /// stay valid until released.
    public func delete(id: String) throws {
        try writeLock.withLock {
            try store.remove(id: id)
            forget(id)
        }
    }

    /// Whether `id` is in the store (and valid), as of now: see `synchronize(id:)`.
    public func contains(_ id: String) -> Bool { (try? synchronize(id: id)) != nil }

    public func description(of id: String) throws -> AdapterDescription {
        guard let description = try synchronize(id: id) else { throw StoreError.notFound(id) }
        return description
    }

    /// The adapters in the store sorted by id (damaged entries left out), after following every
    /// upload, replacement and deletion made through other replicas.
    public func list() -> [AdapterDescription] {
        let ids = Set(store.list()).union(lock.withLock { Array(registrations.keys) })
        for id in ids { _ = try? synchronize(id: id) }
        return lock.withLock { registrations.values.map(\.description) }.sorted { $0.id < $1.id }
    }

    /// How many adapters this process has registered, without looking at the store (for `/metrics`,
    /// which the inference gateway scrapes many times a second).
    public var registeredCount: Int { lock.withLock { registrations.count } }

    /// Brings `id`'s registration in line with the store and returns it (nil if the id is not
    /// stored). Unchanged: one read of the entry's generation token. Uploaded or replaced by
    /// another process: the entry is read, validated and registered (the old version's caches are
    /// dropped; leases already handed out finish with it). Deleted by another process: forgotten.
    /// Throws `damaged` if the stored entry does not validate.
    @discardableResult
    public func synchronize(id: String) throws -> AdapterDescription? {
        try synchronizedRegistration(id: id)?.description
    }

    private func synchronizedRegistration(id: String) throws -> Registration? {
        guard (try? AdapterStore.validate(id: id)) != nil else { return nil }
        let onDisk = store.generation(of: id)
        let local = lock.withLock { registrations[id] }
        if let local, local.storeGeneration == onDisk { return local }
        return try writeLock.withLock { () throws -> Registration? in
            // Another thread may have followed the store while this one waited for the lock.
            let stored: StoredAdapter
            do {
                stored = try store.contents(of: id)
            } catch StoreError.notFound {
                forget(id)
                return nil
            }
            if let current = lock.withLock({ registrations[id] }), current.storeGeneration == stored.generation {
                return current
            }
            let adapter: LoRAAdapter
            do {
                adapter = try validatedAdapter(id: id, configData: stored.configData, weightsData: stored.weightsData)
            } catch {
                throw StoreError.damaged(id: id, reason: "\(error)")
            }
            let key = register(describe(id, adapter, created: stored.created), storeGeneration: stored.generation)
            dropCaches(of: id, except: key)
            loaded.insert(adapter, for: key, bytes: adapter.byteCount)   // warm: it was just parsed
            return lock.withLock { registrations[id] }
        }
    }

    /// Drops `id`'s registration and caches (call with `writeLock` held).
    private func forget(_ id: String) {
        lock.withLock {
            registrations[id] = nil
            uses[id] = nil
        }
        dropCaches(of: id, except: nil)
    }

    // MARK: - Leases

    /// Pins adapter `id` for one request and returns how to apply it.
    ///
    /// The `auto` rule, checked in order:
    /// 1. merged, if the adapter's merged weights are already cached;
    /// 2. merged (built now), if the adapter is hot — leased at least `hotThreshold` times within the
    ///    last `hotWindow` seconds, counting this request — and its merged weights fit in the merged
    ///    cache's budget;
    /// 3. unmerged otherwise.
    /// Cold adapters thus cost no weight copies; hot ones pay one merge and then run at base speed.
    /// The lease's `mode` says which was used.
    public func lease(id: String, mode: AdapterMode) throws -> AdapterLease {
        // A cache miss reads the store; if another process replaced the entry since this registration
        // was made, the bytes belong to a newer one: follow the store and try again.
        var attempts = 0
        while true {
            do {
                return try leaseOnce(id: id, mode: mode)
            } catch is StaleRegistration where attempts < 8 {
                attempts += 1
            }
        }
    }

    private func leaseOnce(id: String, mode: AdapterMode) throws -> AdapterLease {
        try AdapterStore.validate(id: id)
        guard try synchronizedRegistration(id: id) != nil else { throw StoreError.notFound(id) }
        let (key, description, useCount) = try lock.withLock { () throws -> (CacheKey, AdapterDescription, Int) in
            guard let registration = registrations[id] else { throw StoreError.notFound(id) }
            let t = now()
            var recent = (uses[id] ?? []).filter { t.timeIntervalSince($0) <= hotWindow }
            recent.append(t)
            uses[id] = Array(recent.suffix(hotThreshold))
            return (CacheKey(id: id, generation: registration.generation), registration.description, recent.count)
        }
        switch mode {
        case .unmerged:
            return AdapterLease(id: id, adapterPin: try adapterPin(key))
        case .merged:
            return AdapterLease(id: id, mergedPin: try mergedPin(key))
        case .auto:
            if merged.contains(key), let pin = merged.pin(key) {
                return AdapterLease(id: id, mergedPin: pin)
            }
            if useCount >= hotThreshold && description.mergedBytes <= merged.budget {
                return AdapterLease(id: id, mergedPin: try mergedPin(key))
            }
            return AdapterLease(id: id, adapterPin: try adapterPin(key))
        }
    }

    // MARK: - Internals

    /// The loaded adapter for `key`, pinned; loads it from the store on a miss. Two requests missing
    /// at once both load; the second insert replaces the first (wasted work, never a wrong result).
    private func adapterPin(_ key: CacheKey) throws -> LRUCache<CacheKey, LoRAAdapter>.Lease {
        if let pin = loaded.pin(key) { return pin }
        let adapter: LoRAAdapter
        do {
            let stored = try store.contents(of: key.id)
            guard stored.generation == lock.withLock({ registrations[key.id].flatMap { $0.generation == key.generation ? $0.storeGeneration : nil } }) else {
                throw StaleRegistration()
            }
            adapter = try validatedAdapter(id: key.id, configData: stored.configData, weightsData: stored.weightsData)
        } catch StoreError.notFound {
            throw StaleRegistration()   // deleted by another process: the retry answers 404
        } catch let error as StaleRegistration {
            throw error
        } catch let error as StoreError {
            throw error
        } catch {
            throw StoreError.damaged(id: key.id, reason: "\(error)")
        }
        let pin = loaded.insertPinned(adapter, for: key, bytes: adapter.byteCount)
        if !isCurrent(key) { loaded.remove(key) }   // deleted or replaced while loading
        return pin
    }

    /// The merged weights for `key`, pinned; merges (loading the adapter if needed) on a miss. One
    /// merge per adapter at a time (single flight): requests that miss while it runs wait for it and
    /// take its result, rather than each building another copy of the weights. Merges run on the
    /// requesting thread, never on the engine's.
    private func mergedPin(_ key: CacheKey) throws -> LRUCache<CacheKey, MergedAdapter>.Lease {
        while true {
            if let pin = merged.pin(key) { return pin }
            let (flight, leader) = mergeLock.withLock { () -> (MergeFlight, Bool) in
                if let running = merging[key] { return (running, false) }
                let flight = MergeFlight()
                merging[key] = flight
                return (flight, true)
            }
            guard leader else {
                flight.wait()
                continue   // the leader's result is cached (or it failed and this request tries itself)
            }
            defer {
                mergeLock.withLock { merging[key] = nil }
                flight.finish()
            }
            let source = try adapterPin(key)
            defer { source.release() }
            let weights = MergedAdapter(source.value, model: model)
            mergeLock.withLock { mergeCount += 1 }
            let pin = merged.insertPinned(weights, for: key, bytes: weights.byteCount)
            if !isCurrent(key) { merged.remove(key) }
            return pin
        }
    }

    /// Merges built since start (a merge that waited for another's counts once).
    public var mergesBuilt: Int { mergeLock.withLock { mergeCount } }

    private func isCurrent(_ key: CacheKey) -> Bool {
        lock.withLock { registrations[key.id]?.generation == key.generation }
    }

    /// Parses and validates an adapter's two files against the base model, without storing anything
    /// (what `put` runs before it commits).
    public func validatedAdapter(id: String, configData: Data, weightsData: Data) throws -> LoRAAdapter {
        let config = try AdapterConfig(jsonData: configData, source: "\(id)/\(AdapterStore.configFileName)", maxRank: maxRank)
        let weights = try SafetensorsFile(data: weightsData, name: "\(id)/\(AdapterStore.weightsFileName)")
        return try LoRAAdapter(config: config, weights: weights, model: model)
    }

    @discardableResult
    private func register(_ description: AdapterDescription, storeGeneration: String) -> CacheKey {
        lock.withLock {
            generations += 1
            registrations[description.id] = Registration(description: description, generation: generations,
                                                         storeGeneration: storeGeneration)
            uses[description.id] = nil
            return CacheKey(id: description.id, generation: generations)
        }
    }

    private func dropCaches(of id: String, except keep: CacheKey?) {
        loaded.removeAll { $0.id == id && $0 != keep }
        merged.removeAll { $0.id == id && $0 != keep }
    }

    private func describe(_ id: String, _ adapter: LoRAAdapter, created: Date) -> AdapterDescription {
        let config = adapter.config
        let rank = Double(config.rank)
        let mergedBytes = adapter.moduleNames.reduce(0) { total, name in
            let linear = model.linear(named: name)!
            return total + (linear.outFeatures * linear.inFeatures + (linear.bias?.count ?? 0)) * MemoryLayout<Float>.size
        }
        return AdapterDescription(
            id: id, rank: config.rank, alpha: config.alpha,
            scaling: config.useRSLoRA ? config.alpha / rank.squareRoot() : config.alpha / rank,
            useRSLoRA: config.useRSLoRA, variant: config.useDoRA ? .dora : .lora,
            targets: adapter.moduleNames, parameterCount: adapter.parameterCount, bytes: adapter.byteCount,
            mergedBytes: mergedBytes, created: created)
    }
}

/// A cache miss found a newer store entry than the registration it was loading for.
private struct StaleRegistration: Error {}

/// One merge in progress, that other requests for the same adapter wait on.
private final class MergeFlight: @unchecked Sendable {
    private let done = DispatchSemaphore(value: 0)
    private let lock = NSLock()
    private var finished = false

    func wait() {
        done.wait()
        done.signal()   // let the next waiter through too
    }

    func finish() {
        lock.withLock {
            guard !finished else { return }
            finished = true
            done.signal()
        }
    }
}
