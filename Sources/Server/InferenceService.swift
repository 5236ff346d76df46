// Runs inference: lease the adapter, then either submit the generation to the batch engine
// (decoders: continuous batching of every request and adapter, see BatchEngine) and turn its token
// events into text on this request's thread (stop strings, streaming deltas, cancellation), or
// encode on the scheduler (encoders). /infer and the OpenAI routes all come through here.
import Adapters
import Dispatch
import Formats
import HTTP
import LinearAlgebra
import Models
import Tokenizers

/// The engine side of `/infer` and `/v1/*`, shared by every request.
final class InferenceService: Sendable {
    let model: BaseModel
    let registry: AdapterRegistry
    let scheduler: InferenceScheduler
    let metrics: Metrics
    /// The decoder's batch engine (nil for encoders), and what it reports.
    let engine: BatchEngine?
    /// Batches concurrent requests on an encoder (nil for decoders).
    let encoderBatcher: EncoderBatcher?
    let serving: ServingMetrics
    /// What ends a generation (decoders); from generation_config.json or config.json.
    let generation: GenerationConfig

    init(model: BaseModel, registry: AdapterRegistry, scheduler: InferenceScheduler, metrics: Metrics,
         generation: GenerationConfig? = nil, limits: EngineLimits = EngineLimits()) {
        self.model = model
        self.registry = registry
        self.scheduler = scheduler
        self.metrics = metrics
        serving = ServingMetrics()
        if case .decoder(let decoder) = model {
            engine = BatchEngine(model: decoder, limits: limits, metrics: serving)
        } else {
            engine = nil
        }
        if case .encoder(let encoder) = model {
            encoderBatcher = EncoderBatcher(model: encoder, scheduler: scheduler, maxBatchTokens: limits.maxStepTokens)
        } else {
            encoderBatcher = nil
        }
        if let generation {
            self.generation = generation
        } else if case .decoder(let decoder) = model {
            self.generation = GenerationConfig(file: nil, model: decoder.config)
        } else {
            self.generation = GenerationConfig(eosTokenIds: [])
        }
    }

    /// One finished generation.
    struct GenerationReport {
        var modeUsed: String
        var promptTokens: Int
        var tokens: [Int]
        /// The generated text (without a final EOS, cut before a stop string); nil without a tokenizer.
        var text: String?
        /// Text held back while streaming and released at the end (already part of `text`).
        var finalDelta: String
        var finishReason: FinishReason
        var promptLogits: Matrix
        var timing: JSONObject
    }

    /// Generates after `prompt`. `onDelta` gets each token and the text that became safe to send
    /// (possibly empty); returning false cancels the generation (the client went away). Runs on the
    /// request's thread; the forward passes run on the engine, batched with every other request.
    func generate(prompt: [Int], adapters: AdapterSelection, mode: AdapterMode, parameters: GenerationParameters,
                  promptLogits: DecoderModel.LogitRows = .last, tokenizer: Tokenizer?, wantText: Bool,
                  onDelta: (Int, String) -> Bool = { _, _ in true }) throws -> GenerationReport {
        guard case .decoder(let decoder) = model, let engine else {
            throw HTTPError.encoderCannotGenerate
        }
        if !parameters.stops.isEmpty && tokenizer == nil {
            throw HTTPError.stopNeedsTokenizer
        }
        try validate(prompt, for: decoder)
        let start = DispatchTime.now()
        let lease = try lease(adapters, mode: mode)
        defer { lease.release() }
        let eos = generation.eosTokenIds
        var stream = tokenizer.flatMap { wantText || !parameters.stops.isEmpty ? TextStream(tokenizer: $0, stops: parameters.stops, eosTokenIds: eos) : nil }
        let handle = try engine.submit(GenerationSubmission(
            prompt: prompt, maxTokens: parameters.maxTokens, minTokens: parameters.minTokens, ignoreEos: parameters.ignoreEos,
            eosTokenIds: eos, sampling: parameters.sampling, overlay: lease.overlay, unmergedFallback: lease.unmergedFallback,
            adapterIds: adapters.parts.map(\.id), promptLogits: promptLogits))

        var tokens: [Int] = []
        var ended: FinishReason? = nil   // by this side: a stop string, or the client went away
        var outcome: EngineOutcome
        events: while true {
            switch handle.next() {
            case .token(let id)?:
                guard ended == nil else { continue }   // already generated when the engine saw the stop
                tokens.append(id)
                let delta = stream?.append(id) ?? ""
                if !onDelta(id, delta) {
                    ended = .cancelled
                } else if stream?.stopped == true {
                    ended = .stop
                }
                if let ended { handle.stop(ended) }
            case .finished(let result)?:
                outcome = result
                break events
            case .failed(let message)?:
                throw HTTPError(.internalServerError, code: "engine_failure", message: message)
            case nil:
                handle.stop(.cancelled)
                throw HTTPError(.internalServerError, code: "engine_timeout", message: "the engine did not answer within an hour")
            }
        }
        let reason = ended ?? outcome.reason
        metrics.countGeneration(tokens: tokens.count, finishReason: reason.rawValue)
        let finalDelta = stream?.finish() ?? ""
        let modeUsed = lease.mode == "merged" && !outcome.ranMergedThroughout ? "unmerged" : lease.mode
        return GenerationReport(
            modeUsed: modeUsed, promptTokens: prompt.count, tokens: tokens,
            text: stream?.fullText, finalDelta: finalDelta, finishReason: reason,
            promptLogits: outcome.promptLogits,
            timing: ["queue": timingValue(outcome.queuedMilliseconds), "prefill": timingValue(outcome.prefillMilliseconds),
                     "decode": timingValue(outcome.decodeMilliseconds), "total": timingValue(milliseconds(since: start))])
    }

