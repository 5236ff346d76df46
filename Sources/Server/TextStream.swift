// Turns generated token ids into text deltas that are safe to send: never half a UTF-8 character
// or half of a multi-token byte sequence, and never the start of a stop string that may still
// match. Stop strings cut the text where they begin (the stop string itself is not returned).
import Tokenizers

/// Incremental detokenizer with stop strings, for one generation.
struct TextStream {
    private let tokenizer: Tokenizer
    private let stops: [[UInt8]]
    private let eosTokenIds: Set<Int>
    private var ids: [Int] = []
    /// Decoding window, as vLLM's incremental detokenizer: `ids[prefixOffset..<readOffset]` are the
    /// last tokens already turned into text, kept as context so the new tokens decode as they
    /// would in the whole sequence (leading-space rules, byte-level merges).
    private var prefixOffset = 0
    private var readOffset = 0
    /// UTF-8 bytes of the text sent so far.
    private var emitted = 0
    /// The text of `ids[..<readOffset]`.
    private(set) var text: [UInt8] = []
    /// True once a stop string matched; `text` then ends before it.
    private(set) var stopped = false

    init(tokenizer: Tokenizer, stops: [String], eosTokenIds: Set<Int>) {
        self.tokenizer = tokenizer
        self.stops = stops.map { Array($0.utf8) }.filter { !$0.isEmpty }
        self.eosTokenIds = eosTokenIds
    }

    /// The full text so far (after a stop, up to the stop string).
    var fullText: String { String(decoding: text, as: UTF8.self) }

    /// Adds one generated token; returns the text that became safe to send (may be empty).
    mutating func append(_ id: Int) -> String {
        // An EOS id ends the sequence and is not part of the text (as transformers' skip of the
        // final EOS, and as OpenAI servers answer).
        guard !stopped, !eosTokenIds.contains(id) else { return "" }
        ids.append(id)
        // Tokens whose bytes end in an incomplete character (U+FFFD) wait for the next ones.
        guard readNewText(final: false) else { return "" }
        if let cut = firstStop() {
            text.removeLast(text.count - cut)
            stopped = true
            return take(upTo: text.count)
        }
        return take(upTo: safeEnd())
    }

    /// Moves the text of the tokens after `readOffset` into `text`; false while it may still change.
    private mutating func readNewText(final: Bool) -> Bool {
        guard readOffset < ids.count else { return false }
        // A run of byte-fallback tokens (<0x..>) decodes as a whole: valid UTF-8 gives characters,
        // invalid makes every byte of the run U+FFFD. Its text is known once the run has ended.
        if !final && isByteToken(ids[ids.count - 1]) { return false }
        let prefix = Array(tokenizer.decode(Array(ids[prefixOffset..<readOffset])).utf8)
        let whole = Array(tokenizer.decode(Array(ids[prefixOffset...])).utf8)
        let replacement: [UInt8] = [0xEF, 0xBF, 0xBD]
        guard whole.count >= prefix.count, whole.starts(with: prefix) else { return false }
        // Byte-level BPE: an incomplete character at the end decodes to U+FFFD until its last byte.
        guard final || !(whole.count >= 3 && whole.suffix(3).elementsEqual(replacement)) else { return false }
        text += whole[prefix.count...]
        prefixOffset = readOffset
        readOffset = ids.count
        return true
    }

    /// The rest of the text once the generation ended (held-back bytes included; a stop string
    /// completed by them still cuts the text).
    mutating func finish() -> String {
        if !stopped {
            // The final text is the whole sequence decoded at once, exactly as a tokenizer's decode.
            let whole = Array(tokenizer.decode(ids).utf8)
            if whole.starts(with: text[..<emitted]) { text = whole }
            if let cut = firstStop() {
                text.removeLast(text.count - cut)
                stopped = true
            }
        }
        return take(upTo: text.count)
    }

    private func isByteToken(_ id: Int) -> Bool {
        guard let token = tokenizer.token(of: id) else { return false }
        return token.count == 6 && token.hasPrefix("<0x") && token.hasSuffix(">")
    }

    private mutating func take(upTo end: Int) -> String {
        guard end > emitted else { return "" }
        let delta = String(decoding: text[emitted..<end], as: UTF8.self)
        emitted = end
        return delta
    }

    /// Byte offset of the earliest stop-string match that ends in text not yet sent.
    private func firstStop() -> Int? {
        var best: Int? = nil
        for stop in stops where stop.count <= text.count {
            let from = max(0, emitted - stop.count + 1)
            var i = from
            while i + stop.count <= text.count {
                if text[i..<(i + stop.count)].elementsEqual(stop) {
                    best = min(best ?? i, i)
                    break
                }
                i += 1
            }
        }
        return best
    }

    /// How far the text may be sent: not a tail that is the beginning of a stop string.
    private func safeEnd() -> Int {
        let end = text.count
        var hold = 0
        for stop in stops {
            for length in stride(from: min(stop.count - 1, end), through: 1, by: -1) where length > hold {
                if text[(end - length)..<end].elementsEqual(stop[0..<length]) { hold = length; break }
            }
        }
        return max(emitted, end - hold)
    }
}
