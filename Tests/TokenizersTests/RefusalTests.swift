// Unsupported components and options are refused when the file is loaded, with the JSON path.
import FixtureSupport
import Foundation
import Testing
import Tokenizers

@Suite("Tokenizers refuse what they do not implement")
struct RefusalTests {
    /// Loads wordpiece-uncased.json after `edit`, returning the error.
    private func loadError(_ edit: (inout [String: Any]) -> Void) throws -> TokenizerError? {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("eckart-tok-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("tokenizer.json")
        try FileManager.default.copyItem(at: TokenizerFixtures.directory.appendingPathComponent("wordpiece-uncased.json"), to: file)
        try Fixtures.editJSON(file, edit)
        do {
            _ = try Tokenizer(contentsOf: file)
            return nil
        } catch let error as TokenizerError {
            return error
        }
    }

    @Test func unknownNormalizer() throws {
        let error = try loadError { $0["normalizer"] = ["type": "Precompiled", "precompiled_charsmap": "AAAA"] }
        #expect(error == .unsupportedComponent(file: "tokenizer.json", path: "normalizer", type: "Precompiled"))
        #expect(error?.description.contains("Precompiled") == true)
    }

    @Test func unknownPreTokenizer() throws {
        let error = try loadError { $0["pre_tokenizer"] = ["type": "Whitespace"] }
        #expect(error == .unsupportedComponent(file: "tokenizer.json", path: "pre_tokenizer", type: "Whitespace"))
    }

    @Test func unknownModel() throws {
        let error = try loadError { $0["model"] = ["type": "Unigram", "vocab": [] as [Any]] }
        #expect(error == .unsupportedComponent(file: "tokenizer.json", path: "model", type: "Unigram"))
    }

    @Test func unknownDecoderAndProcessor() throws {
        #expect(try loadError { $0["decoder"] = ["type": "CTC"] }
            == .unsupportedComponent(file: "tokenizer.json", path: "decoder", type: "CTC"))
        #expect(try loadError { $0["post_processor"] = ["type": "Nonsense"] }
            == .unsupportedComponent(file: "tokenizer.json", path: "post_processor", type: "Nonsense"))
    }

    @Test func regexReplaceNormalizer() throws {
        let error = try loadError {
            $0["normalizer"] = ["type": "Sequence", "normalizers": [
                ["type": "Replace", "pattern": ["Regex": " +"], "content": " "]]]
        }
        #expect(error == .unsupportedOption(file: "tokenizer.json", path: "normalizer.normalizers[0].pattern.Regex",
                                            option: "pattern", value: "Regex"))
    }

    @Test func unknownSplitRegex() throws {
        let error = try loadError {
            $0["pre_tokenizer"] = ["type": "Split", "pattern": ["Regex": "\\w+"], "behavior": "Isolated", "invert": false]
        }
        #expect(error == .unsupportedOption(file: "tokenizer.json", path: "pre_tokenizer.pattern", option: "Regex", value: "\\w+"))
    }

    @Test func bpeDropout() throws {
        let error = try loadError { $0["model"] = ["type": "BPE", "vocab": ["a": 0], "merges": [] as [Any], "dropout": 0.1] }
        #expect(error == .unsupportedOption(file: "tokenizer.json", path: "model.dropout", option: "dropout", value: "0.1"))
    }

    @Test func singleWordAddedToken() throws {
        let error = try loadError { json in
            var tokens = json["added_tokens"] as! [[String: Any]]
            tokens[0]["single_word"] = true
            json["added_tokens"] = tokens
        }
        #expect(error == .unsupportedOption(file: "tokenizer.json", path: "added_tokens[0]", option: "single_word", value: "true"))
    }

    @Test func missingUnkToken() throws {
        let error = try loadError { json in
            var model = json["model"] as! [String: Any]
            model["unk_token"] = "<nope>"
            json["model"] = model
        }
        #expect(error == .missingToken(file: "tokenizer.json", path: "model.unk_token", token: "<nope>"))
    }

    @Test func unknownTopLevelKey() throws {
        let error = try loadError { $0["extra"] = 1 }
        #expect(error == .unsupportedOption(file: "tokenizer.json", path: "extra", option: "top-level key", value: "extra"))
    }

    @Test func notJSON() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("eckart-tok-\(UUID().uuidString).json")
        try Data("{\"model\": ".utf8).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        #expect(throws: TokenizerError.self) { try Tokenizer(contentsOf: file) }
    }
}
