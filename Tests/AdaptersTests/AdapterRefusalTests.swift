// Every refusal of the adapter loader, each answered with an error that names the problem.
import Adapters
import FixtureSupport
import Formats
import Foundation
import LinearAlgebra
import Models
import Testing

/// Loads a scratch copy of a fixture adapter after `edit` changed it; returns the error's message.
func refusal(_ adapterName: String, model modelName: String = "qwen2-tiny", maxRank: Int = AdapterConfig.defaultMaxRank,
             _ edit: (URL) throws -> Void) throws -> String {
    let base = try BaseModel.load(directory: Fixtures.model(modelName))
    let directory = try Fixtures.scratchCopy(of: Fixtures.adapter(adapterName))
    defer { try? FileManager.default.removeItem(at: directory) }
    try edit(directory)
    do {
        _ = try LoRAAdapter(directory: directory, model: base, maxRank: maxRank)
    } catch {
        return String(describing: error)
    }
    Issue.record("\(adapterName) was accepted after the edit")
    return ""
}

func editConfig(_ directory: URL, _ edit: (inout [String: Any]) -> Void) throws {
    try Fixtures.editJSON(directory.appendingPathComponent("adapter_config.json"), edit)
}

let qKey = "base_model.model.model.layers.0.self_attn.q_proj"

@Test func legacyPickleWeightsAreRefused() throws {
    let message = try refusal("qwen2-lora") { dir in
        try FileManager.default.moveItem(at: dir.appendingPathComponent("adapter_model.safetensors"),
                                         to: dir.appendingPathComponent("adapter_model.bin"))
    }
    #expect(message.contains("adapter_model.bin") && message.contains("pickle"))
}

@Test func otherPeftTypesAreRefused() throws {
    let message = try refusal("qwen2-lora") { try editConfig($0) { $0["peft_type"] = "IA3" } }
    #expect(message.contains("IA3"))
}

@Test(arguments: ["pissa", "pissa_niter_16", "olora", "corda", "loftq"])
func initialisationsThatRewriteTheBaseAreRefused(initialisation: String) throws {
    let message = try refusal("qwen2-lora") { try editConfig($0) { $0["init_lora_weights"] = initialisation } }
    #expect(message.contains(initialisation))
}

@Test func modulesToSaveAreRefused() throws {
    let message = try refusal("qwen2-lora") { try editConfig($0) { $0["modules_to_save"] = ["lm_head"] } }
    #expect(message.contains("modules_to_save"))
}

@Test func loraBiasIsRefused() throws {
    let message = try refusal("qwen2-lora") { try editConfig($0) { $0["lora_bias"] = true } }
    #expect(message.contains("lora_bias"))
}

@Test func loraBiasTensorIsRefused() throws {
    let message = try refusal("qwen2-lora") { dir in
        try Fixtures.rewriteTensors(at: dir.appendingPathComponent("adapter_model.safetensors")) { $0[qKey + ".lora_B.bias"] = ([64], Array(repeating: 0.1, count: 64)) }
    }
    #expect(message.contains("lora_B.bias"))
}

@Test func targetsMatchingNoModuleAreRefused() throws {
    let message = try refusal("qwen2-lora") { try editConfig($0) { $0["target_modules"] = ["query", "value"] } }
    #expect(message.contains("query") || message.contains("target"))
}

@Test func adapterForAnotherArchitectureIsRefused() throws {
    // A BERT adapter on a Qwen2 base: its targets match nothing.
    let message = try refusal("bert-lora") { _ in }
    #expect(!message.isEmpty)
}

@Test func shapeMismatchIsRefused() throws {
    let message = try refusal("qwen2-lora") { dir in
        try Fixtures.rewriteTensors(at: dir.appendingPathComponent("adapter_model.safetensors")) { $0[qKey + ".lora_A.weight"] = ([8, 63], Array(repeating: 0.1, count: 8 * 63)) }
    }
    #expect(message.contains(qKey + ".lora_A.weight") && message.contains("[8, 64]"))
}

@Test func rankDisagreeingWithConfigIsRefused() throws {
    let message = try refusal("qwen2-lora") { dir in
        try Fixtures.rewriteTensors(at: dir.appendingPathComponent("adapter_model.safetensors")) {
            $0[qKey + ".lora_A.weight"] = ([4, 64], Array(repeating: 0.1, count: 4 * 64))
            $0[qKey + ".lora_B.weight"] = ([64, 4], Array(repeating: 0.1, count: 64 * 4))
        }
    }
    #expect(message.contains("[8, 64]"))
}

@Test(arguments: [Float.nan, .infinity, -.infinity])
func nonFiniteWeightsAreRefused(value: Float) throws {
    let message = try refusal("qwen2-lora") { dir in
        try Fixtures.rewriteTensors(at: dir.appendingPathComponent("adapter_model.safetensors")) { $0[qKey + ".lora_B.weight"]!.values[5] = value }
    }
    #expect(message.contains(qKey + ".lora_B.weight") && message.contains("NaN"))
}

@Test func rankAboveTheMaximumIsRefused() throws {
    let message = try refusal("qwen2-lora", maxRank: 4) { _ in }
    #expect(message.contains("8") && message.contains("4"))
}

@Test func unknownModuleIsRefused() throws {
    let message = try refusal("qwen2-lora") { dir in
        try Fixtures.rewriteTensors(at: dir.appendingPathComponent("adapter_model.safetensors")) {
            $0["base_model.model.model.layers.7.self_attn.q_proj.lora_A.weight"] = ([8, 64], Array(repeating: 0.1, count: 8 * 64))
        }
    }
    #expect(message.contains("model.layers.7.self_attn.q_proj"))
}

@Test func weightsForUntargetedModuleAreRefused() throws {
    // qwen2-layers targets k_proj and gate_proj of layer 1 only.
    let message = try refusal("qwen2-layers") { dir in
        try Fixtures.rewriteTensors(at: dir.appendingPathComponent("adapter_model.safetensors")) {
            $0["base_model.model.model.layers.0.self_attn.k_proj.lora_A.weight"] = ([4, 64], Array(repeating: 0.1, count: 4 * 64))
        }
    }
    #expect(message.contains("model.layers.0.self_attn.k_proj"))
}

@Test func missingTensorIsRefused() throws {
    let message = try refusal("qwen2-lora") { dir in try Fixtures.rewriteTensors(at: dir.appendingPathComponent("adapter_model.safetensors")) { $0[qKey + ".lora_B.weight"] = nil } }
    #expect(message.contains(qKey + ".lora_B.weight"))
}

@Test func doraMagnitudeWithoutDoraIsRefused() throws {
    let message = try refusal("qwen2-dora") { try editConfig($0) { $0["use_dora"] = false } }
    #expect(message.contains("lora_magnitude_vector") || message.contains("use_dora"))
}

@Test func missingConfigIsRefused() throws {
    let message = try refusal("qwen2-lora") { try FileManager.default.removeItem(at: $0.appendingPathComponent("adapter_config.json")) }
    #expect(message.contains("adapter_config.json"))
}

@Test func malformedWeightsFileIsRefused() throws {
    let message = try refusal("qwen2-lora") { dir in
        try Data([1, 2, 3]).write(to: dir.appendingPathComponent("adapter_model.safetensors"))
    }
    #expect(!message.isEmpty)
}
