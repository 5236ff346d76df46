// The one decoding loop: prefill the prompt, then sample a token, hand it to the caller, and step
// the KV cache with it, until an EOS id, the token budget, the context window, or the caller stops.
import Dispatch
import LinearAlgebra

/// Why a generation ended.
public enum FinishReason: String, Sendable {
    /// An EOS id was generated (it is the last token).
    case eos
    /// `maxTokens` tokens were generated, or the context window is full.
    case length
    /// The caller's token callback asked to stop (a stop string matched).
    case stop
    /// The caller's token callback reported that nobody is listening any more.
    case cancelled
}

/// What the token callback tells the loop.
public enum GenerationControl: Sendable { case proceed, stop, cancel }

/// The result of one generation.
public struct GenerationOutcome: Sendable {
    public var tokens: [Int]
    public var finishReason: FinishReason
    /// Logits of the prompt positions the caller asked for (`promptLogits`).
    public var promptLogits: Matrix
    public var prefillMilliseconds: Double
    public var decodeMilliseconds: Double
}

/// Generates tokens after a prompt with one decoder, adapter overlay and sampler.
public struct Generator {
    public let model: DecoderModel
    public let overlay: (any LinearOverlay)?
    public let eosTokenIds: Set<Int>

    public init(model: DecoderModel, overlay: (any LinearOverlay)? = nil, eosTokenIds: Set<Int>) {
        self.model = model
        self.overlay = overlay
        self.eosTokenIds = eosTokenIds
    }

    /// Appends up to `maxTokens` tokens to `prompt`. `onToken` sees each token as soon as it is
    /// chosen (before the next forward pass) and may stop or cancel the loop.
    public func generate(prompt: [Int], maxTokens: Int, sampler: inout Sampler,
                         promptLogits: DecoderModel.LogitRows = .last,
                         onToken: (Int) -> GenerationControl = { _ in .proceed }) throws -> GenerationOutcome {
        var cache = model.makeCache()
        let prefillStart = DispatchTime.now().uptimeNanoseconds
        let logits = try model.forward(tokens: prompt, cache: &cache, overlay: overlay, logits: promptLogits)
        let prefill = Double(DispatchTime.now().uptimeNanoseconds - prefillStart) / 1e6

        let decodeStart = DispatchTime.now().uptimeNanoseconds
        var tokens: [Int] = []
        var reason = FinishReason.length
        var row = Array(logits.storage[((logits.rows - 1) * logits.cols)...])
        while tokens.count < maxTokens {
            let next = sampler.next(row)
            tokens.append(next)
            switch onToken(next) {
            case .proceed: break
            case .stop: reason = .stop
            case .cancel: reason = .cancelled
            }
            if reason != .length { break }
            if eosTokenIds.contains(next) { reason = .eos; break }
            if tokens.count == maxTokens || cache.length >= model.config.maxPositions { break }
            row = try model.forward(tokens: [next], cache: &cache, overlay: overlay, logits: .last).storage
        }
        return GenerationOutcome(tokens: tokens, finishReason: reason, promptLogits: logits, prefillMilliseconds: prefill,
                                 decodeMilliseconds: Double(DispatchTime.now().uptimeNanoseconds - decodeStart) / 1e6)
    }
}
