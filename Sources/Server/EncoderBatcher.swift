// Concurrent encoder requests (/infer with texts, /v1/embeddings) run as one forward pass, each
// sequence with its own adapter, as the batch engine does for decoders.
//
// No thread of its own: a request queues its sequences, then waits for the scheduler's slot (which
// diagnostics jobs share). Whoever gets the slot runs everything queued by then, in arrival order up
// to `maxBatchTokens` (at least one request), and hands each request its embeddings, until its own
// request has run. A request whose sequences an earlier holder already ran finds its result when it
// gets the slot, and leaves at once. So while one batch runs, the requests that arrive wait and then
// go together.
import Dispatch
import Foundation
import Models

final class EncoderBatcher: @unchecked Sendable {
    private let model: EncoderModel
    private let scheduler: InferenceScheduler
    let maxBatchTokens: Int

    /// One request's sequences and, once run, its result.
    private final class Job {
        let inputs: [EncoderInput]
        var result: Result<[Encoding], any Error>?
        var batchRequests = 0
        init(_ inputs: [EncoderInput]) { self.inputs = inputs }
        var tokens: Int { inputs.reduce(0) { $0 + $1.tokens.count } }
    }

    private let lock = NSLock()
    private var queue: [Job] = []   // under `lock`
    private var batches = 0, batchedRequests = 0

    init(model: EncoderModel, scheduler: InferenceScheduler, maxBatchTokens: Int) {
        self.model = model
        self.scheduler = scheduler
        self.maxBatchTokens = max(1, maxBatchTokens)
    }

    /// Encodes `inputs` (validated first, so one request's bad input never fails another's batch),
    /// batched with whatever other requests are waiting. Returns the encodings, the milliseconds
    /// spent waiting, and how many requests shared the forward pass.
    func encode(_ inputs: [EncoderInput]) throws -> (encodings: [Encoding], queuedMilliseconds: Double, batchRequests: Int) {
        for input in inputs { try model.validate(input) }
        let job = Job(inputs)
        lock.withLock { queue.append(job) }
        // Batches go from the front of the queue, so jobs that came first are run first even when the
        // slot goes to a later arrival; that holder keeps running batches until its own job is done.
        let (result, queued) = scheduler.run { () -> Result<[Encoding], any Error> in
            while true {
                if let result = lock.withLock({ job.result }) { return result }
                runQueued()
            }
        }
        return (try result.get(), queued, lock.withLock { job.batchRequests })
    }

    /// Runs the queued jobs that fit in one batch (called holding the scheduler's slot).
    private func runQueued() {
        let jobs: [Job] = lock.withLock {
            var taken: [Job] = [], tokens = 0
            while let next = queue.first, taken.isEmpty || tokens + next.tokens <= maxBatchTokens {
                taken.append(queue.removeFirst())
                tokens += next.tokens
            }
            return taken
        }
        guard !jobs.isEmpty else { return }
        let result = Result { try model.encode(batch: jobs.flatMap(\.inputs)) }
        lock.withLock {
            var offset = 0
            for job in jobs {
                job.result = result.map { Array($0[offset..<(offset + job.inputs.count)]) }
                job.batchRequests = jobs.count
                offset += job.inputs.count
            }
            batches += 1
            batchedRequests += jobs.count
        }
    }

    /// Requests waiting for a batch.
    var queuedRequests: Int { lock.withLock { queue.count } }

    /// Forward passes run so far and the requests they served (more requests than passes: batching).
    var counts: (batches: Int, requests: Int) { lock.withLock { (batches, batchedRequests) } }
}
