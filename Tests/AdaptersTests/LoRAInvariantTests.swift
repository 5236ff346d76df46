// The LoRA invariants by name: merged equals unmerged, a zero B gives exactly the base, and the
// base weights are untouched after any number of merges.
import Adapters
import FixtureSupport
import Formats
import Foundation
import LinearAlgebra
import Models
import Testing

@Test("merged equals unmerged", arguments: ["qwen2-lora", "llama-dora", "qwen2-dora", "llama-rslora-patterns"])
func mergedEqualsUnmerged(adapterName: String) throws {
    let modelName = adapterName.hasPrefix("qwen2") ? "qwen2-tiny" : "llama-tiny"
    let base = try BaseModel.load(directory: Fixtures.model(modelName))
    guard case .decoder(let model) = base else { throw ModelError.unsupportedArchitecture(modelName) }
    let adapter = try LoRAAdapter(directory: Fixtures.adapter(adapterName), model: base)
    let tokens = [7, 3, 250, 41, 99, 0, 12]
    let unmerged = try model.logits(tokens: tokens, overlay: UnmergedAdapter(adapter))
    let merged = try model.logits(tokens: tokens, overlay: MergedAdapter(adapter, model: base))
    #expect(unmerged.maxAbsDifference(merged) < Tolerance.samePath)
}

@Test func zeroBGivesExactlyTheBase() throws {
    let base = try BaseModel.load(directory: Fixtures.model("qwen2-tiny"))
    guard case .decoder(let model) = base else { throw ModelError.unsupportedArchitecture("qwen2-tiny") }
    let source = try SafetensorsFile(contentsOf: Fixtures.adapter("qwen2-lora").appendingPathComponent("adapter_model.safetensors"))
    let zeroed = try source.tensorNames.map { name in
        let values = try source.floats(name)
        return (name, source.info(name)!.shape, name.hasSuffix("lora_B.weight") ? values.map { _ in Float(0) } : values)
    }
    let config = try AdapterConfig(jsonData: Data(contentsOf: Fixtures.adapter("qwen2-lora").appendingPathComponent("adapter_config.json")))
    let adapter = try LoRAAdapter(config: config, weights: SafetensorsFile(bytes: SafetensorsWriter.serialize(tensors: zeroed)), model: base)
    let tokens = [1, 2, 3, 4, 5]
    let plain = try model.logits(tokens: tokens)
    #expect(try model.logits(tokens: tokens, overlay: UnmergedAdapter(adapter)) == plain)
    #expect(try model.logits(tokens: tokens, overlay: MergedAdapter(adapter, model: base)) == plain)
}

@Test func baseWeightsAreUntouchedByMerges() throws {
    let base = try BaseModel.load(directory: Fixtures.model("llama-tiny"))
    let before = base.linearModules.map { base.linear(named: $0.name)!.weight }
    let adapters = try ["llama-dora", "llama-rslora-patterns"].map { try LoRAAdapter(directory: Fixtures.adapter($0), model: base) }
    var merges: [MergedAdapter] = []
    for _ in 0..<3 { for adapter in adapters { merges.append(MergedAdapter(adapter, model: base)) } }
    let after = base.linearModules.map { base.linear(named: $0.name)!.weight }
    #expect(before == after)
    // And the merged copies really differ from the base where the adapter applies.
    let q = "model.layers.0.self_attn.q_proj"
    #expect(merges[0].linear(named: q)!.weight != base.linear(named: q)!.weight)
}

@Test func severalAdaptersServeOneModel() throws {
    let base = try BaseModel.load(directory: Fixtures.model("qwen2-tiny"))
    guard case .decoder(let model) = base else { throw ModelError.unsupportedArchitecture("qwen2-tiny") }
    let names = ["qwen2-lora", "qwen2-dora", "qwen2-layers"]
    let adapters = try names.map { try LoRAAdapter(directory: Fixtures.adapter($0), model: base) }
    // Interleave calls: each one must give its own adapter's reference output.
    for _ in 0..<2 {
        for (name, adapter) in zip(names, adapters) {
            let expected = try Fixtures.expected("qwen2-tiny.\(name)")
            let logits = try model.logits(tokens: expected.tokens, overlay: UnmergedAdapter(adapter))
            #expect(logits.maxAbsDifference(Matrix(nestedRows: expected.logits!)) < Tolerance.reference, "\(name)")
        }
    }
}

@Test func adapterDescribesItself() throws {
    let base = try BaseModel.load(directory: Fixtures.model("llama-tiny"))
    let adapter = try LoRAAdapter(directory: Fixtures.adapter("llama-rslora-patterns"), model: base)
    // rank_pattern {"q_proj": 4, "layers.1.mlp.down_proj": 2}; rsLoRA scale alpha/sqrt(r).
    let q = try #require(adapter.updates["model.layers.0.self_attn.q_proj"])
    #expect(q.rank == 4)
    #expect(adapter.updates["model.layers.1.mlp.down_proj"]?.rank == 2)
    #expect(adapter.updates["model.layers.0.mlp.down_proj"]?.rank == 8)
    #expect(adapter.updates["model.layers.0.self_attn.k_proj"] == nil)
    #expect(abs(q.scale - Float(adapter.config.alpha(forModule: "model.layers.0.self_attn.q_proj") / 2)) < 1e-6)
}
