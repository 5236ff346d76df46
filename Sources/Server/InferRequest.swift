// POST /infer: the request as decoded from JSON, with every field checked and named on error.
import HTTP

/// What `/infer` is asked to do. Token input comes as ids today; text prompts (`prompt`, `texts`)
/// will be resolved into the same `tokens` by the tokenizer before the engine sees them.
struct InferRequest {
    enum Mode: String, CaseIterable { case unmerged, merged, auto }
    enum LogitRows: String, CaseIterable { case none, last, all }

    var adapter: String?
    var mode: Mode
    /// Decoders: one sequence. Encoders: a batch of sequences.
    var sequences: [[Int]]
    var maxTokens: Int
    var returnLogits: LogitRows

    static let fields: Set<String> = ["adapter", "mode", "tokens", "max_tokens", "return_logits"]
    static let maxGeneratedTokens = 4096

    init(_ body: JSONBody, encoder: Bool) throws {
        try body.allowOnly(Self.fields)
        adapter = try body.string("adapter")
        mode = Mode(rawValue: try body.choice("mode", Mode.allCases.map(\.rawValue)) ?? "auto")!
        if encoder {
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
        maxTokens = try body.int("max_tokens") ?? 0
        guard (0...Self.maxGeneratedTokens).contains(maxTokens) else {
            throw HTTPError.badRequest("field max_tokens must be in 0...\(Self.maxGeneratedTokens), got \(maxTokens)", code: "invalid_field")
        }
        if encoder && maxTokens != 0 {
            throw HTTPError.badRequest("field max_tokens applies to decoder models only", code: "invalid_field")
        }
        returnLogits = LogitRows(rawValue: try body.choice("return_logits", LogitRows.allCases.map(\.rawValue)) ?? "none")!
    }
}
