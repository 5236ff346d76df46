// The batch engine without sockets: many requests with different adapters, prompt lengths and
// arrival times generate what each would generate alone; budgets admit in arrival order; a reader
// that stops reading is cancelled without slowing anyone else (counted in engine steps, not time).
import Adapters
import FixtureSupport
import Foundation
import HTTP
import LinearAlgebra
import Models
@testable import Server
import Testing

private struct EngineFixture {
    let base: BaseModel
    let decoder: DecoderModel
    let lora: LoRAAdapter
    let eos: Set<Int>

    init(directory: URL = GenerationFixtures.model("qwen2-bl")) throws {
        base = try BaseModel.load(directory: directory)
        guard case .decoder(let decoder) = base else { throw ModelError.unsupportedArchitecture("qwen2-bl") }
        self.decoder = decoder
        lora = try LoRAAdapter(directory: GenerationFixtures.adapter("qwen2-bl-lora"), model: base)
        eos = try GenerationConfig.load(directory: GenerationFixtures.model("qwen2-bl"), model: decoder.config).eosTokenIds
    }

    func engine(_ configure: (inout EngineLimits) -> Void = { _ in }) -> BatchEngine {
        var limits = EngineLimits()
        configure(&limits)
        return BatchEngine(model: decoder, limits: limits, metrics: ServingMetrics())
    }

    func submission(_ prompt: [Int], overlay: (any LinearOverlay)?, maxTokens: Int = 16, ignoreEos: Bool = false) -> GenerationSubmission {
        GenerationSubmission(prompt: prompt, maxTokens: maxTokens, ignoreEos: ignoreEos, eosTokenIds: eos, sampling: .greedy, overlay: overlay)
    }
}

/// Every event of a handle until it finishes.
private func drain(_ handle: GenerationHandle) -> (tokens: [Int], outcome: EngineOutcome?) {
    var tokens: [Int] = []
    while let event = handle.next(timeout: 120) {
        switch event {
        case .token(let id): tokens.append(id)
        case .finished(let outcome): return (tokens, outcome)
        case .failed: return (tokens, nil)
        }
    }
    return (tokens, nil)
}

@Test func engineGeneratesWhatEachRequestGeneratesAlone() throws {
    let f = try EngineFixture()
    // Base, the LoRA unmerged at three scales, merged, prompts of 1 to 40 tokens; a step of 8 tokens
    // makes long prompts prefill in chunks beside other sequences' decode steps.
    let overlays: [(any LinearOverlay)?] = [nil, UnmergedAdapter(f.lora), UnmergedAdapter(f.lora, weight: 0.5),
                                            MergedAdapter(f.lora, model: f.base), UnmergedAdapter(f.lora, weight: 2)]
    var seeded = SeededMatrices(state: 17)
    let prompts = [1, 3, 40, 7, 12, 2, 25, 5, 9, 16, 4, 31].map { count in
        seeded.matrix(1, count).storage.map { Int(($0 + 1) * 300) % f.decoder.config.vocabularySize }
    }
    let engine = f.engine { $0.maxStepTokens = 8 }
    defer { engine.stop() }
    var handles: [GenerationHandle] = []
    var firstToken: [Int] = []
    for (i, prompt) in prompts.enumerated() {
        handles.append(try engine.submit(f.submission(prompt, overlay: overlays[i % overlays.count])))
        // The later ones join while the first ones decode.
        if i == 5, case .token(let id)? = handles[0].next(timeout: 60) { firstToken = [id] }
    }
    let results = handles.map { drain($0) }
    var identical = 0
    for (i, prompt) in prompts.enumerated() {
        let overlay = overlays[i % overlays.count]
        var sampler = Sampler(.greedy)
        let alone = try Generator(model: f.decoder, overlay: overlay, eosTokenIds: f.eos).generate(prompt: prompt, maxTokens: 16, sampler: &sampler)
        let logits = try f.decoder.logits(tokens: prompt + alone.tokens.dropLast(), overlay: overlay)
        let margins = GreedyAgreement.margins(logitRows: alone.tokens.indices.map { logits.row(prompt.count - 1 + $0) }, chosen: alone.tokens)
        let batched = i == 0 ? firstToken + results[0].tokens : results[i].tokens
        let agreement = GreedyAgreement(ours: batched, reference: alone.tokens, margins: margins)
        #expect(agreement.isAcceptable, "request \(i): \(agreement)")
        #expect(results[i].outcome?.reason == alone.finishReason || agreement != .identical, "request \(i)")
        if agreement == .identical, !alone.tokens.isEmpty { identical += 1 }
    }
    #expect(identical >= 10, "only \(identical) of 12 runs were identical")
}

