// POST /infer: the request as decoded from JSON, with every field checked and named on error.
import Adapters
import HTTP
import Models
import Tokenizers

/// What `/infer` is asked to do. Input is token ids (`tokens`) or text, which the model's tokenizer
/// turns into the same ids before the engine sees them: `prompt` for decoders, `texts` for encoders.
struct InferRequest {
    enum Mode: String, CaseIterable { case unmerged, merged, auto }
    enum LogitRows: String, CaseIterable { case none, last, all }

    var adapter: String?
    /// The adapter(s) and weights: `adapter` (+ `scale`), or `adapters: [{"id", "scale"}]`.
    var adapters: AdapterSelection
    var mode: Mode
    /// Decoders: one sequence. Encoders: a batch of sequences.
    var sequences: [[Int]]
    var maxTokens: Int
    var returnLogits: LogitRows
    /// True when the input came as text: the response then carries text as well.
    var textInput: Bool
    /// Decoders: sampling (greedy unless `temperature` > 0), stop strings, streaming.
    var generation: GenerationParameters

    var adapterMode: AdapterMode {
        switch mode {
        case .unmerged: .unmerged
        case .merged: .merged
        case .auto: .auto
        }
    }

    static let fields: Set<String> = Set(["adapter", "adapters", "scale", "mode", "tokens", "prompt", "texts", "max_tokens", "return_logits"])
        .union(GenerationParameters.fields)
    static let maxGeneratedTokens = 4096
    /// `max_tokens` when a request gives none: /infer on a decoder asking for no logits, and
    /// /v1/completions (OpenAI's legacy completions default).
    static let defaultGeneratedTokens = 16

    init(_ body: JSONBody, encoder: Bool, tokenizer: Tokenizer?, tokenizerProblem: String? = nil) throws {
        try body.allowOnly(Self.fields)
        adapters = try AdapterSelection.parse(body, single: try body.string("adapter"))
        adapter = adapters.label
        mode = Mode(rawValue: try body.choice("mode", Mode.allCases.map(\.rawValue)) ?? "auto")!
        let textField = encoder ? "texts" : "prompt"
        for field in ["prompt", "texts"] where field != textField && body.object[field] != nil {
            throw HTTPError.badRequest("field \(field) is for \(encoder ? "decoder" : "encoder") models; use \(textField)", code: "invalid_field")
        }
        textInput = body.object[textField] != nil
        if textInput {
            guard body.object["tokens"] == nil else {
                throw HTTPError.badRequest("give either tokens or \(textField), not both", code: "invalid_field")
            }
            let tokenizer = try requireTokenizer(tokenizer, problem: tokenizerProblem)
            if encoder {
                guard case .array(let items)? = body.object["texts"], !items.isEmpty else {
                    throw HTTPError.badRequest("field texts must be a non-empty array of strings", code: "invalid_field")
                }
                sequences = try items.enumerated().map { index, item in
                    guard let text = item.stringValue else {
                        throw HTTPError.badRequest("field texts[\(index)] must be a string, got \(item.typeName)", code: "invalid_field")
                    }
                    return tokenizer.encode(text)
                }
            } else {
                sequences = [tokenizer.encode(try body.string("prompt") ?? "")]
            }
        } else if encoder {
            // Encoders take a batch; a single flat list is accepted as a batch of one.
            if case .array(let items)? = body.object["tokens"], items.first?.arrayValue == nil, !items.isEmpty {
                sequences = [try body.ints("tokens")!]
            } else {
                sequences = try body.intRows("tokens") ?? []
            }
        } else {
            sequences = [try body.ints("tokens") ?? []]
        }
        guard !sequences.isEmpty, sequences.allSatisfy({ !$0.isEmpty }) else {
            throw HTTPError.badRequest("field tokens must hold at least one token\(encoder ? " per sequence" : "")", code: "invalid_field")
        }
        returnLogits = LogitRows(rawValue: try body.choice("return_logits", LogitRows.allCases.map(\.rawValue)) ?? "none")!
        // A decoder asked for no logits is asked for text: it generates, as OpenAI's completions do by
        // default. Asking for logits (or `"max_tokens": 0`) scores the input only.
        let defaultMaxTokens = encoder || returnLogits != .none ? 0 : Self.defaultGeneratedTokens
        maxTokens = try body.int("max_tokens") ?? defaultMaxTokens
        guard (0...Self.maxGeneratedTokens).contains(maxTokens) else {
            throw HTTPError.badRequest("field max_tokens must be in 0...\(Self.maxGeneratedTokens), got \(maxTokens)", code: "invalid_field")
        }
        if encoder && maxTokens != 0 {
            throw HTTPError.badRequest("field max_tokens applies to decoder models only", code: "invalid_field")
        }
        generation = try GenerationParameters(body, maxTokens: maxTokens, defaultTemperature: 0)
        if encoder, let field = GenerationParameters.fields.sorted().first(where: { body.object[$0] != nil }) {
            throw HTTPError.badRequest("field \(field) applies to decoder models only", code: "invalid_field")
        }
    }
}
