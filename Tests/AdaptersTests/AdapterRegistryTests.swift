// AdapterRegistry: loading on first use, the two caches, deletion under a lease, the auto rule and
// concurrent leases checked against a direct UnmergedAdapter.
import Adapters
import FixtureSupport
import Formats
import Foundation
import LinearAlgebra
import Models
import Testing

private let adapterNames = ["qwen2-lora", "qwen2-dora", "qwen2-layers"]
private let tokens = [7, 3, 250, 41, 99, 0, 12]

private struct Setup {
    let base: BaseModel
    let model: DecoderModel
    let store: AdapterStore

    init() throws {
        base = try BaseModel.load(directory: Fixtures.model("qwen2-tiny"))
        guard case .decoder(let model) = base else { throw ModelError.unsupportedArchitecture("qwen2-tiny") }
        self.model = model
        store = try AdapterStore(root: FileManager.default.temporaryDirectory.appendingPathComponent("eckart-registry-\(UUID().uuidString)"))
        for name in adapterNames {
            let directory = Fixtures.adapter(name)
            try store.put(id: name, configData: Data(contentsOf: directory.appendingPathComponent("adapter_config.json")),
                          weightsData: Data(contentsOf: directory.appendingPathComponent("adapter_model.safetensors")), replace: false)
        }
    }

    /// A registry over the stored adapters, registered as after a restart (caches empty).
    func registry(loadedBudget: Int = 1 << 30, mergedBudget: Int = 1 << 30, hotThreshold: Int = 3,
                  onEvict: (@Sendable (String, AdapterMode, LRUEvictionReason) -> Void)? = nil) -> AdapterRegistry {
        let registry = AdapterRegistry(model: base, store: store, loadedBudget: loadedBudget, mergedBudget: mergedBudget,
                                       hotThreshold: hotThreshold, hotWindow: 3600, onEvict: onEvict)
        let report = registry.start()
        #expect(report.valid == adapterNames.sorted())
        return registry
    }

    func reference(_ name: String) throws -> Matrix {
        let adapter = try LoRAAdapter(directory: Fixtures.adapter(name), model: base)
        return try model.logits(tokens: tokens, overlay: UnmergedAdapter(adapter))
    }

    func cleanUp() { try? FileManager.default.removeItem(at: store.root) }
}

private func expectLogits(_ lease: AdapterLease, equal expected: Matrix, in setup: Setup) throws {
    let got = try setup.model.logits(tokens: tokens, overlay: lease.overlay)
    #expect(got.rows == expected.rows && got.cols == expected.cols)
    #expect(got.maxAbsDifference(expected) < Tolerance.samePath)
}

@Suite struct AdapterRegistryTests {
    @Test func registryDescribesAndLoadsOnFirstUse() throws {
        let setup = try Setup()
        defer { setup.cleanUp() }
        let registry = setup.registry()
        #expect(registry.list().map(\.id) == adapterNames.sorted())
        let lora = try registry.description(of: "qwen2-lora")
        let direct = try LoRAAdapter(directory: Fixtures.adapter("qwen2-lora"), model: setup.base)
        #expect(lora.rank == direct.config.rank)
        #expect(lora.alpha == direct.config.alpha)
        #expect(lora.variant == .lora)
        #expect(lora.targets == direct.moduleNames)
        #expect(lora.parameterCount == direct.parameterCount)
        #expect(lora.bytes == direct.byteCount)
        #expect(lora.mergedBytes == MergedAdapter(direct, model: setup.base).byteCount)
        #expect(try registry.description(of: "qwen2-dora").variant == .dora)

        #expect(registry.loaded.statistics.count == 0)     // nothing loaded by registration
        let first = try registry.lease(id: "qwen2-lora", mode: .unmerged)
        #expect(first.mode == .unmerged)
        #expect(registry.loaded.statistics.misses == 1)
        #expect(registry.loaded.statistics.count == 1)
        try expectLogits(first, equal: setup.reference("qwen2-lora"), in: setup)
        first.release()
        let second = try registry.lease(id: "qwen2-lora", mode: .unmerged)
        #expect(second.adapter === first.adapter)
        #expect(registry.loaded.statistics.hits == 1)
        #expect(throws: StoreError.notFound("nope")) { try registry.lease(id: "nope", mode: .auto) }
        #expect(throws: StoreError.self) { try registry.lease(id: "../qwen2-lora", mode: .auto) }
    }

