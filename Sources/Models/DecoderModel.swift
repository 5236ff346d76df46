// Llama-family decoder (Llama, Mistral, Qwen2): pre-norm blocks of RMSNorm → grouped-query
// attention with RoPE → residual, RMSNorm → SwiGLU MLP → residual; final RMSNorm and LM head.
// Follows transformers' modeling_llama.py / modeling_mistral.py / modeling_qwen2.py in fp32.
import Foundation
import LinearAlgebra

/// One decoder block's weights. Shapes use d = hidden, h = heads, k = kv heads, hd = head dim, f = MLP width.
struct DecoderBlock: Sendable {
    let inputNorm: [Float]          // (d)
    let q: Linear                   // (h·hd, d)
    let k: Linear                   // (k·hd, d)
    let v: Linear                   // (k·hd, d)
    let o: Linear                   // (d, h·hd)
    let postAttentionNorm: [Float]  // (d)
    let gate: Linear                // (f, d)
    let up: Linear                  // (f, d)
    let down: Linear                // (d, f)
    let slidingWindow: Int?
    let names: Names
    let modules: Modules

    /// Hugging Face module paths, built once so the forward pass never formats strings.
    struct Names: Sendable {
        let q, k, v, o, gate, up, down: String
        init(layer i: Int) {
            let p = "model.layers.\(i)."
            q = p + "self_attn.q_proj"; k = p + "self_attn.k_proj"; v = p + "self_attn.v_proj"; o = p + "self_attn.o_proj"
            gate = p + "mlp.gate_proj"; up = p + "mlp.up_proj"; down = p + "mlp.down_proj"
        }
    }

    /// The modules' indices in `DecoderModel.linearModules` (q, k, v, o, gate, up, down of each layer in
    /// turn, then lm_head), which overlays are addressed by.
    struct Modules: Sendable {
        let q, k, v, o, gate, up, down: Int
        init(layer i: Int) {
            q = 7 * i; k = q + 1; v = q + 2; o = q + 3; gate = q + 4; up = q + 5; down = q + 6
        }
    }
}

/// A loaded Llama-family causal language model. Immutable: every request and adapter shares it.
public final class DecoderModel: Sendable {
    public let config: DecoderConfig
    let embedTokens: Linear.Stored   // (vocab, d), float32 or quantized
    let blocks: [DecoderBlock]
    let finalNorm: [Float]        // (d)
    let lmHead: Linear            // (vocab, d); shares storage with embedTokens when tied
    let rope: RotaryEmbedding
    private let linearsByName: [String: Linear]
    public let linearModules: [LinearModuleInfo]
    /// The float32 weights the quantized ones were made from, for a model quantized at load.
    public let originalWeights: OriginalWeights?

    init(config c: DecoderConfig, weights: WeightSet) throws {
        config = c
        let d = c.hiddenSize, hd = c.headDim
        embedTokens = try weights.stored("model.embed_tokens.weight", rows: c.vocabularySize, cols: d)
        var blocks: [DecoderBlock] = []
        for i in 0..<c.layerCount {
            let p = "model.layers.\(i)."
            blocks.append(DecoderBlock(
                inputNorm: try weights.vector(p + "input_layernorm.weight", count: d),
                q: try weights.linear(p + "self_attn.q_proj", out: c.headCount * hd, in: d, bias: c.qkvBias),
                k: try weights.linear(p + "self_attn.k_proj", out: c.kvHeadCount * hd, in: d, bias: c.qkvBias),
                v: try weights.linear(p + "self_attn.v_proj", out: c.kvHeadCount * hd, in: d, bias: c.qkvBias),
                o: try weights.linear(p + "self_attn.o_proj", out: d, in: c.headCount * hd, bias: c.outputBias),
                postAttentionNorm: try weights.vector(p + "post_attention_layernorm.weight", count: d),
                gate: try weights.linear(p + "mlp.gate_proj", out: c.intermediateSize, in: d, bias: c.mlpBias),
                up: try weights.linear(p + "mlp.up_proj", out: c.intermediateSize, in: d, bias: c.mlpBias),
                down: try weights.linear(p + "mlp.down_proj", out: d, in: c.intermediateSize, bias: c.mlpBias),
                slidingWindow: c.slidingWindows[i],
                names: .init(layer: i), modules: .init(layer: i)))
        }
        self.blocks = blocks
        finalNorm = try weights.vector("model.norm.weight", count: d)
        if c.tieWordEmbeddings {
            // transformers ties lm_head to the embedding and ignores a stored copy.
            weights.ignore { $0 == "lm_head.weight" }
            lmHead = Linear(stored: embedTokens)
        } else {
            lmHead = try weights.linear("lm_head", out: c.vocabularySize, in: d, bias: false)
        }
        weights.ignore { $0.hasSuffix(".rotary_emb.inv_freq") }
        try weights.requireAllUsed()
        originalWeights = weights.quantization != nil ? weights.originals : nil
        rope = RotaryEmbedding(headDim: hd, theta: c.ropeTheta, scaling: c.ropeScaling, maxPositions: c.maxPositions)

        var byName: [String: Linear] = ["lm_head": lmHead]
        for b in blocks {
            let n = b.names
            for (name, linear) in [(n.q, b.q), (n.k, b.k), (n.v, b.v), (n.o, b.o), (n.gate, b.gate), (n.up, b.up), (n.down, b.down)] {
                byName[name] = linear
            }
        }
        linearsByName = byName
        linearModules = blocks.flatMap { b in
            [(b.names.q, b.q), (b.names.k, b.k), (b.names.v, b.v), (b.names.o, b.o),
             (b.names.gate, b.gate), (b.names.up, b.up), (b.names.down, b.down)]
                .map { LinearModuleInfo(name: $0.0, outFeatures: $0.1.outFeatures, inFeatures: $0.1.inFeatures) }
        } + [LinearModuleInfo(name: "lm_head", outFeatures: c.vocabularySize, inFeatures: d)]
        lmHeadModule = 7 * blocks.count
    }

