// BERT forward passes and sentence embeddings against transformers on the fixtures.
import FixtureSupport
import Foundation
import LinearAlgebra
import Models
import Testing

func loadEncoder(_ directory: URL) throws -> EncoderModel {
    guard case .encoder(let model) = try BaseModel.load(directory: directory) else {
        throw ModelError.unsupportedArchitecture("expected an encoder at \(directory.path)")
    }
    return model
}

func expectEncodingMatches(_ encoding: Encoding, _ expected: ExpectedOutput) throws {
    let reference = Matrix(nestedRows: try #require(expected.lastHiddenState))
    #expect(encoding.lastHiddenState.shape == reference.shape)
    #expect(encoding.lastHiddenState.maxAbsDifference(reference) < Tolerance.reference)
    #expect(maxAbsDifference(encoding.embedding, try #require(expected.embedding)) < Tolerance.reference)
}

@Test func bertMatchesTransformers() throws {
    let expected = try Fixtures.expected("bert-tiny.base")
    let model = try loadEncoder(Fixtures.model("bert-tiny"))
    #expect(model.pooling == SentencePooling(mode: .mean, normalize: true))
    try expectEncodingMatches(try model.encode(tokens: expected.tokens), expected)
}

@Test(.enabled(if: Fixtures.miniLM != nil, "needs models/all-MiniLM-L6-v2 (make model)"))
func miniLMMatchesTransformers() throws {
    let expected = try Fixtures.expected("all-MiniLM-L6-v2.base")
    let model = try loadEncoder(try #require(Fixtures.miniLM))
    #expect(model.config.hiddenSize == 384 && model.config.layerCount == 6)
    let encoding = try model.encode(tokens: expected.tokens)
    try expectEncodingMatches(encoding, expected)
    // MiniLM's modules.json asks for L2 normalisation.
    #expect(abs(encoding.embedding.reduce(0) { $0 + $1 * $1 } - 1) < 1e-5)
}

@Test func paddingIsMaskedOutOfAttentionAndPooling() throws {
    let model = try loadEncoder(Fixtures.model("bert-tiny"))
    let tokens = [5, 17, 33, 2, 9]
    let plain = try model.encode(tokens: tokens)
    let padded = try model.encode(tokens: tokens + [0, 0, 0], attentionMask: [1, 1, 1, 1, 1, 0, 0, 0])
    #expect(padded.lastHiddenState.rows(0..<5).maxAbsDifference(plain.lastHiddenState) < Tolerance.samePath)
    #expect(maxAbsDifference(padded.embedding, plain.embedding) < Tolerance.samePath)
}

@Test func encoderRejectsBadInput() throws {
    let model = try loadEncoder(Fixtures.model("bert-tiny"))
    #expect(throws: ModelError.tokenOutOfRange(128, vocabularySize: 128)) { try model.encode(tokens: [128]) }
    #expect(throws: ModelError.attentionMaskLength(2, tokens: 3)) { try model.encode(tokens: [1, 2, 3], attentionMask: [1, 1]) }
    #expect(throws: ModelError.sequenceTooLong(65, maximum: 64)) { try model.encode(tokens: Array(repeating: 1, count: 65)) }
    #expect(throws: ModelError.emptyInput) { try model.encode(tokens: []) }
}
