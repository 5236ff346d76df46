// AdapterStore: round trip, id validation, replace, and scanning after a restart.
import Adapters
import FixtureSupport
import Formats
import Foundation
import Testing

private func fixtureFiles(_ name: String) throws -> (config: Data, weights: Data) {
    let directory = Fixtures.adapter(name)
    return (try Data(contentsOf: directory.appendingPathComponent("adapter_config.json")),
            try Data(contentsOf: directory.appendingPathComponent("adapter_model.safetensors")))
}

private func emptyRoot() -> URL {
    FileManager.default.temporaryDirectory.appendingPathComponent("eckart-store-\(UUID().uuidString)")
}

/// The root's entries but the cross-process lock file, which every put / remove / scan creates.
private func rootEntries(_ store: AdapterStore) throws -> [String] {
    try FileManager.default.contentsOfDirectory(atPath: store.root.path).filter { $0 != ".~lock" }.sorted()
}

@Suite struct AdapterStoreTests {
    @Test func storeRoundTrip() throws {
        let store = try AdapterStore(root: emptyRoot())
        defer { try? FileManager.default.removeItem(at: store.root) }
        let (config, weights) = try fixtureFiles("qwen2-lora")
        try store.put(id: "my-adapter_v1.0", configData: config, weightsData: weights, replace: false)
        #expect(store.contains("my-adapter_v1.0"))
        #expect(store.list() == ["my-adapter_v1.0"])
        let stored = try store.contents(of: "my-adapter_v1.0")
        #expect(stored.configData == config)
        #expect(stored.weightsData == weights)
        let files = try store.files(of: "my-adapter_v1.0")
        #expect(try Data(contentsOf: files.weights) == weights)
        #expect(files.config.deletingLastPathComponent().lastPathComponent == "my-adapter_v1.0")
        #expect(try rootEntries(store) == ["my-adapter_v1.0"])   // no staging directory left

        try store.remove(id: "my-adapter_v1.0")
        #expect(!store.contains("my-adapter_v1.0"))
        #expect(store.list().isEmpty)
        #expect(throws: StoreError.notFound("my-adapter_v1.0")) { try store.remove(id: "my-adapter_v1.0") }
        #expect(throws: StoreError.notFound("my-adapter_v1.0")) { try store.contents(of: "my-adapter_v1.0") }
        #expect(try rootEntries(store).isEmpty)
    }

