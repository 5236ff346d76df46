// The BPE model (`tokenizers/src/models/bpe/model.rs`, `word.rs`): start from one symbol per
// character and repeatedly merge the adjacent pair with the lowest merge rank (leftmost on ties)
// until no listed pair remains. A character outside the vocabulary becomes its UTF-8 bytes
// `<0xXX>` (`byte_fallback`, when all exist), else the unknown token (consecutive ones fused into
// one with `fuse_unk`), else nothing. Dropout and subword prefixes/suffixes are refused.

/// `{"type": "BPE", "vocab", "merges", "unk_token", "ignore_merges", ...}`.
struct BPE: TokenModel {
    let vocabulary: Vocabulary
    /// (left id, right id) -> (rank, merged id).
    private let merges: [Pair: (rank: Int, id: Int)]
    private let unkID: Int?
    private let ignoreMerges: Bool
    private let byteFallback: Bool
    private let fuseUnk: Bool

    struct Pair: Hashable { let left: Int, right: Int }

    init(_ json: JSONReader) throws {
        vocabulary = try Vocabulary(json.required("vocab"))
        if let dropout = json.optional("dropout") {
            throw dropout.unsupported(option: "dropout", value: "\(dropout.value.doubleValue ?? .nan)")
        }
        // transformers 5 writes both as "" (or null) for byte-level BPE models such as SmolLM2; empty
        // means no prefix or suffix, which is what this BPE does. Only a real affix is unsupported.
        for key in ["continuing_subword_prefix", "end_of_word_suffix"] {
            if let value = json.optional(key) {
                let affix = (try? value.string()) ?? "?"
                if !affix.isEmpty { throw value.unsupported(option: key, value: affix) }
            }
        }
        byteFallback = try json.bool("byte_fallback", default: false)
        fuseUnk = try json.bool("fuse_unk", default: false)
        ignoreMerges = try json.bool("ignore_merges", default: false)
        if let unk = try json.optional("unk_token")?.string() {
            guard let id = vocabulary.id(Scalars(unk)) else {
                throw TokenizerError.missingToken(file: json.file, path: json.path + ".unk_token", token: unk)
            }
            unkID = id
        } else {
            unkID = nil
        }
        var merges: [Pair: (rank: Int, id: Int)] = [:]
        for (rank, merge) in try json.required("merges").array().enumerated() {
            // Either "left right" (older files) or ["left", "right"].
            let parts: [String]
            if let text = merge.value.stringValue {
                parts = text.split(separator: " ", omittingEmptySubsequences: false).map(String.init)
            } else {
                parts = try merge.array().map { try $0.string() }
            }
            guard parts.count == 2 else { throw merge.invalid("a merge of two tokens") }
            let left = Scalars(parts[0]), right = Scalars(parts[1])
            guard let l = vocabulary.id(left), let r = vocabulary.id(right), let m = vocabulary.id(left + right) else {
                throw TokenizerError.missingToken(file: json.file, path: merge.path, token: parts.joined(separator: " "))
            }
            if merges[Pair(left: l, right: r)] == nil { merges[Pair(left: l, right: r)] = (rank, m) }
        }
        self.merges = merges
    }

    func tokenize(_ word: Scalars) -> [Int] {
        if ignoreMerges, let id = vocabulary.id(word) { return [id] }
        var symbols = initialSymbols(word)
        while symbols.count > 1 {
            var best: (rank: Int, position: Int, id: Int)?
            for position in 0..<(symbols.count - 1) {
                if let merge = merges[Pair(left: symbols[position], right: symbols[position + 1])],
                   merge.rank < (best?.rank ?? Int.max) {
                    best = (merge.rank, position, merge.id)
                }
            }
            guard let merge = best else { break }
            symbols.replaceSubrange(merge.position...(merge.position + 1), with: [merge.id])
        }
        return symbols
    }

    /// One symbol per character, with byte fallback and unknown tokens as `merge_word` does.
    private func initialSymbols(_ word: Scalars) -> [Int] {
        var symbols: [Int] = []
        var pendingUnk = false  // an unk waiting to be emitted (so following unks can fuse)
        for c in word {
            if let id = vocabulary.id([c]) {
                if pendingUnk, let unkID { symbols.append(unkID); pendingUnk = false }
                symbols.append(id)
                continue
            }
            if byteFallback {
                let bytes = Array(String(Character(c)).utf8).map { vocabulary.id(Scalars(byteToken($0))) }
                if bytes.allSatisfy({ $0 != nil }) {
                    // As the reference: byte tokens do not flush a pending unk.
                    symbols += bytes.map { $0! }
                    continue
                }
            }
            guard let unkID else { continue }
            if pendingUnk && !fuseUnk { symbols.append(unkID) }
            pendingUnk = true
        }
        if pendingUnk, let unkID { symbols.append(unkID) }
        return symbols
    }
}

/// The byte-fallback token of `byte`: `<0x0A>`.
func byteToken(_ byte: UInt8) -> String {
    let hex = String(byte, radix: 16, uppercase: true)
    return "<0x" + (hex.count == 1 ? "0" + hex : hex) + ">"
}