@Test func cancelledAndStoppedSequencesLeaveAtOnce() throws {
    // A long context, so the generation to be cancelled (4096 tokens, seconds of work) cannot end
    // on its own before the test thread gets to cancel it.
    let directory = try Fixtures.scratchCopy(of: GenerationFixtures.model("qwen2-bl"))
    defer { try? FileManager.default.removeItem(at: directory) }
    try Fixtures.editJSON(directory.appendingPathComponent("config.json")) { $0["max_position_embeddings"] = 8192 }
    let f = try EngineFixture(directory: directory)
    let engine = f.engine()
    defer { engine.stop() }
    let long = try engine.submit(f.submission([5, 6, 7], overlay: UnmergedAdapter(f.lora), maxTokens: 4096, ignoreEos: true))
    let other = try engine.submit(f.submission([8, 9], overlay: nil, maxTokens: 40, ignoreEos: true))
    let finished = drain(other)
    long.stop(.stop)
    let stopped = drain(long)
    #expect(stopped.outcome?.reason == .stop)
    #expect(stopped.tokens.count < 4096)
    #expect(finished.outcome?.reason == .length && finished.tokens.count == 40)
    // A cancelled one that never ran: it leaves the queue.
    let queued = try engine.submit(f.submission([1], overlay: nil, maxTokens: 8))
    queued.stop(.cancelled)
    #expect(drain(queued).outcome?.reason != nil)
}

@Test func kvBudgetAdmitsInArrivalOrderAndRefusesWhatCanNeverFit() throws {
    let f = try EngineFixture()
    // Room for one sequence of 5 + 30 positions at a time.
    let engine = f.engine { $0.kvCacheBytes = f.decoder.cacheBytes(positions: 40) }
    defer { engine.stop() }
    let first = try engine.submit(f.submission([1, 2, 3, 4, 5], overlay: nil, maxTokens: 30, ignoreEos: true))
    let second = try engine.submit(f.submission([6, 7, 8, 9, 10], overlay: UnmergedAdapter(f.lora), maxTokens: 30, ignoreEos: true))
    let a = drain(first), b = drain(second)
    #expect(a.tokens.count == 30 && b.tokens.count == 30)
    let firstEnd = try #require(a.outcome?.finishedAtStep), secondStart = try #require(b.outcome?.admittedAtStep)
    #expect(secondStart >= firstEnd, "admitted at step \(secondStart), the first ended at \(firstEnd)")
    #expect(throws: HTTPError.self) { _ = try engine.submit(f.submission(Array(repeating: 1, count: 20), overlay: nil, maxTokens: 30)) }
    do {
        _ = try engine.submit(f.submission(Array(repeating: 1, count: 20), overlay: nil, maxTokens: 30))
    } catch let error as HTTPError {
        #expect(error.code == "exceeds_kv_cache" && error.status.code == 400, "\(error)")
    }
}

@Test func aFullQueueAnswers503WithRetryAfter() throws {
    let f = try EngineFixture()
    let engine = f.engine {
        $0.kvCacheBytes = f.decoder.cacheBytes(positions: 120)
        $0.maxWaiting = 1
    }
    defer { engine.stop() }
    // One running sequence takes the whole KV budget, one waits: the next is refused.
    let running = try engine.submit(f.submission([1, 2, 3], overlay: nil, maxTokens: 100, ignoreEos: true))
    _ = running.next(timeout: 60)   // admitted and decoding
    let waiting = try engine.submit(f.submission([4, 5, 6], overlay: nil, maxTokens: 100, ignoreEos: true))
    do {
        _ = try engine.submit(f.submission([7], overlay: nil, maxTokens: 100))
        Issue.record("a third request was queued")
    } catch let error as HTTPError {
        #expect(error.status.code == 503 && error.code == "queue_full" && error.headers["Retry-After"] == "1", "\(error)")
    }
    running.stop(.cancelled)
    waiting.stop(.cancelled)
    #expect(drain(running).outcome?.reason == .cancelled)
    #expect(drain(waiting).outcome?.reason == .cancelled)
}

@Test func aReaderThatStopsReadingIsCancelledWithoutSlowingAnother() throws {
    // The bound (32 untaken tokens) is above everything the reader generates, so only the stalled
    // request can cross it, however late the reading thread runs.
    let f = try EngineFixture()
    let engine = f.engine { $0.maxPendingTokens = 32 }
    defer { engine.stop() }
    let stalled = try engine.submit(f.submission([3, 1, 4], overlay: UnmergedAdapter(f.lora), maxTokens: 100, ignoreEos: true))
    let reader = try engine.submit(f.submission([2, 7, 1], overlay: nil, maxTokens: 30, ignoreEos: true))
    let read = drain(reader)
    #expect(read.outcome?.reason == .length && read.tokens.count == 30)
    // One prefill step and 29 decode steps: nothing waited on the stalled reader.
    let span = try #require(read.outcome.map { $0.finishedAtStep - ($0.admittedAtStep ?? 0) })
    #expect(span <= 30, "the reader took \(span) steps for 30 tokens")
    // Nobody reads the stalled request until the engine is idle: by then it crossed the bound.
    let deadline = Date().addingTimeInterval(60)
    while engine.counts.running > 0 && Date() < deadline { Thread.sleep(forTimeInterval: 0.01) }
    let stalledResult = drain(stalled)
    #expect(stalledResult.outcome?.reason == .cancelled)
    #expect(stalledResult.tokens.count == 32)
}