    /// `lm_head`'s index in `linearModules`.
    let lmHeadModule: Int

    /// Modules that read the same input: q, k, v and gate, up of each layer (indices into `linearModules`).
    public var sharedInputGroups: [[Int]] {
        blocks.flatMap { [[$0.modules.q, $0.modules.k, $0.modules.v], [$0.modules.gate, $0.modules.up]] }
    }

    /// The base linear layer at a Hugging Face module path, e.g. `model.layers.0.self_attn.q_proj`.
    public func linear(named name: String) -> Linear? { linearsByName[name] }

    /// A fresh, empty cache for one sequence; with `capacity`, every position allocated up front.
    public func makeCache(capacity: Int = 0) -> KVCache {
        KVCache(layers: config.layerCount, kvHeads: config.kvHeadCount, headDim: config.headDim,
                capacity: min(capacity, config.maxPositions))
    }

    /// Bytes of KV cache one sequence of `positions` positions takes.
    public func cacheBytes(positions: Int) -> Int {
        KVCache.byteCount(layers: config.layerCount, kvHeads: config.kvHeadCount, headDim: config.headDim, positions: positions)
    }

    /// Which positions of a forward pass produce logits.
    public enum LogitRows: Sendable { case all, last, none }

    /// One sequence's part of a batched step: tokens after the positions in its cache, its adapter
    /// overlay, and which of its rows need logits.
    public struct StepSequence: Sendable {
        public var tokens: [Int]
        public var overlay: (any LinearOverlay)?
        public var logits: LogitRows

        public init(tokens: [Int], overlay: (any LinearOverlay)?, logits: LogitRows) {
            self.tokens = tokens
            self.overlay = overlay
            self.logits = logits
        }
    }

    /// Runs `tokens` after the positions already in `cache`, appends their keys and values to it,
    /// and returns logits (rows × vocab) for every new position or only the last.
    public func forward(
        tokens: [Int], cache: inout KVCache, overlay: (any LinearOverlay)? = nil, logits rows: LogitRows = .all
    ) throws -> Matrix {
        var caches = [cache]
        cache = KVCache(layers: 0, kvHeads: 0, headDim: 0)   // hand over the storage: no copy on write
        defer { cache = caches[0] }
        return try forward(step: [StepSequence(tokens: tokens, overlay: overlay, logits: rows)], caches: &caches)[0]
    }

