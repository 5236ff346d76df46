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
    /// UTF-8 bytes of the text sent so far.
    private var emitted = 0
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
        // Decoding all ids each step keeps merges across tokens (byte fallback, byte-level BPE)
        // exact; generations are short enough that this is not the cost that matters.
        text = Array(tokenizer.decode(ids).utf8)
        if let cut = firstStop() {
            text.removeLast(text.count - cut)
            stopped = true
            return take(upTo: text.count)
        }
        return take(upTo: safeEnd())
    }

    /// The rest of the text once the generation ended (held-back bytes included).
    mutating func finish() -> String { take(upTo: text.count) }

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

    /// How far the text may be sent: not a trailing U+FFFD (bytes of a character still being
    /// generated decode to it), and not a tail that is the beginning of a stop string.
    private func safeEnd() -> Int {
        var end = text.count
        let replacement: [UInt8] = [0xEF, 0xBF, 0xBD]
        while end >= 3 && text[(end - 3)..<end].elementsEqual(replacement) { end -= 3 }
        var hold = 0
        for stop in stops {
            for length in stride(from: min(stop.count - 1, end), through: 1, by: -1) where length > hold {
                if text[(end - length)..<end].elementsEqual(stop[0..<length]) { hold = length; break }
            }
        }
        return max(emitted, end - hold)
    }
}
