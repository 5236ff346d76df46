// Strict loading: every refusal names its cause.
import FixtureSupport
import Foundation
import Formats
import LinearAlgebra
import Models
import Testing

/// Loads a scratch copy of a fixture model after `edit` changed it, and returns the error.
func loadingError(_ name: String, _ edit: (URL) throws -> Void) throws -> any Error {
    let directory = try Fixtures.scratchCopy(of: Fixtures.model(name))
    defer { try? FileManager.default.removeItem(at: directory) }
    try edit(directory)
    do {
        _ = try BaseModel.load(directory: directory)
    } catch {
        return error
    }
    Issue.record("loading \(name) after the edit succeeded")
    return ModelError.emptyInput
}

@Test func unsupportedArchitectureIsNamed() throws {
    let error = try loadingError("qwen2-tiny") { dir in
        try Fixtures.editJSON(dir.appendingPathComponent("config.json")) { $0["model_type"] = "gpt2"; $0["architectures"] = ["GPT2LMHeadModel"] }
    }
    #expect(error as? ModelError == .unsupportedArchitecture("GPT2LMHeadModel"))
}

@Test func unsupportedRopeScalingIsNamed() throws {
    let error = try loadingError("llama-tiny") { dir in
        try Fixtures.editJSON(dir.appendingPathComponent("config.json")) {
            $0["rope_parameters"] = ["rope_type": "yarn", "rope_theta": 10000.0, "factor": 4.0]
        }
    }
    #expect(error as? ModelError == .unsupportedRopeScaling("yarn"))
}

@Test func missingTensorIsNamed() throws {
    let error = try loadingError("qwen2-tiny") { dir in
        try Fixtures.rewriteTensors(at: dir.appendingPathComponent("model.safetensors")) { $0["model.layers.1.mlp.up_proj.weight"] = nil }
    }
    #expect(error as? ModelError == .missingTensor("model.layers.1.mlp.up_proj.weight"))
}

@Test func unusedTensorIsNamed() throws {
    let error = try loadingError("qwen2-tiny") { dir in
        try Fixtures.rewriteTensors(at: dir.appendingPathComponent("model.safetensors")) { $0["model.layers.0.extra.weight"] = ([2], [1, 2]) }
    }
    #expect(error as? ModelError == .unusedTensors(["model.layers.0.extra.weight"]))
}

@Test func wrongShapeIsNamed() throws {
    let error = try loadingError("qwen2-tiny") { dir in
        try Fixtures.rewriteTensors(at: dir.appendingPathComponent("model.safetensors")) { $0["model.norm.weight"] = ([63], Array(repeating: 1, count: 63)) }
    }
    #expect(error as? ModelError == .tensorShape("model.norm.weight", expected: [64], actual: [63]))
}

@Test func nonFiniteWeightIsNamed() throws {
    let error = try loadingError("qwen2-tiny") { dir in
        try Fixtures.rewriteTensors(at: dir.appendingPathComponent("model.safetensors")) { $0["model.layers.0.self_attn.q_proj.bias"]!.values[3] = .nan }
    }
    #expect(error as? ModelError == .nonFiniteTensor("model.layers.0.self_attn.q_proj.bias"))
}

@Test func missingWeightsAreNamed() throws {
    let error = try loadingError("qwen2-tiny") { dir in
        try FileManager.default.removeItem(at: dir.appendingPathComponent("model.safetensors"))
    }
    guard case .noWeights = error as? ModelError else {
        Issue.record("expected noWeights, got \(error)")
        return
    }
}

@Test func shardedModelLoadsEveryShard() throws {
    let directory = Fixtures.model("mistral-tiny")
    let shards = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".safetensors") }
    #expect(shards.count >= 2)
    _ = try loadDecoder(directory)
}
