// Adapters against transformers + peft, unmerged and merged, on the fixture models.
import Adapters
import FixtureSupport
import Foundation
import LinearAlgebra
import Models
import Testing

enum Mode: String, CaseIterable { case unmerged, merged }

func overlay(_ adapter: LoRAAdapter, _ mode: Mode, _ model: BaseModel) -> any LinearOverlay {
    switch mode {
    case .unmerged: UnmergedAdapter(adapter)
    case .merged: MergedAdapter(adapter, model: model)
    }
}

let decoderCases = [
    ("qwen2-tiny", "qwen2-lora"), ("llama-tiny", "llama-rslora-patterns"), ("llama-tiny", "llama-dora"),
    ("qwen2-tiny", "qwen2-dora"), ("qwen2-tiny", "qwen2-layers"), ("mistral-tiny", "mistral-lora"),
    ("llama-tiny-bf16", "llama-bf16-lora"),
]

@Test("decoder adapters match peft", arguments: decoderCases, Mode.allCases)
func decoderAdapterMatchesPeft(pair: (String, String), mode: Mode) throws {
    let (modelName, adapterName) = pair
    let base = try BaseModel.load(directory: Fixtures.model(modelName))
    guard case .decoder(let model) = base else { throw ModelError.unsupportedArchitecture(modelName) }
    let adapter = try LoRAAdapter(directory: Fixtures.adapter(adapterName), model: base)
    let expected = try Fixtures.expected("\(modelName).\(adapterName)")
    let logits = try model.logits(tokens: expected.tokens, overlay: overlay(adapter, mode, base))
    let reference = Matrix(nestedRows: try #require(mode == .merged ? expected.mergedLogits : expected.logits))
    #expect(logits.shape == reference.shape)
    #expect(logits.maxAbsDifference(reference) < Tolerance.reference)
    // The adapter must matter: outputs differ from the base model's.
    let baseLogits = try model.logits(tokens: expected.tokens)
    #expect(logits.maxAbsDifference(baseLogits) > 1e-3)
}

@Test("encoder adapters match peft", arguments: ["bert-lora", "bert-dora"], Mode.allCases)
func encoderAdapterMatchesPeft(adapterName: String, mode: Mode) throws {
    let base = try BaseModel.load(directory: Fixtures.model("bert-tiny"))
    guard case .encoder(let model) = base else { throw ModelError.unsupportedArchitecture("bert-tiny") }
    let adapter = try LoRAAdapter(directory: Fixtures.adapter(adapterName), model: base)
    let expected = try Fixtures.expected("bert-tiny.\(adapterName)")
    let encoding = try model.encode(tokens: expected.tokens, overlay: overlay(adapter, mode, base))
    #expect(encoding.lastHiddenState.maxAbsDifference(Matrix(nestedRows: expected.lastHiddenState!)) < Tolerance.reference)
    #expect(maxAbsDifference(encoding.embedding, expected.embedding!) < Tolerance.reference)
}

@Test(arguments: Mode.allCases)
func paddedEncoderAdapterMatchesPeft(mode: Mode) throws {
    let base = try BaseModel.load(directory: Fixtures.model("bert-tiny"))
    guard case .encoder(let model) = base else { throw ModelError.unsupportedArchitecture("bert-tiny") }
    let adapter = try LoRAAdapter(directory: Fixtures.adapter("bert-lora"), model: base)
    let expected = try Fixtures.expected("bert-tiny.bert-lora.padded")
    let encoding = try model.encode(tokens: expected.tokens, attentionMask: expected.attentionMask, overlay: overlay(adapter, mode, base))
    #expect(encoding.lastHiddenState.maxAbsDifference(Matrix(nestedRows: expected.lastHiddenState!)) < Tolerance.reference)
    #expect(maxAbsDifference(encoding.embedding, expected.embedding!) < Tolerance.reference)
}

@Test(.enabled(if: Fixtures.miniLM != nil, "needs models/all-MiniLM-L6-v2 (make model)"), arguments: Mode.allCases)
func miniLMAdapterMatchesPeft(mode: Mode) throws {
    let base = try BaseModel.load(directory: try #require(Fixtures.miniLM))
    guard case .encoder(let model) = base else { throw ModelError.unsupportedArchitecture("MiniLM") }
    let adapter = try LoRAAdapter(directory: Fixtures.adapter("minilm-lora"), model: base)
    let expected = try Fixtures.expected("all-MiniLM-L6-v2.minilm-lora")
    let encoding = try model.encode(tokens: expected.tokens, overlay: overlay(adapter, mode, base))
    #expect(encoding.lastHiddenState.maxAbsDifference(Matrix(nestedRows: expected.lastHiddenState!)) < Tolerance.reference)
    #expect(maxAbsDifference(encoding.embedding, expected.embedding!) < Tolerance.reference)
}
