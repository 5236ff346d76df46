// Continuous batching (Yu et al. 2022, "Orca"; vLLM's scheduler): one loop owns every decoder
// forward pass. Each step it admits waiting requests under the server's budgets, runs one decode
// token for every running sequence together with chunks of new prompts (chunked prefill), samples
// each sequence with its own sampler and hands the token to its request without blocking. Rows of
// different adapters share the step: each linear module runs once over all rows, each adapter's
// low-rank delta added to its own rows (DecoderModel.forward(step:caches:)).
import Foundation
import HTTP
import LinearAlgebra
import Models

/// The budgets one step and the whole engine live within.
struct EngineLimits: Sendable {
    /// Prompt and decode tokens run in one step; longer prompts are prefilled in chunks.
    var maxStepTokens = 512
    /// Sequences generating at once.
    var maxRunning = 64
    /// Distinct adapters among the running sequences (vLLM's `--max-loras`); the base does not count.
    var maxLoras = 16
    /// Bytes of KV cache reserved for running sequences (`--kv-cache-mb`).
    var kvCacheBytes = 2048 << 20
    /// Requests waiting for admission; beyond this, new ones get 503 with Retry-After.
    var maxWaiting = 1024
    /// Tokens a request may leave untaken before the engine cancels it: a reader this far behind has
    /// stopped reading, and holding its tokens would let its buffer grow without bound.
    var maxPendingTokens = 1024
}

/// The one loop that runs a decoder's forward passes for every generating request. Thread-safe.
final class BatchEngine: @unchecked Sendable {
    let model: DecoderModel
    let limits: EngineLimits
    let metrics: ServingMetrics

    private let condition = NSCondition()
    private var waiting: [EngineSequence] = []   // arrival order
    private var running: [EngineSequence] = []   // engine thread only, but counted under the lock
    private var reservedBytes = 0
    private var stepCount = 0
    private var stopping = false
    private var thread: Thread? = nil
    /// The forward pass's activation buffers, reused by every step (engine thread only).
    private let workspace = ForwardWorkspace()

    init(model: DecoderModel, limits: EngineLimits, metrics: ServingMetrics) {
        self.model = model
        self.limits = limits
        self.metrics = metrics
        metrics.configure(kvCacheBytes: limits.kvCacheBytes, maxLoras: limits.maxLoras)
        // The thread keeps the engine alive until `stop()` ends the loop.
        let thread = Thread { self.loop() }
        thread.name = "eckart-engine"
        thread.stackSize = 8 << 20
        self.thread = thread
        thread.start()
    }

    /// Queues a generation. Throws 503 when the queue is full, 400 when the request could never fit.
    func submit(_ submission: GenerationSubmission) throws -> GenerationHandle {
        let positions = min(submission.prompt.count + submission.maxTokens, model.config.maxPositions)
        let bytes = model.cacheBytes(positions: positions)
        guard bytes <= limits.kvCacheBytes else {
            throw HTTPError.badRequest(
                "the prompt (\(submission.prompt.count) tokens) and max_tokens (\(submission.maxTokens)) need \(mebibytes(bytes)) MB of KV cache; the server's budget is \(mebibytes(limits.kvCacheBytes)) MB (--kv-cache-mb)",
                code: "exceeds_kv_cache")
        }
        let handle = GenerationHandle(maxPendingTokens: limits.maxPendingTokens)
        let sequence = EngineSequence(submission: submission, handle: handle, reservedBytes: bytes)
        try condition.withLock {
            guard !stopping else { throw HTTPError.shuttingDown }
            guard waiting.count < limits.maxWaiting else { throw HTTPError.queueFull }
            waiting.append(sequence)
            metrics.setQueue(waiting: waiting.flatMap(\.submission.adapterIds), running: running.flatMap(\.submission.adapterIds),
                             waitingCount: waiting.count, runningCount: running.count, reservedBytes: reservedBytes)
            condition.signal()
        }
        return handle
    }

    /// Sequences admitted and not yet finished, and sequences waiting.
    var counts: (running: Int, waiting: Int) { condition.withLock { (running.count, waiting.count) } }

    /// Stops the loop after the current step; sequences still queued or running end as cancelled.
    func stop() {
        condition.withLock {
            stopping = true
            condition.signal()
        }
    }

    // MARK: - The loop

    private func loop() {
        while true {
            guard let step = nextStep() else { return }
            run(step)
        }
    }

    /// One scheduled step: which sequences run how many tokens.
    private struct Step {
        var entries: [(sequence: EngineSequence, tokens: [Int])]
    }

