// The PEFT writer: pattern keys that resolve to exactly one module under peft's rule (which
// Eckart's AdapterConfig implements), config fields kept, tensors named as peft saves them.
import Adapters
import Formats
import Foundation
import LinearAlgebra
import Testing

private let baseConfig = #"{"peft_type": "LORA", "r": 8, "lora_alpha": 16, "target_modules": ["q_proj", "v_proj"], "rank_pattern": {"q_proj": 4}, "alpha_pattern": {}, "use_rslora": false, "task_type": "CAUSAL_LM"}"#

private func module(_ name: String, rank: Int, alpha: Double = 16, out: Int = 6, in inFeatures: Int = 5) -> PEFTModuleWeights {
    PEFTModuleWeights(name: name, a: Matrix(rows: rank, cols: inFeatures, storage: (0..<(rank * inFeatures)).map { Float($0) }),
                      b: Matrix(rows: out, cols: rank, storage: (0..<(out * rank)).map { -Float($0) }), alpha: alpha, magnitude: nil)
}

@Test func patternKeysResolveOnlyTheirModule() throws {
    let modules = [module("model.layers.1.self_attn.q_proj", rank: 2), module("model.layers.11.self_attn.q_proj", rank: 3, alpha: 4),
                   module("model.layers.1.self_attn.v_proj", rank: 3), module("model.layers.2.self_attn.q_proj", rank: 3)]
    let data = try PEFTAdapterWriter.config(original: Data(baseConfig.utf8), modules: modules, defaultAlpha: 16)
    let config = try AdapterConfig(jsonData: data)
    #expect(config.rank == 3)   // the most common rank
    #expect(config.rank(forModule: "model.layers.1.self_attn.q_proj") == 2)
    #expect(config.rank(forModule: "model.layers.11.self_attn.q_proj") == 3 && config.alpha(forModule: "model.layers.11.self_attn.q_proj") == 4)
    #expect(config.alpha(forModule: "model.layers.1.self_attn.q_proj") == 16)
    // The old short key q_proj is gone: other q_proj modules fall back to r, and an unescaped '.'
    // cannot make layer 1's key match a look-alike path.
    #expect(config.rank(forModule: "model.layers.3.self_attn.q_proj") == 3)
    #expect(config.rank(forModule: "model.layers.1xself_attn.q_proj") == 3)
    #expect(config.rank(forModule: "xmodel.layers.1.self_attn.q_proj") == 3)
    // Everything else is kept.
    let object = try #require(try JSONValue.parse(data).objectValue)
    #expect(object["target_modules"] == .array(["q_proj", "v_proj"]) && object["task_type"] == "CAUSAL_LM" && object["lora_alpha"] == 16)
    #expect(object["rank_pattern"]?.objectValue?.keys == [#"model\.layers\.1\.self_attn\.q_proj"#])
}

@Test func weightsAreNamedAsPeftSavesThem() throws {
    var dora = module("model.layers.0.self_attn.q_proj", rank: 2)
    dora = PEFTModuleWeights(name: dora.name, a: dora.a, b: dora.b, alpha: 16, magnitude: [1, 2, 3, 4, 5, 6])
    let file = try SafetensorsFile(data: Data(try PEFTAdapterWriter.weights([dora])), name: "written")
    #expect(file.tensorNames.sorted() == ["base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight",
                                          "base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight",
                                          "base_model.model.model.layers.0.self_attn.q_proj.lora_magnitude_vector"])
    #expect(try file.matrix("base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight") == dora.a)
    #expect(try file.matrix("base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight") == dora.b)
    #expect(try file.floats("base_model.model.model.layers.0.self_attn.q_proj.lora_magnitude_vector") == [1, 2, 3, 4, 5, 6])
}
