// Every case of Tests/Fixtures/tokenizers/cases.json (written by generate_tokenizers.py with
// Hugging Face tokenizers 0.23.3): identical ids with and without special tokens, and identical
// decoded text with and without skipping special tokens.
import FixtureSupport
import Foundation
import Testing
import Tokenizers

/// One reference case.
struct TokenizerCase: Decodable, Sendable {
    let text: String
    let ids: [Int]
    let idsNoSpecial: [Int]
    let decoded: String
    let decodedWithSpecial: String

    enum CodingKeys: String, CodingKey {
        case text, ids, decoded
        case idsNoSpecial = "ids_no_special"
        case decodedWithSpecial = "decoded_with_special"
    }
}

enum TokenizerFixtures {
    static let directory = Fixtures.directory.appendingPathComponent("tokenizers")

    static func cases(_ name: String) throws -> [TokenizerCase] {
        let data = try Data(contentsOf: directory.appendingPathComponent("cases.json"))
        let all = try JSONDecoder().decode([String: [TokenizerCase]].self, from: data)
        return try #require(all[name], "no cases for \(name); rerun generate_tokenizers.py")
    }

    static func vocabularySize(_ name: String) throws -> Int {
        let data = try Data(contentsOf: directory.appendingPathComponent("vocab_sizes.json"))
        return try #require(try JSONDecoder().decode([String: Int].self, from: data)[name])
    }

    static func tokenizer(_ name: String) throws -> Tokenizer {
        try Tokenizer(contentsOf: directory.appendingPathComponent(name + ".json"))
    }

    /// Compares every case; strings compare by scalars, since `==` on String is canonical equivalence.
    static func check(_ tokenizer: Tokenizer, _ cases: [TokenizerCase]) {
        #expect(!cases.isEmpty)
        for c in cases {
            #expect(tokenizer.encode(c.text) == c.ids, "ids of \(c.text.debugDescription)")
            #expect(tokenizer.encode(c.text, addSpecialTokens: false) == c.idsNoSpecial,
                    "ids without special tokens of \(c.text.debugDescription)")
            let decoded = tokenizer.decode(c.ids)
            #expect(Array(decoded.unicodeScalars) == Array(c.decoded.unicodeScalars),
                    "decode of \(c.text.debugDescription): \(decoded.debugDescription)")
            let withSpecial = tokenizer.decode(c.ids, skipSpecialTokens: false)
            #expect(Array(withSpecial.unicodeScalars) == Array(c.decodedWithSpecial.unicodeScalars),
                    "decode with special tokens of \(c.text.debugDescription): \(withSpecial.debugDescription)")
        }
    }
}

@Suite("Tokenizers match Hugging Face tokenizers")
struct ReferenceCasesTests {
    @Test("trained fixture tokenizers", arguments: ["wordpiece-uncased", "wordpiece-cased", "bpe-bytelevel", "bpe-llama3", "bpe-qwen2", "bpe-sentencepiece", "bpe-metaspace"])
    func trained(name: String) throws {
        let tokenizer = try TokenizerFixtures.tokenizer(name)
        #expect(tokenizer.vocabularySize == (try TokenizerFixtures.vocabularySize(name)))
        TokenizerFixtures.check(tokenizer, try TokenizerFixtures.cases(name))
    }

    @Test("all-MiniLM-L6-v2", .enabled(if: Fixtures.miniLM != nil, "models/all-MiniLM-L6-v2 not present"))
    func miniLM() throws {
        let directory = try #require(Fixtures.miniLM)
        let tokenizer = try Tokenizer(contentsOf: directory.appendingPathComponent("tokenizer.json"))
        #expect(tokenizer.vocabularySize == (try TokenizerFixtures.vocabularySize("all-MiniLM-L6-v2")))
        #expect(tokenizer.maxLength == 128)
        #expect(tokenizer.id(of: "[CLS]") == 101)
        #expect(tokenizer.token(of: 102) == "[SEP]")
        TokenizerFixtures.check(tokenizer, try TokenizerFixtures.cases("all-MiniLM-L6-v2"))
        // Never truncated, although the file asks for max_length 128.
        #expect(tokenizer.encode(String(repeating: "word ", count: 300)).count == 302)
    }
}
