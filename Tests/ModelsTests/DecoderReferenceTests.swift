// Llama-family forward passes against transformers' logits on the fixture models.
import FixtureSupport
import Foundation
import LinearAlgebra
import Models
import Testing

func loadDecoder(_ directory: URL) throws -> DecoderModel {
    guard case .decoder(let model) = try BaseModel.load(directory: directory) else {
        throw ModelError.unsupportedArchitecture("expected a decoder at \(directory.path)")
    }
    return model
}

@Test("decoder logits match transformers", arguments: [
    "qwen2-tiny", "llama-tiny", "mistral-tiny", "llama-tiny-bf16", "qwen2-tiny-f16",
])
func decoderMatchesTransformers(model name: String) throws {
    let expected = try Fixtures.expected("\(name).base")
    let model = try loadDecoder(Fixtures.model(name))
    let logits = try model.logits(tokens: expected.tokens)
    let reference = Matrix(nestedRows: try #require(expected.logits))
    #expect(logits.shape == reference.shape)
    #expect(logits.maxAbsDifference(reference) < Tolerance.reference)
}

@Test func classicRopeConfigGivesTheSameLogits() throws {
    // Hub checkpoints write rope_theta + rope_scaling; transformers 5 writes rope_parameters.
    let directory = try Fixtures.scratchCopy(of: Fixtures.model("llama-tiny"))
    defer { try? FileManager.default.removeItem(at: directory) }
    try FileManager.default.removeItem(at: directory.appendingPathComponent("config.json"))
    try FileManager.default.moveItem(at: directory.appendingPathComponent("config.classic.json"),
                                     to: directory.appendingPathComponent("config.json"))
    let expected = try Fixtures.expected("llama-tiny.base")
    let logits = try loadDecoder(directory).logits(tokens: expected.tokens)
    #expect(logits.maxAbsDifference(Matrix(nestedRows: expected.logits!)) < Tolerance.reference)
}

@Test("KV-cache decode equals full recompute", arguments: ["qwen2-tiny", "llama-tiny", "mistral-tiny"])
func cachedDecodeEqualsRecompute(model name: String) throws {
    // mistral-tiny has a sliding window of 4, so later steps must drop old cached keys.
    let model = try loadDecoder(Fixtures.model(name))
    let tokens = try Fixtures.expected("\(name).base").tokens
    let full = try model.logits(tokens: tokens)
    var cache = model.makeCache()
    let prefill = try model.forward(tokens: Array(tokens[..<4]), cache: &cache)
    #expect(prefill.maxAbsDifference(full.rows(0..<4)) < Tolerance.samePath)
    for t in 4..<tokens.count {
        let step = try model.forward(tokens: [tokens[t]], cache: &cache, logits: .last)
        #expect(step.maxAbsDifference(full.rows(t..<(t + 1))) < Tolerance.samePath, "position \(t)")
    }
    #expect(cache.length == tokens.count)
}

@Test func lastRowLogitsEqualTheLastRowOfAll() throws {
    // The head on one row and on six rows are different sgemm shapes, which OpenBLAS may sum in
    // different orders (5.7e-6 apart on Cooperlake, 1.4e-6 on Prescott, 0 on Haswell): equal within
    // the same-path tolerance, not bitwise.
    let model = try loadDecoder(Fixtures.model("qwen2-tiny"))
    let tokens = [3, 1, 4, 1, 5, 9]
    var cache = model.makeCache()
    let last = try model.forward(tokens: tokens, cache: &cache, logits: .last)
    let all = try model.logits(tokens: tokens)
    #expect(last.shape == [1, all.cols])
    let difference = last.maxAbsDifference(all.rows(5..<6))
    #expect(difference < Tolerance.samePath, "max |Δlogit| \(difference)")
}

@Test func decoderRejectsBadTokens() throws {
    let model = try loadDecoder(Fixtures.model("qwen2-tiny"))
    #expect(throws: ModelError.tokenOutOfRange(256, vocabularySize: 256)) { try model.logits(tokens: [1, 256]) }
    #expect(throws: ModelError.tokenOutOfRange(-1, vocabularySize: 256)) { try model.logits(tokens: [-1]) }
    #expect(throws: ModelError.emptyInput) { try model.logits(tokens: []) }
    #expect(throws: ModelError.sequenceTooLong(129, maximum: 128)) { try model.logits(tokens: Array(repeating: 1, count: 129)) }
}

@Test func tiedModelUsesTheEmbeddingAsHead() throws {
    let model = try loadDecoder(Fixtures.model("qwen2-tiny"))
    #expect(model.config.tieWordEmbeddings)
    #expect(model.linear(named: "lm_head")?.weight.shape == [256, 64])
    #expect(model.linearModules.count == 2 * 7 + 1)
}