    /// Waits for work, drops sequences whose requests stopped, admits waiting ones, and picks this
    /// step's tokens. Nil once stopping.
    private func nextStep() -> Step? {
        condition.lock()
        defer { condition.unlock() }
        while true {
            if stopping {
                for sequence in waiting + running { finish(sequence, .cancelled) }
                waiting.removeAll()
                running.removeAll()
                return nil
            }
            // A client may hang up at any moment: read each request's stop once, so a sequence is
            // finished (its cache bytes returned) exactly when it is removed.
            running = running.filter { sequence in
                guard let reason = sequence.handle.requestedStop else { return true }
                finish(sequence, reason)
                return false
            }
            waiting = waiting.filter { sequence in
                guard let reason = sequence.handle.requestedStop else { return true }
                finish(sequence, reason)
                return false
            }
            admit()
            metrics.setQueue(waiting: waiting.flatMap(\.submission.adapterIds), running: running.flatMap(\.submission.adapterIds),
                             waitingCount: waiting.count, runningCount: running.count, reservedBytes: reservedBytes)
            if !running.isEmpty { break }
            condition.wait()
        }
        // Every decoding sequence runs its one token; prompts fill what is left of the token
        // budget in admission order (a long prompt takes several steps but is never passed over).
        var entries: [(sequence: EngineSequence, tokens: [Int])] = []
        var budget = limits.maxStepTokens
        for sequence in running where !sequence.isPrefilling {
            entries.append((sequence, [sequence.pending!]))
            budget -= 1
        }
        for sequence in running where sequence.isPrefilling && budget > 0 {
            let prompt = sequence.submission.prompt
            let count = min(budget, prompt.count - sequence.prefilled)
            entries.append((sequence, Array(prompt[sequence.prefilled..<(sequence.prefilled + count)])))
            budget -= count
        }
        return Step(entries: entries)
    }

    /// Moves waiting sequences to running in arrival order while the budgets allow; the first that
    /// does not fit waits, and so does everyone behind it, so no request is starved.
    private func admit() {
        var adapters = Set(running.flatMap(\.submission.adapterIds))
        while let next = waiting.first, running.count < limits.maxRunning,
              reservedBytes + next.reservedBytes <= limits.kvCacheBytes {
            let joined = adapters.union(next.submission.adapterIds)
            if joined.count > max(limits.maxLoras, next.submission.adapterIds.count) { break }
            waiting.removeFirst()
            adapters = joined
            reservedBytes += next.reservedBytes
            next.cache = model.makeCache(capacity: next.submission.prompt.count + next.submission.maxTokens)
            next.admitted = .now()
            next.admittedAtStep = stepCount
            running.append(next)
        }
    }

    /// Runs one step and hands out its tokens.
    private func run(_ step: Step) {
        // Rows of one adapter side by side, so each adapter is one segment of every module. An `auto`
        // request on merged weights keeps them only when its rows are the whole step: merged rows
        // read their own copy of each adapted weight, which pays only when no row needs the base's.
        let preferred = step.entries.map { $0.sequence.submission.overlay }
        let mixed = Set(preferred.map { $0?.batchKey }).count > 1
        let overlays = step.entries.map { entry -> (any LinearOverlay)? in
            let submission = entry.sequence.submission
            guard mixed, let fallback = submission.unmergedFallback else { return submission.overlay }
            entry.sequence.ranMergedThroughout = false
            return fallback
        }
        var groupOf: [AnyHashable?: Int] = [:]
        for overlay in overlays where groupOf[overlay?.batchKey] == nil { groupOf[overlay?.batchKey] = groupOf.count }
        let order = step.entries.indices.sorted { groupOf[overlays[$0]?.batchKey]! < groupOf[overlays[$1]?.batchKey]! }

        let sequences = order.map { step.entries[$0].sequence }
        let inputs = order.map { i -> DecoderModel.StepSequence in
            let (sequence, tokens) = step.entries[i]
            let logits: DecoderModel.LogitRows
            if sequence.isPrefilling {
                let endsPrompt = sequence.prefilled + tokens.count == sequence.submission.prompt.count
                logits = sequence.submission.promptLogits == .all ? .all : (endsPrompt ? .last : .none)
            } else {
                logits = .last
            }
            return DecoderModel.StepSequence(tokens: tokens, overlay: overlays[i], logits: logits)
        }
        var caches = sequences.map { sequence in
            defer { sequence.cache = KVCache(layers: 0, kvHeads: 0, headDim: 0) }   // hand the storage over: no copy
            return sequence.cache
        }
        let started = DispatchTime.now()
        let result = Result { try model.forward(step: inputs, caches: &caches, workspace: workspace) }
        condition.withLock { stepCount += 1 }
        for (sequence, cache) in zip(sequences, caches) { sequence.cache = cache }
        metrics.recordStep(tokens: inputs.reduce(0) { $0 + $1.tokens.count }, sequences: inputs.count,
                           seconds: Double(DispatchTime.now().uptimeNanoseconds - started.uptimeNanoseconds) / 1e9)

        var finished: [(EngineSequence, FinishReason)] = []
        switch result {
        case .failure(let error):
            for sequence in sequences {
                _ = sequence.handle.push(.failed("\(error)"))
                finished.append((sequence, .cancelled))
            }
        case .success(let logits):
            for (index, sequence) in sequences.enumerated() {
                if let reason = advance(sequence, ran: inputs[index].tokens.count, logits: logits[index]) {
                    finished.append((sequence, reason))
                }
            }
        }
        guard !finished.isEmpty else { return }
        condition.withLock {
            for (sequence, reason) in finished where running.contains(where: { $0 === sequence }) {
                finish(sequence, reason)
            }
            running.removeAll { sequence in finished.contains { $0.0 === sequence } }
        }
    }