    /// The checks the forward pass would make, before the request joins a batch: one bad request
    /// must never fail a step that other requests share.
    private func validate(_ prompt: [Int], for decoder: DecoderModel) throws {
        let c = decoder.config
        guard !prompt.isEmpty else { throw ModelError.emptyInput }
        for id in prompt where id < 0 || id >= c.vocabularySize {
            throw ModelError.tokenOutOfRange(id, vocabularySize: c.vocabularySize)
        }
        guard prompt.count <= c.maxPositions else { throw ModelError.sequenceTooLong(prompt.count, maximum: c.maxPositions) }
    }

    /// Sentence embeddings of each sequence (encoders).
    /// `batchRequests`: how many requests shared the forward pass (see EncoderBatcher.swift).
    func embed(_ sequences: [[Int]], adapters: AdapterSelection, mode: AdapterMode)
        throws -> (embeddings: [[Float]], modeUsed: String, timing: JSONObject, batchRequests: Int) {
        guard let encoderBatcher else { throw HTTPError.decoderCannotEmbed }
        let start = DispatchTime.now()
        let lease = try lease(adapters, mode: mode)
        defer { lease.release() }
        let (encodings, queued, batchRequests) = try encoderBatcher.encode(sequences.map { EncoderInput(tokens: $0, overlay: lease.overlay) })
        let total = milliseconds(since: start)
        return (encodings.map(\.embedding), lease.mode,
                ["queue": timingValue(queued), "encode": timingValue(max(0, total - queued)), "total": timingValue(total)],
                batchRequests)
    }

    /// Answers one non-streaming `/infer` request as the JSON object the API returns.
    func infer(_ request: InferRequest, tokenizer: Tokenizer?) throws -> JSONValue {
        var fields: [(String, JSONValue)] = [("adapter", request.adapter.map(JSONValue.string) ?? .null)]
        switch model {
        case .decoder:
            let report = try generate(prompt: request.sequences[0], adapters: request.adapters, mode: request.adapterMode,
                                      parameters: request.generation, promptLogits: request.returnLogits == .all ? .all : .last,
                                      tokenizer: tokenizer, wantText: request.textInput)
            fields += InferenceService.fields(of: report, request: request)
        case .encoder:
            let (embeddings, modeUsed, timing, batchRequests) = try embed(request.sequences, adapters: request.adapters, mode: request.adapterMode)
            fields += [
                ("mode", .string(modeUsed)),
                ("batch_requests", .number(JSONNumber(batchRequests))),
                ("embeddings", .array(embeddings.map { .array($0.map { .number(JSONNumber($0)) }) })),
                ("usage", .object(["prompt_tokens": .number(JSONNumber(request.sequences.reduce(0) { $0 + $1.count }))])),
                ("timing_ms", .object(timing)),
            ]
        }
        return .object(JSONObject(uniqueKeysWithValues: fields))
    }