    @Test func registryLoadedCacheEvictsUnderASmallBudget() throws {
        let setup = try Setup()
        defer { setup.cleanUp() }
        let sizes = try adapterNames.map { try LoRAAdapter(directory: Fixtures.adapter($0), model: setup.base).byteCount }
        let budget = sizes.max()! + 1    // room for the largest, never for all three
        let evicted = MessageLog()
        let registry = setup.registry(loadedBudget: budget) { id, cache, reason in
            if cache == .unmerged && reason == .capacity { evicted.add(id) }
        }
        for _ in 0..<2 {
            for name in adapterNames {
                let lease = try registry.lease(id: name, mode: .unmerged)
                try expectLogits(lease, equal: setup.reference(name), in: setup)
                lease.release()
                #expect(registry.loaded.statistics.bytes <= budget)
            }
        }
        let stats = registry.loaded.statistics
        #expect(stats.evictions >= 2)
        #expect(evicted.all.count == stats.evictions)
        #expect(stats.misses >= 4)
        #expect(stats.pinned == 0)
    }

    @Test func registryMergedCacheHit() throws {
        let setup = try Setup()
        defer { setup.cleanUp() }
        let registry = setup.registry()
        let first = try registry.lease(id: "qwen2-dora", mode: .merged)
        #expect(first.mode == .merged)
        #expect(first.overlay is MergedAdapter)
        try expectLogits(first, equal: setup.reference("qwen2-dora"), in: setup)
        first.release()
        let second = try registry.lease(id: "qwen2-dora", mode: .merged)
        #expect(registry.merged.statistics.hits == 1)
        #expect(registry.merged.statistics.count == 1)
        #expect(registry.merged.statistics.bytes == (try registry.description(of: "qwen2-dora")).mergedBytes)
        try expectLogits(second, equal: setup.reference("qwen2-dora"), in: setup)
        second.release()
    }

    @Test func registryDeleteWhileLeased() throws {
        let setup = try Setup()
        defer { setup.cleanUp() }
        let registry = setup.registry()
        let unmerged = try registry.lease(id: "qwen2-lora", mode: .unmerged)
        let merged = try registry.lease(id: "qwen2-lora", mode: .merged)
        try registry.delete(id: "qwen2-lora")
        #expect(!registry.contains("qwen2-lora"))
        #expect(!setup.store.contains("qwen2-lora"))
        #expect(!registry.loaded.contains(where: "qwen2-lora") && !registry.merged.contains(where: "qwen2-lora"))
        #expect(throws: StoreError.notFound("qwen2-lora")) { try registry.lease(id: "qwen2-lora", mode: .auto) }
        #expect(throws: StoreError.notFound("qwen2-lora")) { try registry.delete(id: "qwen2-lora") }
        // In-flight requests finish normally.
        let reference = try setup.reference("qwen2-lora")
        try expectLogits(unmerged, equal: reference, in: setup)
        try expectLogits(merged, equal: reference, in: setup)
        unmerged.release()
        merged.release()
        #expect(registry.loaded.statistics.count == 0 && registry.merged.statistics.count == 0)
        #expect(registry.list().map(\.id) == ["qwen2-dora", "qwen2-layers"])
    }

