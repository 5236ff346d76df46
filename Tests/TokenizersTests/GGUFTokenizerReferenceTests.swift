// The tokenizer Eckart builds from a GGUF file's tokenizer.ggml.* metadata: on the real SmolLM2
// file, the ids transformers builds from the same file (Tests/Fixtures/smollm2/generate_tokens.py)
// for English, code, numbers, unicode, emoji, whitespace runs, special tokens and rendered chats;
// on small files, the refusals a user gets instead of wrong ids.
import FixtureSupport
import Formats
import Foundation
import Testing
@testable import Tokenizers

@Suite(.enabled(if: SmolLM2.gguf != nil, "needs the SmolLM2 GGUF (make model, ECKART_SMOLLM2_GGUF)"))
struct GGUFTokenizerReferenceTests {
    @Test func idsMatchTransformers() throws {
        let reference = try SmolLM2Tokens.load()
        let tokenizer = try Tokenizer(gguf: GGUFFile(contentsOf: try #require(SmolLM2.gguf)))
        #expect(tokenizer.vocabularySize == reference.vocabularySize)
        for c in reference.cases {
            #expect(tokenizer.encode(c.text) == c.ids, "\(c.text.debugDescription)")
            // Decoding gives the text back (byte-level BPE loses nothing).
            #expect(tokenizer.decode(c.ids, skipSpecialTokens: false) == c.text, "\(c.text.debugDescription)")
        }
        for chat in reference.chats {
            #expect(tokenizer.encode(chat.rendered, addSpecialTokens: false) == chat.ids)
        }
    }
}

/// A vocabulary of three byte-level tokens and one merge, with `model` as tokenizer.ggml.model.
private func tinyTokenizerFile(model: String) throws -> URL {
    var g = TinyGGUF()
    g.metadata += [("tokenizer.ggml.model", .string(model)), ("tokenizer.ggml.tokens", .strings(["a", "b", "ab"])),
                   ("tokenizer.ggml.merges", .strings(["a b"])), ("tokenizer.ggml.token_type", .raw(type: 9, bytes: int32Array([1, 1, 1])))]
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("eckart-tokenizer-\(UUID().uuidString).gguf")
    try Data(g.bytes()).write(to: url)
    return url
}

private func int32Array(_ values: [Int32]) -> [UInt8] {
    var out: [UInt8] = []
    withUnsafeBytes(of: UInt32(5).littleEndian) { out += $0 }          // element type int32
    withUnsafeBytes(of: UInt64(values.count).littleEndian) { out += $0 }
    for v in values { withUnsafeBytes(of: v.littleEndian) { out += $0 } }
    return out
}

@Test func aSmallByteLevelVocabularyMerges() throws {
    let url = try tinyTokenizerFile(model: "gpt2")
    defer { try? FileManager.default.removeItem(at: url) }
    let tokenizer = try Tokenizer(gguf: GGUFFile(contentsOf: url))
    #expect(tokenizer.encode("ab", addSpecialTokens: false) == [2])
    #expect(tokenizer.encode("ba", addSpecialTokens: false) == [1, 0])
}

@Test func aVocabularyOfAnotherKindIsRefusedByName() throws {
    let url = try tinyTokenizerFile(model: "t5")
    defer { try? FileManager.default.removeItem(at: url) }
    #expect {
        try Tokenizer(gguf: GGUFFile(contentsOf: url))
    } throws: { error in
        "\(error)".contains("tokenizer.ggml.model") && "\(error)".contains("t5")
    }
}

/// A SentencePiece (`llama`) vocabulary with scores and no merges, written by gguf-py
/// (Tests/Fixtures/gguf/generate_sentencepiece.py): merges derived from the scores, byte fallback,
/// "▁" spaces, BOS, control and user-defined tokens give transformers' ids, and decode as it does.
@Test func aSentencePieceVocabularyGivesTransformersIds() throws {
    struct Reference: Decodable {
        struct Case: Decodable { let text: String; let ids: [Int]; let decoded: String }
        let vocabulary_size: Int
        let cases: [Case]
    }
    let directory = Fixtures.directory.appendingPathComponent("gguf")
    let reference = try JSONDecoder().decode(Reference.self, from: Data(contentsOf: directory.appendingPathComponent("sp-tokens.json")))
    let tokenizer = try Tokenizer(gguf: GGUFFile(contentsOf: directory.appendingPathComponent("sp-vocab.gguf")))
    #expect(tokenizer.vocabularySize == reference.vocabulary_size)
    for c in reference.cases {
        #expect(tokenizer.encode(c.text) == c.ids, "\(c.text.debugDescription)")
        #expect(tokenizer.decode(c.ids) == c.decoded, "\(c.text.debugDescription)")
    }
}

/// On a small vocabulary, the merges transformers' generate_merges gives (its output, pasted): one
/// token's splits go by the ids of their halves; all by score, then the longer left half, then the
/// longer right half, ties in vocabulary order.
@Test func mergesFromScoresFollowTransformersOrder() {
    let tokens = ["▁", "t", "h", "e", "▁t", "he", "▁th", "▁the", "th"]
    let scores: [Double] = [0, 0, 0, 0, -1, -1, -2, -0.5, -1]
    var vocab: [String: Int] = [:]
    for (i, t) in tokens.enumerated() { vocab[t] = i }
    let merges = Tokenizer.mergesFromScores(tokens: tokens, scores: scores, vocab: vocab)
    #expect(merges.map { "\($0.0) \($0.1)" } == ["▁th e", "▁t he", "▁ t", "h e", "t h", "▁t h", "▁ th"])
}