    /// The `/infer` response fields of a generation (also the final event of a streamed one).
    static func fields(of report: GenerationReport, request: InferRequest) -> [(String, JSONValue)] {
        var fields: [(String, JSONValue)] = [
            ("mode", .string(report.modeUsed)),
            ("tokens", .array(report.tokens.map { .number(JSONNumber($0)) })),
        ]
        let logits = report.promptLogits
        switch request.returnLogits {
        case .none: break
        case .last: fields.append(("logits", rows(logits.rows((logits.rows - 1)..<logits.rows))))
        case .all: fields.append(("logits", rows(logits)))
        }
        if request.textInput, let text = report.text { fields.append(("text", .string(text))) }
        fields += [
            ("finish_reason", .string(report.finishReason.rawValue)),
            ("usage", .object(["prompt_tokens": .number(JSONNumber(report.promptTokens)),
                               "completion_tokens": .number(JSONNumber(report.tokens.count))])),
            ("timing_ms", .object(report.timing)),
        ]
        return fields
    }

    /// What a request runs on, pinned until `release()`.
    struct Leased {
        var overlay: (any LinearOverlay)?
        /// For `auto` on merged weights: the unmerged overlay the engine switches to in mixed steps.
        var unmergedFallback: (any LinearOverlay)?
        /// "base", "unmerged" or "merged".
        var mode: String
        var leases: [AdapterLease]

        func release() { for lease in leases { lease.release() } }
    }

    /// Leases the selected adapters. One adapter as trained follows `mode` (the registry's rule for
    /// `auto`); a scaled or composed selection runs unmerged, as the sum of its scaled deltas.
    private func lease(_ selection: AdapterSelection, mode: AdapterMode) throws -> Leased {
        if selection.parts.isEmpty { return Leased(overlay: nil, unmergedFallback: nil, mode: "base", leases: []) }
        if let id = selection.plainAdapter {
            let lease = try registry.lease(id: id, mode: mode)
            metrics.countAdapterRequest(id)
            let fallback: (any LinearOverlay)? = mode == .auto && lease.mode == .merged ? UnmergedAdapter(lease.adapter) : nil
            return Leased(overlay: lease.overlay, unmergedFallback: fallback, mode: lease.mode.rawValue, leases: [lease])
        }
        guard mode != .merged else {
            throw HTTPError.badRequest("scaled or composed adapters run unmerged; use mode unmerged or auto", code: "invalid_field")
        }
        var leases: [AdapterLease] = []
        do {
            for part in selection.parts {
                leases.append(try registry.lease(id: part.id, mode: .unmerged))
                metrics.countAdapterRequest(part.id)
            }
            let overlay: any LinearOverlay = leases.count == 1
                ? UnmergedAdapter(leases[0].adapter, weight: selection.parts[0].scale)
                : try ComposedAdapter(zip(selection.parts, leases).map { (id: $0.id, adapter: $1.adapter, weight: $0.scale) })
            return Leased(overlay: overlay, unmergedFallback: nil, mode: "unmerged", leases: leases)
        } catch let error as ComposedAdapter.CompositionError {
            for lease in leases { lease.release() }
            throw HTTPError.badRequest("\(error)", code: "invalid_field")
        } catch {
            for lease in leases { lease.release() }
            throw error
        }
    }
}

extension HTTPError {
    static let encoderCannotGenerate = HTTPError.badRequest("this is an encoder model: it embeds text and cannot generate", code: "not_a_decoder")
    static let decoderCannotEmbed = HTTPError.badRequest("this is a decoder model; embeddings need an encoder model", code: "not_an_encoder")
    static let stopNeedsTokenizer = HTTPError.badRequest("stop strings need the model's tokenizer.json", code: "no_tokenizer")
}

private func rows(_ m: Matrix) -> JSONValue {
    .array((0..<m.rows).map { i in .array((0..<m.cols).map { .number(JSONNumber(m[i, $0])) }) })
}

func timingValue(_ milliseconds: Double) -> JSONValue {
    .number(JSONNumber((milliseconds * 1000).rounded() / 1000))
}