    /// One batched step: the new tokens of every sequence (a prefill chunk or one decode token each)
    /// in one pass, each after the positions in its own cache (`caches[i]` for `step[i]`). Every
    /// linear module runs once over all rows, each sequence's adapter applied to its rows only
    /// (`Linear.callAsFunction(_:module:segments:)`); attention runs per sequence over its own cache.
    /// Returns each sequence's logits (rows × vocab: all its new rows, its last, or none).
    ///
    /// Consecutive sequences whose overlays have the same `batchKey` share one row segment, so a
    /// caller that orders the step by adapter gets one shrink and one expand GEMM per adapter.
    ///
    /// The activations live in `workspace`'s buffers (a fresh one when nil): a caller that passes
    /// the same workspace to every step allocates no activation storage once its steps stop growing.
    /// Only the returned logits are new.
    public func forward(step: [StepSequence], caches: inout [KVCache], workspace: ForwardWorkspace? = nil) throws -> [Matrix] {
        let c = config
        precondition(step.count == caches.count, "one cache per sequence")
        guard !step.isEmpty else { return [] }
        for (sequence, cache) in zip(step, caches) {
            guard !sequence.tokens.isEmpty else { throw ModelError.emptyInput }
            for id in sequence.tokens where id < 0 || id >= c.vocabularySize {
                throw ModelError.tokenOutOfRange(id, vocabularySize: c.vocabularySize)
            }
            guard cache.length + sequence.tokens.count <= c.maxPositions else {
                throw ModelError.sequenceTooLong(cache.length + sequence.tokens.count, maximum: c.maxPositions)
            }
        }
        let d = c.hiddenSize, hd = c.headDim
        let qWidth = c.headCount * hd, kvWidth = c.kvHeadCount * hd
        // Sequence i owns rows offsets[i]..<offsets[i + 1] of every activation.
        var offsets = [0]
        for sequence in step { offsets.append(offsets.last! + sequence.tokens.count) }
        let n = offsets.last!
        let segments = rowSegments(step.indices.map { (offsets[$0]..<offsets[$0 + 1], step[$0].overlay) })
        let firsts = caches.map(\.length)
        for i in caches.indices { caches[i].reserve(step[i].tokens.count) }

        let f = c.intermediateSize, work = workspace ?? ForwardWorkspace()
        var x = work.take(.normed, rows: n, cols: d)                  // RMSNorm(h)
        var q = work.take(.query, rows: n, cols: qWidth)              // (n, h·hd)
        var k = work.take(.key, rows: n, cols: kvWidth)               // (n, k·hd)
        var v = work.take(.value, rows: n, cols: kvWidth)
        var context = work.take(.context, rows: n, cols: qWidth)      // attention output before o_proj
        var attended = work.take(.attentionOutput, rows: n, cols: d)  // o_proj(context)
        var gate = work.take(.gate, rows: n, cols: f), up = work.take(.up, rows: n, cols: f)
        var mlp = work.take(.mlpOutput, rows: n, cols: d)             // down(act(gate) ⊙ up)

        // Token embeddings: h (n, d)
        var h = work.take(.hidden, rows: n, cols: d)
        h.storage.withUnsafeMutableBufferPointer { hs in
            for (t, id) in step.flatMap(\.tokens).enumerated() { embedTokens.row(id, into: hs.baseAddress! + t * d) }
        }

        for (l, block) in blocks.enumerated() {
            let m = block.modules
            // Attention sub-block: x = RMSNorm(h); q (n, h·hd), k and v (n, k·hd) for all rows at once.
            rmsNorm(h, weight: block.inputNorm, eps: c.rmsNormEps, into: &x)
            var qkv = [moved(&q), moved(&k), moved(&v)]
            Linear.projections(x, [(block.q, m.q), (block.k, m.k), (block.v, m.v)], segments: segments, into: &qkv)
            (q, k, v) = (moved(&qkv[0]), moved(&qkv[1]), moved(&qkv[2]))
            q.storage.withUnsafeMutableBufferPointer { qs in
                k.storage.withUnsafeMutableBufferPointer { ks in
                    v.storage.withUnsafeBufferPointer { vs in
                        context.storage.withUnsafeMutableBufferPointer { out in
                            var decoding: [Int] = []   // sequences with one new token: they attend together below
                            for i in step.indices {
                                let rows = offsets[i + 1] - offsets[i], first = firsts[i]
                                let qi = qs.baseAddress! + offsets[i] * qWidth, ki = ks.baseAddress! + offsets[i] * kvWidth
                                // Rotary position embedding at this sequence's positions first..<first+rows.
                                rope.apply(qi, rows: rows, heads: c.headCount, firstPosition: first)
                                rope.apply(ki, rows: rows, heads: c.kvHeadCount, firstPosition: first)
                                // Append its keys and values, then attend over every position it has cached.
                                caches[i].write(layer: l, keys: ki, values: vs.baseAddress! + offsets[i] * kvWidth, rows: rows)
                                if rows == 1 {
                                    decoding.append(i)
                                    continue
                                }
                                caches[i].layers[l].keys.withUnsafeBufferPointer { keys in
                                    caches[i].layers[l].values.withUnsafeBufferPointer { values in
                                        attention(queries: qi, tokens: rows, keys: keys.baseAddress!, values: values.baseAddress!,
                                                  keyCount: first + rows, heads: c.headCount, kvHeads: c.kvHeadCount, headDim: hd,
                                                  visibility: .causal(firstPosition: first, slidingWindow: block.slidingWindow),
                                                  into: out.baseAddress! + offsets[i] * qWidth)
                                    }
                                }
                            }
                            // One query row each at position firsts[i], seeing the window that ends there.
                            decodeAttention(
                                queries: decoding.map { UnsafePointer(qs.baseAddress! + offsets[$0] * qWidth) },
                                keys: decoding.map { caches[$0].layers[l].keys }, values: decoding.map { caches[$0].layers[l].values },
                                visible: decoding.map { causalKeys(at: firsts[$0], slidingWindow: block.slidingWindow) },
                                heads: c.headCount, kvHeads: c.kvHeadCount, headDim: hd,
                                into: decoding.map { out.baseAddress! + offsets[$0] * qWidth })
                        }
                    }
                }
            }
            // Output projection, then the residual connection back into h.
            block.o.apply(context, module: m.o, segments: segments, into: &attended)
            h.add(attended)

            // MLP sub-block: down(act(gate(x)) ⊙ up(x)) with x = RMSNorm(h), residual into h.
            rmsNorm(h, weight: block.postAttentionNorm, eps: c.rmsNormEps, into: &x)
            var gateUp = [moved(&gate), moved(&up)]
            Linear.projections(x, [(block.gate, m.gate), (block.up, m.up)], segments: segments, into: &gateUp)
            (gate, up) = (moved(&gateUp[0]), moved(&gateUp[1]))
            c.activation.gate(&gate, by: up)   // gate = act(gate) ⊙ up
            block.down.apply(gate, module: m.down, segments: segments, into: &mlp)
            h.add(mlp)
        }
        defer {
            for (role, buffer) in [(ForwardWorkspace.Role.normed, x), (.query, q), (.key, k), (.value, v), (.context, context),
                                   (.attentionOutput, attended), (.gate, gate), (.up, up), (.mlpOutput, mlp), (.hidden, h)] {
                work.recycle(role, buffer)
            }
        }
        for i in caches.indices { caches[i].advance(by: step[i].tokens.count) }

        // Final norm and LM head over the rows each sequence asked for, then split per sequence.
        var selected: [Int] = []
        var selectedRanges: [(Range<Int>, (any LinearOverlay)?)] = []
        for (i, sequence) in step.enumerated() {
            let rows: Range<Int> = switch sequence.logits {
            case .all: offsets[i]..<offsets[i + 1]
            case .last: (offsets[i + 1] - 1)..<offsets[i + 1]
            case .none: offsets[i]..<offsets[i]
            }
            selectedRanges.append((selected.count..<(selected.count + rows.count), sequence.overlay))
            selected += rows
        }
        guard !selected.isEmpty else { return step.map { _ in Matrix(rows: 0, cols: c.vocabularySize) } }
        var last = Matrix(rows: selected.count, cols: d)
        for (r, row) in selected.enumerated() {
            last.storage.replaceSubrange((r * d)..<((r + 1) * d), with: h.storage[(row * d)..<((row + 1) * d)])
        }
        let normed = rmsNorm(last, weight: finalNorm, eps: c.rmsNormEps)
        let logits = lmHead(normed, module: lmHeadModule, segments: rowSegments(selectedRanges.filter { !$0.0.isEmpty }))
        return selectedRanges.map { logits.rows($0.0) }
    }

    /// Logits for every position of `tokens` from an empty cache: one full forward pass.
    public func logits(tokens: [Int], overlay: (any LinearOverlay)? = nil) throws -> Matrix {
        var cache = makeCache()
        return try forward(tokens: tokens, cache: &cache, overlay: overlay, logits: .all)
    }
}

/// Row ranges with their overlays, consecutive ranges with the same batch key merged into one segment.
func rowSegments(_ ranges: [(Range<Int>, (any LinearOverlay)?)]) -> [RowSegment] {
    var segments: [RowSegment] = []
    for (rows, overlay) in ranges {
        if let previous = segments.last, previous.rows.upperBound == rows.lowerBound,
           previous.overlay?.batchKey == overlay?.batchKey {
            segments[segments.count - 1].rows = previous.rows.lowerBound..<rows.upperBound
        } else {
            segments.append(RowSegment(rows: rows, overlay: overlay))
        }
    }
    return segments
}
