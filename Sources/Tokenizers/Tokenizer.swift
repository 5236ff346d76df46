// The public tokenizer: text -> ids -> text with a Hugging Face `tokenizer.json`, following the
// pipeline of `tokenizers/src/tokenizer/mod.rs`: added tokens, normalizer, pre-tokenizer, model,
// post-processor; and for decoding, id -> token then the decoder.
//
// Truncation and padding stored in the file are not applied: `encode` returns every id, and
// `maxLength` reports the file's `truncation.max_length` so callers can refuse or truncate
// explicitly.
import Foundation

/// A tokenizer loaded from a Hugging Face `tokenizer.json` (WordPiece or byte-level BPE).
public final class Tokenizer: Sendable {
    private let file: TokenizerFile
    /// id -> token text for added tokens, which take precedence over the model's vocabulary.
    private let addedTokenOfID: [Int: AddedToken]
    private let addedIDOfToken: [Scalars: Int]

    /// Loads and validates `url`; throws `TokenizerError` for anything unsupported.
    public convenience init(contentsOf url: URL) throws {
        try self.init(file: TokenizerFile(contentsOf: url))
    }

    /// Loads and validates the bytes of a `tokenizer.json`; `name` only feeds error messages.
    public convenience init(data: Data, name: String = "tokenizer.json") throws {
        try self.init(file: TokenizerFile(data: data, name: name, path: name))
    }

    private init(file: TokenizerFile) {
        self.file = file
        var byID: [Int: AddedToken] = [:], byToken: [Scalars: Int] = [:]
        for token in file.addedTokens.tokens {
            byID[token.id] = token
            byToken[token.content] = token.id
        }
        addedTokenOfID = byID
        addedIDOfToken = byToken
    }

    /// The file's `truncation.max_length` (e.g. 128 for all-MiniLM-L6-v2), never applied by `encode`.
    public var maxLength: Int? { file.maxLength }

    /// The ids of `text`, with the post-processor's special tokens when `addSpecialTokens`.
    public func encode(_ text: String, addSpecialTokens: Bool = true) -> [Int] {
        var ids: [Int] = []
        for (index, piece) in file.addedTokens.split(Scalars(text), normalizer: file.normalizer).enumerated() {
            switch piece {
            case .token(let id):
                ids.append(id)
            case .text(let normalized):
                let words = file.preTokenizer?.split(normalized, atStart: index == 0) ?? [normalized]
                for word in words where !word.isEmpty {
                    ids += file.model.tokenize(word)
                }
            }
        }
        return addSpecialTokens ? file.postProcessor.process(ids) : ids
    }

    /// The text of `ids`; special added tokens are left out when `skipSpecialTokens`. Unknown ids
    /// are skipped, as in the reference.
    public func decode(_ ids: [Int], skipSpecialTokens: Bool = true) -> String {
        let tokens: [String] = ids.compactMap { id in
            if let added = addedTokenOfID[id] {
                if skipSpecialTokens && added.special { return nil }
                // A `normalized` token decodes as its normalized form (the reference's cache).
                return (added.normalized ? file.normalizer?.normalize(added.content) : nil)?.string
                    ?? added.content.string
            }
            return file.model.vocabulary.tokens[id]
        }
        return file.decoder.decode(tokens)
    }

    /// Number of distinct ids: the model's vocabulary plus added tokens outside it.
    public var vocabularySize: Int {
        file.model.vocabulary.count + addedTokenOfID.keys.filter { file.model.vocabulary.tokens[$0] == nil }.count
    }

    /// The id of `token` (added tokens first), compared code point by code point.
    public func id(of token: String) -> Int? {
        let scalars = Scalars(token)
        return addedIDOfToken[scalars] ?? file.model.vocabulary.id(scalars)
    }

    /// The text of token `id`.
    public func token(of id: Int) -> String? {
        addedTokenOfID[id]?.content.string ?? file.model.vocabulary.tokens[id]
    }
}