    @Test func registryPutReplaceDropsOldVersion() throws {
        let setup = try Setup()
        defer { setup.cleanUp() }
        let registry = setup.registry()
        let old = try registry.lease(id: "qwen2-layers", mode: .merged)
        let dora = Fixtures.adapter("qwen2-dora")
        let config = try Data(contentsOf: dora.appendingPathComponent("adapter_config.json"))
        let weights = try Data(contentsOf: dora.appendingPathComponent("adapter_model.safetensors"))
        #expect(throws: StoreError.exists("qwen2-layers")) {
            try registry.put(id: "qwen2-layers", configData: config, weightsData: weights, replace: false)
        }
        let description = try registry.put(id: "qwen2-layers", configData: config, weightsData: weights, replace: true)
        #expect(description.variant == .dora)
        try expectLogits(old, equal: setup.reference("qwen2-layers"), in: setup)   // the old lease is unaffected
        old.release()
        let new = try registry.lease(id: "qwen2-layers", mode: .auto)
        try expectLogits(new, equal: setup.reference("qwen2-dora"), in: setup)
        // An invalid upload is refused before anything is written.
        #expect(throws: (any Error).self) {
            try registry.put(id: "bad", configData: config, weightsData: weights.prefix(50), replace: false)
        }
        #expect(!setup.store.contains("bad"))
    }

    @Test func registryAutoModeIsUnmergedUntilHot() throws {
        let setup = try Setup()
        defer { setup.cleanUp() }
        let registry = setup.registry(hotThreshold: 3)
        var modes: [AdapterMode] = []
        let reference = try setup.reference("qwen2-lora")
        for _ in 0..<4 {
            let lease = try registry.lease(id: "qwen2-lora", mode: .auto)
            modes.append(lease.mode)
            try expectLogits(lease, equal: reference, in: setup)
            lease.release()
        }
        #expect(modes == [.unmerged, .unmerged, .merged, .merged])
        #expect(registry.merged.statistics.hits == 1)        // the fourth found the third's merge

        // Hot but too big for the merged budget: stays unmerged.
        let small = setup.registry(mergedBudget: 16, hotThreshold: 1)
        let lease = try small.lease(id: "qwen2-lora", mode: .auto)
        #expect(lease.mode == .unmerged)
    }

    @Test func registryConcurrentLeasesGiveEachAdaptersOutput() throws {
        let setup = try Setup()
        defer { setup.cleanUp() }
        let references = try Dictionary(uniqueKeysWithValues: adapterNames.map { ($0, try setup.reference($0)) })
        let sizes = try adapterNames.map { try LoRAAdapter(directory: Fixtures.adapter($0), model: setup.base).byteCount }
        let registry = setup.registry(loadedBudget: sizes.max()! + 1, mergedBudget: 1, hotThreshold: 2)   // force churn
        let model = setup.model
        let modes: [AdapterMode] = [.unmerged, .merged, .auto]
        let failures = MessageLog()
        DispatchQueue.concurrentPerform(iterations: 18) { i in
            let name = adapterNames[i % adapterNames.count]
            do {
                let lease = try registry.lease(id: name, mode: modes[(i / 3) % modes.count])
                defer { lease.release() }
                let got = try model.logits(tokens: tokens, overlay: lease.overlay)
                let difference = got.maxAbsDifference(references[name]!)
                if !(difference < Tolerance.samePath) { failures.add("\(name): max abs difference \(difference)") }
            } catch {
                failures.add("\(name): \(error)")
            }
        }
        #expect(failures.all.isEmpty)
        #expect(registry.loaded.statistics.pinned == 0)
        #expect(registry.merged.statistics.pinned == 0)
        #expect(registry.merged.statistics.count == 0)    // merged copies are bigger than its budget: none kept
        #expect(registry.loaded.statistics.bytes <= sizes.max()! + 1)
    }
}

private final class MessageLog: @unchecked Sendable {
    private let lock = NSLock()
    private var messages: [String] = []
    func add(_ message: String) { lock.withLock { messages.append(message) } }
    var all: [String] { lock.withLock { messages } }
}

extension LRUCache where Key == AdapterRegistry.CacheKey {
    /// Whether any entry of adapter `id` is cached.
    fileprivate func contains(where id: String) -> Bool { keysByRecency.contains { $0.id == id } }
}

@Test func concurrentMergesOfOneAdapterBuildItOnce() throws {
    // Eight requests miss the merged cache at once: one merge runs, the others wait for it.
    let base = try BaseModel.load(directory: Fixtures.model("qwen2-tiny"))
    let store = try AdapterStore(root: FileManager.default.temporaryDirectory.appendingPathComponent("eckart-single-flight-\(UUID().uuidString)"))
    defer { try? FileManager.default.removeItem(at: store.root) }
    let registry = AdapterRegistry(model: base, store: store, loadedBudget: 64 << 20, mergedBudget: 64 << 20)
    let directory = Fixtures.adapter("qwen2-lora")
    try registry.put(id: "sql", configData: Data(contentsOf: directory.appendingPathComponent("adapter_config.json")),
                     weightsData: Data(contentsOf: directory.appendingPathComponent("adapter_model.safetensors")), replace: false)
    let leases = LeaseBox()
    DispatchQueue.concurrentPerform(iterations: 8) { _ in
        if let lease = try? registry.lease(id: "sql", mode: .merged) { leases.append(lease) }
    }
    #expect(leases.count == 8)
    #expect(registry.mergesBuilt == 1)
    leases.releaseAll()
}

private final class LeaseBox: @unchecked Sendable {
    private let lock = NSLock()
    private var leases: [AdapterLease] = []
    func append(_ lease: AdapterLease) { lock.withLock { leases.append(lease) } }
    var count: Int { lock.withLock { leases.count } }
    func releaseAll() { lock.withLock { for lease in leases { lease.release() } } }
}
