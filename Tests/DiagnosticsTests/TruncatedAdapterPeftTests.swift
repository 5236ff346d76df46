// Eckart's truncated adapters against peft: the PEFT directories `eckart truncate` wrote, loaded by
// peft 0.21.2 (Tests/Fixtures/truncation), give the outputs Eckart gives — both when Eckart loads the
// written files and when it truncates in memory. The written config resolves through Eckart's own
// AdapterConfig to the intended ranks.
import Adapters
import Diagnostics
import FixtureSupport
import Formats
import Foundation
import LinearAlgebra
import Models
import Testing

private let truncationDirectory = Fixtures.directory.appendingPathComponent("truncation")

/// (case, source adapter, model)
private let cases = [("qwen2-lora-r2", "qwen2-lora", "qwen2-tiny"), ("llama-rslora-patterns-e0.9", "llama-rslora-patterns", "llama-tiny"),
                     ("llama-dora-r2", "llama-dora", "llama-tiny"), ("bert-lora-r1", "bert-lora", "bert-tiny")]

@Test(arguments: cases)
func eckartOutputsForItsTruncatedAdapterEqualPeft(_ c: (String, String, String)) throws {
    let (name, source, modelName) = c
    let url = truncationDirectory.appendingPathComponent("expected/\(name).json")
    let expected = try JSONDecoder().decode(ExpectedOutput.self, from: Data(contentsOf: url))
    let ranks = try #require((try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])?["ranks"] as? [String: Int])
    let model = try BaseModel.load(directory: Fixtures.model(modelName))
    let written = try LoRAAdapter(directory: truncationDirectory.appendingPathComponent("adapters/\(name)"), model: model)
    let original = try LoRAAdapter(directory: Fixtures.adapter(source), model: model)
    let inMemory = try AdapterTruncation.truncated(original, ranks: ranks, model: model)
    for module in written.moduleNames { #expect(written.updates[module]!.rank == max(1, ranks[module]!), "\(module)") }
    for adapter in [written, inMemory] {
        // fp32 policy: 1e-4 absolute on logits / hidden states (Tests/FixtureSupport/Tolerance.swift).
        switch model {
        case .decoder(let decoder):
            let logits = try decoder.logits(tokens: expected.tokens, overlay: UnmergedAdapter(adapter))
            let reference = try #require(expected.logits)
            #expect(logits.shape == [reference.count, reference[0].count])
            #expect(maxAbsDifference(logits.storage, reference.flatMap { $0 }) <= 1e-4)
        case .encoder(let encoder):
            let encoding = try encoder.encode(tokens: expected.tokens, overlay: UnmergedAdapter(adapter))
            #expect(maxAbsDifference(encoding.lastHiddenState.storage, try #require(expected.lastHiddenState).flatMap { $0 }) <= 1e-4)
            #expect(maxAbsDifference(encoding.embedding, try #require(expected.embedding)) <= 1e-4)
        }
    }
}

@Test func writtenConfigRoundTripsThroughEckartsResolver() throws {
    let model = try BaseModel.load(directory: Fixtures.model("llama-tiny"))
    let directory = Fixtures.adapter("llama-rslora-patterns")
    let adapter = try LoRAAdapter(directory: directory, model: model)
    let configData = try Data(contentsOf: directory.appendingPathComponent("adapter_config.json"))
    let files = try TruncatedAdapterFiles(adapter: adapter, spectrum: try AdapterSpectrum(adapter: adapter, model: model),
                                          configData: configData, weights: try SafetensorsFile(contentsOf: directory.appendingPathComponent("adapter_model.safetensors")),
                                          goal: .energy(0.95))
    let config = try AdapterConfig(jsonData: files.configData)
    let allocated = files.allocation.rankByModule
    #expect(Set(allocated.values).count > 1, "energy allocation should give modules different ranks")
    for module in adapter.moduleNames {
        #expect(config.rank(forModule: module) == max(1, allocated[module]!), "\(module)")
        #expect(config.alpha(forModule: module) == adapter.config.alpha(forModule: module), "\(module)")
    }
    // Every field but r / rank_pattern / alpha_pattern is kept as it was.
    var before = try JSONValue.parse(configData).objectValue!, after = try JSONValue.parse(files.configData).objectValue!
    for key in ["r", "rank_pattern", "alpha_pattern"] { before[key] = nil; after[key] = nil }
    #expect(before == after)
    // The weights load back with those ranks.
    let reloaded = try LoRAAdapter(config: config, weights: try SafetensorsFile(data: Data(files.weightsData), name: "truncated"), model: model)
    #expect(reloaded.moduleNames == adapter.moduleNames)
}

@Test func patternKeysMatchExactlyOneModule() {
    #expect(PEFTAdapterWriter.patternKey(for: "model.layers.1.self_attn.q_proj") == #"model\.layers\.1\.self_attn\.q_proj"#)
    #expect(PEFTAdapterWriter.commonRank([2, 4, 4, 2, 8]) == 4)
    #expect(PEFTAdapterWriter.commonRank([1, 2, 3]) == 3)
}
