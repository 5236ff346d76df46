// transformers 5 saves byte-level BPE models (SmolLM2 among them) with
// "continuing_subword_prefix": "" and "end_of_word_suffix": "" in the model section. Empty means
// none: such a file tokenizes exactly as the same file without the keys. A real affix stays refused.
import FixtureSupport
import Foundation
import Testing
import Tokenizers

@Suite struct BPEEmptyAffixTests {
    func withModelKeys(_ extra: [String: Any]) throws -> Data {
        let url = TokenizerFixtures.directory.appendingPathComponent("bpe-qwen2.json")
        var object = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
        var model = object["model"] as! [String: Any]
        for (k, v) in extra { model[k] = v }
        object["model"] = model
        return try JSONSerialization.data(withJSONObject: object)
    }

    @Test func emptyPrefixAndSuffixAreAccepted() throws {
        let plain = try Tokenizer(data: withModelKeys([:]))
        let transformers5 = try Tokenizer(data: withModelKeys(["continuing_subword_prefix": "", "end_of_word_suffix": ""]))
        let nulls = try Tokenizer(data: withModelKeys(["continuing_subword_prefix": NSNull(), "end_of_word_suffix": NSNull()]))
        let text = "Hello, wörld! 12 345  spaces 🤗 don't\n\tfunc f() {}"
        #expect(transformers5.encode(text) == plain.encode(text))
        #expect(nulls.encode(text) == plain.encode(text))
    }

    @Test func realAffixStillRefused() throws {
        #expect(throws: TokenizerError.self) { try Tokenizer(data: withModelKeys(["continuing_subword_prefix": "##"])) }
        #expect(throws: TokenizerError.self) { try Tokenizer(data: withModelKeys(["end_of_word_suffix": "</w>"])) }
    }
}
