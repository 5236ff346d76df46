// One generation as the batch engine tracks it, from submission to its last token.
import Dispatch
import LinearAlgebra
import Models

/// What a request asks the engine to generate.
struct GenerationSubmission: Sendable {
    var prompt: [Int]
    var maxTokens: Int
    /// EOS is not chosen before this many tokens (vLLM's `min_tokens`).
    var minTokens: Int = 0
    /// Generation goes on through EOS tokens until `maxTokens` (vLLM's `ignore_eos`).
    var ignoreEos: Bool = false
    var eosTokenIds: Set<Int>
    var sampling: SamplingParameters
    /// How the rows of this request run; `unmergedFallback` is what an `auto` request that leased
    /// merged weights runs on in a step shared with other adapters.
    var overlay: (any LinearOverlay)?
    var unmergedFallback: (any LinearOverlay)? = nil
    /// The adapter ids (one, or several composed) for the budgets and the LoRA gauge; empty for the base.
    var adapterIds: [String] = []
    var promptLogits: DecoderModel.LogitRows = .last
}

/// The engine's state for one sequence. Touched only by the engine thread once admitted.
final class EngineSequence {
    let submission: GenerationSubmission
    let handle: GenerationHandle
    let arrived = DispatchTime.now()
    /// KV-cache bytes reserved for it at admission (prompt + max_tokens positions, allocated then).
    let reservedBytes: Int
    var cache: KVCache
    /// Prompt tokens already run through the model.
    var prefilled = 0
    var generated: [Int] = []
    /// The token to run next while decoding.
    var pending: Int? = nil
    var sampler: Sampler
    var promptLogitRows: [Float] = []
    var admitted: DispatchTime? = nil
    var admittedAtStep: Int? = nil
    var firstToken: DispatchTime? = nil
    var lastToken: DispatchTime? = nil
    var ranMergedThroughout = true

    init(submission: GenerationSubmission, handle: GenerationHandle, reservedBytes: Int) {
        self.submission = submission
        self.handle = handle
        self.reservedBytes = reservedBytes
        self.cache = KVCache(layers: 0, kvHeads: 0, headDim: 0)
        self.sampler = Sampler(submission.sampling)
    }

    var isPrefilling: Bool { prefilled < submission.prompt.count }
}
