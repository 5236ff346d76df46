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

    /// Hugging Face module paths, built once so the forward pass never formats strings.
    struct Names: Sendable {
        let q, k, v, o, gate, up, down: String
        init(layer i: Int) {
            let p = "model.layers.\(i)."
            q = p + "self_attn.q_proj"; k = p + "self_attn.k_proj"; v = p + "self_attn.v_proj"; o = p + "self_attn.o_proj"
            gate = p + "mlp.gate_proj"; up = p + "mlp.up_proj"; down = p + "mlp.down_proj"
        }
    }
}

/// A loaded Llama-family causal language model. Immutable: every request and adapter shares it.
public final class DecoderModel: Sendable {
    public let config: DecoderConfig
    let embedTokens: Matrix       // (vocab, d)
    let blocks: [DecoderBlock]
    let finalNorm: [Float]        // (d)
    let lmHead: Linear            // (vocab, d); shares storage with embedTokens when tied
    let rope: RotaryEmbedding
    private let linearsByName: [String: Linear]
    public let linearModules: [LinearModuleInfo]

    init(config c: DecoderConfig, weights: WeightSet) throws {
        config = c
        let d = c.hiddenSize, hd = c.headDim
        embedTokens = try weights.matrix("model.embed_tokens.weight", rows: c.vocabularySize, cols: d)
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
                names: .init(layer: i)))
        }
        self.blocks = blocks
        finalNorm = try weights.vector("model.norm.weight", count: d)
        if c.tieWordEmbeddings {
            // transformers ties lm_head to the embedding and ignores a stored copy.
            weights.ignore { $0 == "lm_head.weight" }
            lmHead = Linear(weight: embedTokens)
        } else {
            lmHead = try weights.linear("lm_head", out: c.vocabularySize, in: d, bias: false)
        }
        weights.ignore { $0.hasSuffix(".rotary_emb.inv_freq") }
        try weights.requireAllUsed()
        rope = RotaryEmbedding(headDim: hd, theta: c.ropeTheta, scaling: c.ropeScaling)

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
    }

    /// The base linear layer at a Hugging Face module path, e.g. `model.layers.0.self_attn.q_proj`.
    public func linear(named name: String) -> Linear? { linearsByName[name] }

    /// A fresh, empty cache for one sequence.
    public func makeCache() -> KVCache {
        KVCache(layers: config.layerCount, kvHeads: config.kvHeadCount, headDim: config.headDim)
    }

    /// Which positions of a forward pass produce logits.
    public enum LogitRows: Sendable { case all, last }

    /// Runs `tokens` after the positions already in `cache`, appends their keys and values to it,
    /// and returns logits (rows × vocab) for every new position or only the last.
    public func forward(
        tokens: [Int], cache: inout KVCache, overlay: (any LinearOverlay)? = nil, logits rows: LogitRows = .all
    ) throws -> Matrix {
        let c = config
        guard !tokens.isEmpty else { throw ModelError.emptyInput }
        for id in tokens where id < 0 || id >= c.vocabularySize {
            throw ModelError.tokenOutOfRange(id, vocabularySize: c.vocabularySize)
        }
        let first = cache.length
        guard first + tokens.count <= c.maxPositions else {
            throw ModelError.sequenceTooLong(first + tokens.count, maximum: c.maxPositions)
        }
        let n = tokens.count, d = c.hiddenSize

        // Token embeddings: h (n, d)
        var h = Matrix(rows: n, cols: d)
        for (t, id) in tokens.enumerated() {
            h.storage.replaceSubrange((t * d)..<((t + 1) * d), with: embedTokens.storage[(id * d)..<((id + 1) * d)])
        }

        cache.reserve(n)
        for (l, block) in blocks.enumerated() {
            // Attention sub-block: x = RMSNorm(h); q, k, v projections (n, ·).
            let x = rmsNorm(h, weight: block.inputNorm, eps: c.rmsNormEps)
            var q = block.q(x, module: block.names.q, overlay: overlay)
            var k = block.k(x, module: block.names.k, overlay: overlay)
            let v = block.v(x, module: block.names.v, overlay: overlay)
            // Rotary position embedding on queries and keys at positions first..<first+n.
            rope.apply(&q, heads: c.headCount, firstPosition: first)
            rope.apply(&k, heads: c.kvHeadCount, firstPosition: first)
            // Append this step's keys and values, then attend over every cached position.
            cache.write(layer: l, keys: k, values: v)
            let context = cache.layers[l].keys.withUnsafeBufferPointer { keys in
                cache.layers[l].values.withUnsafeBufferPointer { values in
                    attention(queries: q, keys: keys.baseAddress!, values: values.baseAddress!, keyCount: first + n,
                              heads: c.headCount, kvHeads: c.kvHeadCount, headDim: c.headDim,
                              visibility: .causal(firstPosition: first, slidingWindow: block.slidingWindow))
                }
            }
            // Output projection, then the residual connection back into h.
            h.add(block.o(context, module: block.names.o, overlay: overlay))

            // MLP sub-block: down(act(gate(x)) ⊙ up(x)) with x = RMSNorm(h), residual into h.
            let x2 = rmsNorm(h, weight: block.postAttentionNorm, eps: c.rmsNormEps)
            var gate = block.gate(x2, module: block.names.gate, overlay: overlay)
            let up = block.up(x2, module: block.names.up, overlay: overlay)
            let activation = c.activation
            gate.storage.withUnsafeMutableBufferPointer { g in
                up.storage.withUnsafeBufferPointer { u in
                    for i in 0..<g.count { g[i] = activation(g[i]) * u[i] }
                }
            }
            h.add(block.down(gate, module: block.names.down, overlay: overlay))
        }
        cache.advance(by: n)

        // Final norm and LM head, for every position or only the last.
        let selected = rows == .all ? h : h.rows((n - 1)..<n)
        let normed = rmsNorm(selected, weight: finalNorm, eps: c.rmsNormEps)
        return lmHead(normed, module: "lm_head", overlay: overlay)
    }

    /// Logits for every position of `tokens` from an empty cache: one full forward pass.
    public func logits(tokens: [Int], overlay: (any LinearOverlay)? = nil) throws -> Matrix {
        var cache = makeCache()
        return try forward(tokens: tokens, cache: &cache, overlay: overlay, logits: .all)
    }
}
