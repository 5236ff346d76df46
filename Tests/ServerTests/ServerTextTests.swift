// Text in: /tokenize, /detokenize and /infer with texts, on the real all-MiniLM-L6-v2.
import FixtureSupport
import Foundation
import Testing
import Tokenizers

@Suite(.serialized, .enabled(if: Fixtures.miniLM != nil, "needs models/all-MiniLM-L6-v2 (make model)"))
struct ServerTextTests {
    func start() throws -> LiveServer {
        let directory = try #require(Fixtures.miniLM)
        return try LiveServer(model: "all-MiniLM-L6-v2", modelDirectory: directory,
                              tokenizer: try Tokenizer(contentsOf: directory.appendingPathComponent("tokenizer.json")))
    }

    @Test func textsEmbedLikeTheirTokens() throws {
        let live = try start()
        defer { live.stop() }
        let expected = try Fixtures.expected("all-MiniLM-L6-v2.base")
        let text = try #require(expected.text)
        let tokenized = try live.post("/tokenize", json: #"{"text": \#(String(decoding: try JSONEncoder().encode(text), as: UTF8.self))}"#)
        #expect(tokenized.json["tokens"] as? [Int] == expected.tokens)
        let reply = try live.post("/infer", json: #"{"texts": [\#(String(decoding: try JSONEncoder().encode(text), as: UTF8.self))]}"#)
        #expect(reply.status == 200, "\(reply.text)")
        let embedding = try #require(floats(reply.json["embeddings"]).first)
        #expect(maxAbsDifference(embedding, expected.embedding!) < Tolerance.reference)
        #expect((reply.json["usage"] as? [String: Int])?["prompt_tokens"] == expected.tokens.count)
    }

    @Test func detokenizeRoundTrips() throws {
        let live = try start()
        defer { live.stop() }
        let reply = try live.post("/detokenize", json: #"{"tokens": [101, 2023, 2003, 1037, 3231, 102]}"#)
        #expect(reply.json["text"] as? String == "this is a test")
        #expect(try live.post("/detokenize", json: #"{"tokens": [99999999]}"#).errorCode == "invalid_field")
    }

    @Test func textFieldsAreChecked() throws {
        let live = try start()
        defer { live.stop() }
        #expect(try live.post("/infer", json: #"{"prompt": "hi"}"#).errorCode == "invalid_field")          // encoder: use texts
        #expect(try live.post("/infer", json: #"{"texts": ["a"], "tokens": [[1]]}"#).errorCode == "invalid_field")
        #expect(try live.post("/infer", json: #"{"texts": [1]}"#).errorCode == "invalid_field")
    }

    /// `null` is not a boolean: it used to be taken as "absent" (the default).
    @Test func nullBooleansAreRefused() throws {
        let live = try start()
        defer { live.stop() }
        let tokenize = try live.post("/tokenize", json: #"{"text": "a", "add_special_tokens": null}"#)
        #expect(tokenize.status == 400 && tokenize.text.contains("add_special_tokens must be a boolean, got null"), "\(tokenize.text)")
        let detokenize = try live.post("/detokenize", json: #"{"tokens": [101], "skip_special_tokens": null}"#)
        #expect(detokenize.status == 400 && detokenize.errorCode == "invalid_field")
        #expect(try live.post("/tokenize", json: #"{"text": "a", "add_special_tokens": false}"#).status == 200)
    }
}

@Test func withoutTokenizerTextIsRefused() throws {
    let live = try LiveServer(model: "qwen2-tiny")
    defer { live.stop() }
    #expect(try live.post("/infer", json: #"{"prompt": "hello"}"#).errorCode == "no_tokenizer")
    #expect(try live.post("/tokenize", json: #"{"text": "hello"}"#).errorCode == "no_tokenizer")
}

/// A tokenizer that failed to load is named in the error of every request with text, instead of
/// "no tokenizer.json" about a file that is there.
@Test func aTokenizerThatFailedToLoadIsNamed() throws {
    let live = try LiveServer(model: "qwen2-tiny") { $0.tokenizerProblem = "unsupported model type Unigram" }
    defer { live.stop() }
    for (path, body) in [("/infer", #"{"prompt": "hello"}"#), ("/tokenize", #"{"text": "hello"}"#),
                         ("/v1/completions", #"{"model": "qwen2-tiny", "prompt": "hello"}"#)] {
        let reply = try live.post(path, json: body)
        #expect(reply.status == 400 && reply.text.contains("tokenizer failed to load") && reply.text.contains("Unigram"), "\(path): \(reply.text)")
    }
}
