// Tokenizer(data:), the entry the fuzz harness (Fuzz/Tokenizer) uses, is the file loader minus the read.
import FixtureSupport
import Foundation
import Testing
import Tokenizers

@Test(arguments: ["wordpiece-uncased.json", "bpe-qwen2.json", "bpe-sentencepiece.json"])
func bytesLoadAsTheFileDoes(name: String) throws {
    let url = TokenizerFixtures.directory.appendingPathComponent(name)
    let fromFile = try Tokenizer(contentsOf: url), fromBytes = try Tokenizer(data: Data(contentsOf: url))
    let text = "Hello, wörld! 12 345  spaces 🤗 don't"
    #expect(fromBytes.encode(text) == fromFile.encode(text))
    #expect(fromBytes.decode(fromFile.encode(text)) == fromFile.decode(fromFile.encode(text)))
    #expect(throws: TokenizerError.self) { try Tokenizer(data: Data("{".utf8)) }
}