    /// Books a step's result for one sequence: prompt progress, then the next token when the prompt
    /// is done. Returns why the sequence ends, or nil if it goes on.
    private func advance(_ sequence: EngineSequence, ran count: Int, logits: Matrix) -> FinishReason? {
        let submission = sequence.submission
        if sequence.isPrefilling {
            sequence.prefilled += count
            if submission.promptLogits == .all { sequence.promptLogitRows += logits.storage }
            if sequence.isPrefilling { return nil }
            if submission.promptLogits == .last { sequence.promptLogitRows = logits.storage }
        }
        guard sequence.generated.count < submission.maxTokens else { return .length }
        var row = Array(logits.storage[((logits.rows - 1) * logits.cols)...])
        if sequence.generated.count < submission.minTokens {
            for id in submission.eosTokenIds where id < row.count { row[id] = -.infinity }
        }
        let token = sequence.sampler.next(row)
        let now = DispatchTime.now()
        if let last = sequence.lastToken {
            metrics.recordInterTokenLatency(Double(now.uptimeNanoseconds - last.uptimeNanoseconds) / 1e9)
        } else {
            sequence.firstToken = now
            metrics.recordTimeToFirstToken(Double(now.uptimeNanoseconds - sequence.arrived.uptimeNanoseconds) / 1e9)
        }
        sequence.lastToken = now
        sequence.generated.append(token)
        sequence.pending = token
        guard sequence.handle.push(.token(token)) else { return .cancelled }
        if !submission.ignoreEos && submission.eosTokenIds.contains(token) { return .eos }
        if sequence.generated.count >= submission.maxTokens { return .length }
        if submission.prompt.count + sequence.generated.count >= model.config.maxPositions { return .length }
        return nil
    }

    /// Tells the request how its generation ended and frees its cache. Call with the lock held.
    private func finish(_ sequence: EngineSequence, _ reason: FinishReason) {
        let now = DispatchTime.now()
        func ms(_ from: DispatchTime?, _ to: DispatchTime?) -> Double {
            guard let from, let to else { return 0 }
            return Double(to.uptimeNanoseconds - from.uptimeNanoseconds) / 1e6
        }
        let promptRows = sequence.promptLogitRows.count / max(1, model.config.vocabularySize)
        let outcome = EngineOutcome(
            reason: reason,
            promptLogits: Matrix(rows: promptRows, cols: model.config.vocabularySize, storage: sequence.promptLogitRows),
            queuedMilliseconds: ms(sequence.arrived, sequence.admitted ?? now),
            prefillMilliseconds: ms(sequence.admitted, sequence.firstToken ?? now),
            decodeMilliseconds: ms(sequence.firstToken, sequence.firstToken == nil ? nil : now),
            ranMergedThroughout: sequence.ranMergedThroughout,
            admittedAtStep: sequence.admittedAtStep, finishedAtStep: stepCount)
        _ = sequence.handle.push(.finished(outcome))
        if sequence.admitted != nil { reservedBytes -= sequence.reservedBytes }
        sequence.cache = KVCache(layers: 0, kvHeads: 0, headDim: 0)
    }
}

private func mebibytes(_ bytes: Int) -> String {
    String(format: "%.1f", Double(bytes) / Double(1 << 20))
}

extension HTTPError {
    static let queueFull = HTTPError(.serviceUnavailable, code: "queue_full",
                                     message: "too many requests are waiting for the engine; retry shortly",
                                     headers: ["Retry-After": "1"])
    static let shuttingDown = HTTPError(.serviceUnavailable, code: "shutting_down", message: "the server is shutting down")
}