    @Test("invalid ids are refused", arguments: ["../x", "", String(repeating: "a", count: 65), "a/b", ".", "..", "a b", "é", "x~y"])
    func storeRefusesInvalidIDs(id: String) throws {
        let store = try AdapterStore(root: emptyRoot())
        defer { try? FileManager.default.removeItem(at: store.root) }
        #expect {
            try store.put(id: id, configData: Data("{}".utf8), weightsData: Data(), replace: true)
        } throws: { error in
            guard case StoreError.invalidID(let got, _) = error else { return false }
            return got == id
        }
        #expect(throws: StoreError.self) { try store.remove(id: id) }
        #expect(throws: StoreError.self) { try store.files(of: id) }
        #expect(!store.contains(id))
        #expect(try rootEntries(store).isEmpty)
        // The longest valid id is fine.
        try AdapterStore.validate(id: String(repeating: "a", count: 64))
        try AdapterStore.validate(id: "..a")
    }

    @Test func storeRefusesDuplicateWithoutReplace() throws {
        let store = try AdapterStore(root: emptyRoot())
        defer { try? FileManager.default.removeItem(at: store.root) }
        let (config, weights) = try fixtureFiles("qwen2-lora")
        try store.put(id: "a", configData: config, weightsData: weights, replace: false)
        #expect(throws: StoreError.exists("a")) {
            try store.put(id: "a", configData: Data("{}".utf8), weightsData: Data(), replace: false)
        }
        #expect(try store.contents(of: "a").weightsData == weights)
        #expect(try rootEntries(store) == ["a"])
    }

    @Test func storeValidationFailureWritesNothing() throws {
        struct Refused: Error {}
        let store = try AdapterStore(root: emptyRoot())
        defer { try? FileManager.default.removeItem(at: store.root) }
        #expect(throws: Refused.self) {
            try store.put(id: "a", configData: Data(), weightsData: Data(), replace: false) { _, _ in throw Refused() }
        }
        #expect(try rootEntries(store).isEmpty)
    }

    @Test func storeReplaceSwapsBothFiles() throws {
        let store = try AdapterStore(root: emptyRoot())
        defer { try? FileManager.default.removeItem(at: store.root) }
        let old = try fixtureFiles("qwen2-lora")
        let new = try fixtureFiles("qwen2-dora")
        try store.put(id: "a", configData: old.config, weightsData: old.weights, replace: false)
        // A reader that opened the old files before the replace keeps reading the old bytes.
        let before = try store.contents(of: "a")
        try store.put(id: "a", configData: new.config, weightsData: new.weights, replace: true)
        #expect(before.weightsData == old.weights)
        let after = try store.contents(of: "a")
        #expect(after.configData == new.config)
        #expect(after.weightsData == new.weights)
        #expect(try rootEntries(store) == ["a"])   // no staging or aside directory remains
    }

    @Test func storeReadersDuringReplaceSeeOldOrNewNeverAMix() throws {
        let store = try AdapterStore(root: emptyRoot())
        defer { try? FileManager.default.removeItem(at: store.root) }
        let versions = [try fixtureFiles("qwen2-lora"), try fixtureFiles("qwen2-dora")]
        try store.put(id: "a", configData: versions[0].config, weightsData: versions[0].weights, replace: false)
        DispatchQueue.concurrentPerform(iterations: 2) { worker in
            for i in 0..<20 {
                if worker == 0 {
                    let v = versions[(i + 1) % 2]
                    try! store.put(id: "a", configData: v.config, weightsData: v.weights, replace: true)
                } else {
                    let read = try! store.contents(of: "a")
                    let match = versions.firstIndex { $0.config == read.configData }
                    #expect(match != nil)
                    if let match { #expect(versions[match].weights == read.weightsData) }
                }
            }
        }
        #expect(try rootEntries(store) == ["a"])
    }

    @Test func storeScanAfterRestartReportsDamageAndCleansLeftovers() throws {
        let root = emptyRoot()
        defer { try? FileManager.default.removeItem(at: root) }
        do {
            let store = try AdapterStore(root: root)
            for name in ["qwen2-lora", "qwen2-dora", "qwen2-layers"] {
                let files = try fixtureFiles(name)
                try store.put(id: name, configData: files.config, weightsData: files.weights, replace: false)
            }
            let truncated = try fixtureFiles("qwen2-lora")
            try store.put(id: "truncated", configData: truncated.config, weightsData: truncated.weights.prefix(100), replace: false)
        }
        let fm = FileManager.default
        // Damage: a missing weights file, and leftovers of an interrupted put and an interrupted replace.
        let noWeights = root.appendingPathComponent("no-weights")
        try fm.createDirectory(at: noWeights, withIntermediateDirectories: true)
        try Data(contentsOf: Fixtures.adapter("qwen2-lora").appendingPathComponent("adapter_config.json"))
            .write(to: noWeights.appendingPathComponent("adapter_config.json"))
        try fm.createDirectory(at: root.appendingPathComponent(".~staging-0123456789abcdef"), withIntermediateDirectories: true)
        // A replace that crashed between its two renames: the old copy is aside and no "restored" exists.
        try fm.copyItem(at: Fixtures.adapter("qwen2-layers"), to: root.appendingPathComponent(".~old-00000000000000aa-restored"))
        // A replace that crashed after both renames: the aside copy of "qwen2-lora" is stale.
        try fm.copyItem(at: Fixtures.adapter("qwen2-dora"), to: root.appendingPathComponent(".~old-00000000000000bb-qwen2-lora"))

        // A remove that crashed before deleting its renamed copy: must stay deleted.
        try fm.copyItem(at: Fixtures.adapter("qwen2-lora"), to: root.appendingPathComponent(".~deleted-00000000000000cc-gone"))

        let store = try AdapterStore(root: root)   // "restart"
        var validated: [String] = []
        let report = store.scan { stored in
            validated.append(stored.id)
            _ = try SafetensorsFile(data: stored.weightsData)   // the store itself is format-agnostic
        }
        #expect(report.valid == ["qwen2-dora", "qwen2-layers", "qwen2-lora", "restored"])
        #expect(report.damaged.map(\.id) == ["no-weights", "truncated"])
        #expect(report.damaged[0].reason.contains("adapter_model.safetensors"))
        #expect(report.restored == ["restored"])
        #expect(Set(report.cleaned) == [".~staging-0123456789abcdef", ".~old-00000000000000bb-qwen2-lora", ".~deleted-00000000000000cc-gone"])
        #expect(validated.count == 5)
        #expect(try rootEntries(store) == ["no-weights", "qwen2-dora", "qwen2-layers", "qwen2-lora", "restored", "truncated"])
        // The stale aside copy was dropped, not restored over the newer entry.
        #expect(try store.contents(of: "qwen2-lora").weightsData == fixtureFiles("qwen2-lora").weights)
    }
}
