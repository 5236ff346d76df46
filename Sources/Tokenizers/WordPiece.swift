// The WordPiece model (`tokenizers/src/models/wordpiece/mod.rs`): greedy longest-match-first over a
// word, continuation pieces carry a prefix ("##"); a word with any unmatched rest, or longer than
// `max_input_chars_per_word` characters, becomes the single unknown token.

/// Maps one pre-tokenized word to ids.
protocol TokenModel: Sendable {
    var vocabulary: Vocabulary { get }
    func tokenize(_ word: Scalars) -> [Int]
}

/// `{"type": "WordPiece", "unk_token", "continuing_subword_prefix", "max_input_chars_per_word", "vocab"}`.
struct WordPiece: TokenModel {
    let vocabulary: Vocabulary
    let unkID: Int
    let prefix: Scalars
    let maxInputCharsPerWord: Int

    init(_ json: JSONReader) throws {
        vocabulary = try Vocabulary(json.required("vocab"))
        let unk = try json.optional("unk_token")?.string() ?? "[UNK]"
        guard let unkID = vocabulary.id(Scalars(unk)) else {
            throw TokenizerError.missingToken(file: json.file, path: json.path + ".unk_token", token: unk)
        }
        self.unkID = unkID
        prefix = Scalars(try json.optional("continuing_subword_prefix")?.string() ?? "##")
        maxInputCharsPerWord = try json.optional("max_input_chars_per_word")?.int() ?? 100
    }

    func tokenize(_ word: Scalars) -> [Int] {
        if word.count > maxInputCharsPerWord { return [unkID] }
        var pieces: [Int] = []
        var start = 0
        while start < word.count {
            // The longest vocabulary entry word[start..<end] (with prefix after the first piece).
            var end = word.count
            var found: Int?
            while start < end {
                let piece = start > 0 ? prefix + word[start..<end] : Array(word[start..<end])
                if let id = vocabulary.id(piece) { found = id; break }
                end -= 1
            }
            guard let id = found else { return [unkID] }
            pieces.append(id)
            start = end
        }
        return pieces
    }
}
