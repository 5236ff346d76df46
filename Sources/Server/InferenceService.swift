// Runs /infer requests on the engine: lease the adapter, queue on the scheduler, prefill, and
// greedy decoding with the KV cache (decoders) or encoding (encoders).
import Adapters
import Dispatch
import Formats
import LinearAlgebra
import Models
import Tokenizers

/// The engine side of `/infer`, shared by every request.
final class InferenceService: Sendable {
    let model: BaseModel
    let registry: AdapterRegistry
    let scheduler: InferenceScheduler
    let metrics: Metrics

    init(model: BaseModel, registry: AdapterRegistry, scheduler: InferenceScheduler, metrics: Metrics) {
        self.model = model
        self.registry = registry
        self.scheduler = scheduler
        self.metrics = metrics
    }

    /// Answers one request as the JSON object the API returns.
    func infer(_ request: InferRequest, tokenizer: Tokenizer?) throws -> JSONValue {
        let start = DispatchTime.now()
        var lease: AdapterLease? = nil
        if let id = request.adapter {
            let mode: AdapterMode = switch request.mode {
            case .unmerged: .unmerged
            case .merged: .merged
            case .auto: .auto
            }
            lease = try registry.lease(id: id, mode: mode)
            metrics.countAdapterRequest(id)
        }
        defer { lease?.release() }
        let modeUsed = lease.map { $0.mode.rawValue } ?? "base"

        var fields: [(String, JSONValue)] = [
            ("adapter", request.adapter.map(JSONValue.string) ?? .null),
            ("mode", .string(modeUsed)),
        ]
        let (result, queued) = try scheduler.run { () throws -> EngineResult in
            switch model {
            case .decoder(let decoder): try generate(decoder, request, overlay: lease?.overlay)
            case .encoder(let encoder): try encode(encoder, request, overlay: lease?.overlay)
            }
        }
        var timing = result.timing
        timing["queue"] = number(queued)
        timing["total"] = number(milliseconds(since: start))
        fields += result.fields
        if request.textInput, let tokenizer, let generated = result.generated {
            fields.append(("text", .string(tokenizer.decode(generated))))
        }
        fields.append(("timing_ms", .object(timing)))
        return .object(JSONObject(uniqueKeysWithValues: fields))
    }

    /// Response fields computed by the engine, and how long its stages took.
    private struct EngineResult {
        var fields: [(String, JSONValue)]
        var timing: JSONObject
        /// Decoders: the generated token ids.
        var generated: [Int]? = nil
    }

    /// Scores the prompt, then greedily appends up to `max_tokens` tokens, stopping after an EOS id.
    private func generate(_ model: DecoderModel, _ request: InferRequest, overlay: (any LinearOverlay)?) throws -> EngineResult {
        let prompt = request.sequences[0]
        var cache = model.makeCache()
        let prefillStart = DispatchTime.now()
        let promptLogits = try model.forward(tokens: prompt, cache: &cache, overlay: overlay,
                                             logits: request.returnLogits == .all ? .all : .last)
        let prefillTime = milliseconds(since: prefillStart)

        let decodeStart = DispatchTime.now()
        var generated: [Int] = []
        var next = argmax(promptLogits, row: promptLogits.rows - 1)
        while generated.count < request.maxTokens {
            generated.append(next)
            if model.config.eosTokenIds.contains(next) || generated.count == request.maxTokens
                || cache.length >= model.config.maxPositions { break }
            let step = try model.forward(tokens: [next], cache: &cache, overlay: overlay, logits: .last)
            next = argmax(step, row: 0)
        }
        var fields: [(String, JSONValue)] = [("tokens", .array(generated.map { .number(JSONNumber($0)) }))]
        switch request.returnLogits {
        case .none: break
        case .last: fields.append(("logits", rows(promptLogits.rows((promptLogits.rows - 1)..<promptLogits.rows))))
        case .all: fields.append(("logits", rows(promptLogits)))
        }
        fields.append(("usage", .object(["prompt_tokens": .number(JSONNumber(prompt.count)),
                                         "completion_tokens": .number(JSONNumber(generated.count))])))
        return EngineResult(fields: fields,
                            timing: ["prefill": number(prefillTime), "decode": number(milliseconds(since: decodeStart))],
                            generated: generated)
    }

    /// Sentence embeddings for each sequence of the batch.
    private func encode(_ model: EncoderModel, _ request: InferRequest, overlay: (any LinearOverlay)?) throws -> EngineResult {
        let start = DispatchTime.now()
        let embeddings = try request.sequences.map { try model.encode(tokens: $0, overlay: overlay).embedding }
        return EngineResult(fields: [
            ("embeddings", .array(embeddings.map { .array($0.map { .number(JSONNumber($0)) }) })),
            ("usage", .object(["prompt_tokens": .number(JSONNumber(request.sequences.reduce(0) { $0 + $1.count }))])),
        ], timing: ["encode": number(milliseconds(since: start))])
    }
}

/// The index of the largest value in row `row` (first on ties, as torch.argmax).
func argmax(_ m: Matrix, row: Int) -> Int {
    var best = 0
    var bestValue = -Float.infinity
    for j in 0..<m.cols where m[row, j] > bestValue {
        best = j
        bestValue = m[row, j]
    }
    return best
}

private func rows(_ m: Matrix) -> JSONValue {
    .array((0..<m.rows).map { i in .array((0..<m.cols).map { .number(JSONNumber(m[i, $0])) }) })
}

private func number(_ milliseconds: Double) -> JSONValue {
    .number(JSONNumber((milliseconds * 1000).rounded() / 1000))
}
