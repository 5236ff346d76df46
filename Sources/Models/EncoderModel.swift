// BERT encoder (Devlin et al. 2019): word + position + token-type embeddings and LayerNorm, then
// post-norm blocks of self-attention → residual → LayerNorm, GELU MLP → residual → LayerNorm.
// Follows transformers' modeling_bert.py (eager attention) in fp32.
import Foundation
import LinearAlgebra

/// One encoder block's weights; d = hidden, f = intermediate.
struct EncoderBlock: Sendable {
    let query: Linear             // (d, d)
    let key: Linear               // (d, d)
    let value: Linear             // (d, d)
    let attentionOutput: Linear   // (d, d)
    let attentionNorm: (weight: [Float], bias: [Float])  // (d), (d)
    let intermediate: Linear      // (f, d)
    let output: Linear            // (d, f)
    let outputNorm: (weight: [Float], bias: [Float])     // (d), (d)
    let names: Names
    let modules: Modules

    /// The modules' indices in `EncoderModel.linearModules` (six per layer, in this order).
    struct Modules: Sendable {
        let query, key, value, attentionOutput, intermediate, output: Int
        init(layer i: Int) {
            query = 6 * i; key = query + 1; value = query + 2; attentionOutput = query + 3; intermediate = query + 4; output = query + 5
        }
    }

    struct Names: Sendable {
        let query, key, value, attentionOutput, intermediate, output: String
        init(prefix: String, layer i: Int) {
            let p = "\(prefix)encoder.layer.\(i)."
            query = p + "attention.self.query"; key = p + "attention.self.key"; value = p + "attention.self.value"
            attentionOutput = p + "attention.output.dense"; intermediate = p + "intermediate.dense"; output = p + "output.dense"
        }
    }
}

/// The result of encoding one sequence.
public struct Encoding: Sendable {
    /// Final hidden state of every position (tokens × d), padding positions included.
    public let lastHiddenState: Matrix
    /// The pooled (and, if the model says so, L2-normalised) sentence embedding (d).
    public let embedding: [Float]
}

/// A loaded BERT-family encoder. Immutable: every request and adapter shares it.
public final class EncoderModel: Sendable {
    public let config: EncoderConfig
    public let pooling: SentencePooling
    let wordEmbeddings: Matrix        // (vocab, d)
    let positionEmbeddings: Matrix    // (maxPositions, d)
    let tokenTypeEmbeddings: Matrix   // (types, d)
    let embeddingNorm: (weight: [Float], bias: [Float])
    let blocks: [EncoderBlock]
    /// `pooler.dense` (d, d): unused by sentence embeddings, kept so adapters that target it validate.
    let pooler: Linear?
    private let linearsByName: [String: Linear]
    public let linearModules: [LinearModuleInfo]
    /// The float32 weights the quantized ones were made from, for a model quantized at load.
    public let originalWeights: OriginalWeights?

    init(config c: EncoderConfig, pooling: SentencePooling, weights: WeightSet) throws {
        config = c
        self.pooling = pooling
        let d = c.hiddenSize
        // Checkpoints of BertFor* heads prefix the encoder with "bert."; PEFT module names follow suit.
        let prefix = weights.contains("bert.embeddings.word_embeddings.weight") ? "bert." : ""
        func norm(_ name: String) throws -> (weight: [Float], bias: [Float]) {
            (try weights.vector(name + ".weight", count: d), try weights.vector(name + ".bias", count: d))
        }
        let e = prefix + "embeddings."
        wordEmbeddings = try weights.matrix(e + "word_embeddings.weight", rows: c.vocabularySize, cols: d)
        positionEmbeddings = try weights.matrix(e + "position_embeddings.weight", rows: c.maxPositions, cols: d)
        tokenTypeEmbeddings = try weights.matrix(e + "token_type_embeddings.weight", rows: c.typeVocabularySize, cols: d)
        embeddingNorm = try norm(e + "LayerNorm")
        var blocks: [EncoderBlock] = []
        for i in 0..<c.layerCount {
            let names = EncoderBlock.Names(prefix: prefix, layer: i)
            let p = "\(prefix)encoder.layer.\(i)."
            blocks.append(EncoderBlock(
                query: try weights.linear(names.query, out: d, in: d, bias: true),
                key: try weights.linear(names.key, out: d, in: d, bias: true),
                value: try weights.linear(names.value, out: d, in: d, bias: true),
                attentionOutput: try weights.linear(names.attentionOutput, out: d, in: d, bias: true),
                attentionNorm: try norm(p + "attention.output.LayerNorm"),
                intermediate: try weights.linear(names.intermediate, out: c.intermediateSize, in: d, bias: true),
                output: try weights.linear(names.output, out: d, in: c.intermediateSize, bias: true),
                outputNorm: try norm(p + "output.LayerNorm"),
                names: names, modules: .init(layer: i)))
        }
        self.blocks = blocks
        pooler = weights.contains(prefix + "pooler.dense.weight")
            ? try weights.linear(prefix + "pooler.dense", out: d, in: d, bias: true) : nil
        // position_ids is an integer buffer; cls./classifier. are task heads an encoder does not run.
        weights.ignore { $0.hasSuffix("embeddings.position_ids") || $0.hasPrefix("cls.") || $0.hasPrefix("classifier.") }
        try weights.requireAllUsed()
        originalWeights = weights.quantization != nil ? weights.originals : nil

        var byName: [String: Linear] = [:]
        var modules: [LinearModuleInfo] = []
        for b in blocks {
            let n = b.names
            for (name, linear) in [(n.query, b.query), (n.key, b.key), (n.value, b.value),
                                   (n.attentionOutput, b.attentionOutput), (n.intermediate, b.intermediate), (n.output, b.output)] {
                byName[name] = linear
                modules.append(LinearModuleInfo(name: name, outFeatures: linear.outFeatures, inFeatures: linear.inFeatures))
            }
        }
        if let pooler {
            byName[prefix + "pooler.dense"] = pooler
            modules.append(LinearModuleInfo(name: prefix + "pooler.dense", outFeatures: d, inFeatures: d))
        }
        linearsByName = byName
        linearModules = modules
    }

    /// Modules that read the same input: query, key and value of each layer.
    public var sharedInputGroups: [[Int]] {
        blocks.map { [$0.modules.query, $0.modules.key, $0.modules.value] }
    }

    /// The base linear layer at a Hugging Face module path, e.g. `encoder.layer.0.attention.self.query`.
    public func linear(named name: String) -> Linear? { linearsByName[name] }

    /// Encodes one sequence. `attentionMask` (default all ones) marks real tokens with 1 and padding
    /// with 0; `tokenTypes` defaults to all zeros.
    public func encode(
        tokens: [Int], attentionMask: [Int]? = nil, tokenTypes: [Int]? = nil, overlay: (any LinearOverlay)? = nil
    ) throws -> Encoding {
        try encode(batch: [EncoderInput(tokens: tokens, attentionMask: attentionMask, tokenTypes: tokenTypes, overlay: overlay)])[0]
    }

    /// Throws the error `encode` would for `input`, so a server can refuse one request's bad input
    /// before batching it with others.
    public func validate(_ input: EncoderInput) throws {
        let c = config
        let n = input.tokens.count
        guard n > 0 else { throw ModelError.emptyInput }
        guard n <= c.maxPositions else { throw ModelError.sequenceTooLong(n, maximum: c.maxPositions) }
        for id in input.tokens where id < 0 || id >= c.vocabularySize {
            throw ModelError.tokenOutOfRange(id, vocabularySize: c.vocabularySize)
        }
        if let mask = input.attentionMask {
            guard mask.count == n else { throw ModelError.attentionMaskLength(mask.count, tokens: n) }
            guard mask.allSatisfy({ $0 == 0 || $0 == 1 }), mask.contains(1) else {
                throw ModelError.invalidConfig("attention mask must hold 0s and 1s with at least one 1")
            }
        }
        if let types = input.tokenTypes {
            guard types.count == n, types.allSatisfy({ $0 >= 0 && $0 < c.typeVocabularySize }) else {
                throw ModelError.invalidConfig("token types must be \(n) values in [0, \(c.typeVocabularySize))")
            }
        }
    }

    /// Encodes several sequences, each with its own adapter, in one forward pass: their rows are
    /// stacked, every linear module runs once over all of them (each adapter's delta on its own rows,
    /// see SegmentedLinear.swift), and attention runs within each sequence. As a loop, and equal to
    /// it up to the summation order of the larger products:
    ///
    ///     inputs.map { encode(tokens: $0.tokens, attentionMask: $0.attentionMask,
    ///                         tokenTypes: $0.tokenTypes, overlay: $0.overlay) }
    public func encode(batch inputs: [EncoderInput]) throws -> [Encoding] {
        let c = config
        let d = c.hiddenSize
        for input in inputs { try validate(input) }
        guard !inputs.isEmpty else { return [] }
        var offsets = [0]
        for input in inputs { offsets.append(offsets.last! + input.tokens.count) }
        let total = offsets.last!
        let masks = inputs.map { input in (input.attentionMask ?? Array(repeating: 1, count: input.tokens.count)).map { $0 == 1 } }

        // Embeddings: word + absolute position + token type, then LayerNorm. h (N, d)
        var h = Matrix(rows: total, cols: d)
        for (i, input) in inputs.enumerated() {
            let types = input.tokenTypes ?? Array(repeating: 0, count: input.tokens.count)
            for t in 0..<input.tokens.count {
                let row = offsets[i] + t
                for j in 0..<d {
                    h[row, j] = wordEmbeddings[input.tokens[t], j] + positionEmbeddings[t, j] + tokenTypeEmbeddings[types[t], j]
                }
            }
        }
        h = layerNorm(h, weight: embeddingNorm.weight, bias: embeddingNorm.bias, eps: c.layerNormEps)

        let segments = rowSegments(inputs.indices.map { (offsets[$0]..<offsets[$0 + 1], inputs[$0].overlay) })
        for block in blocks {
            let m = block.modules
            // Self-attention within each sequence, over its unmasked positions.
            let qkv = Linear.projections(h, [(block.query, m.query), (block.key, m.key), (block.value, m.value)], segments: segments)
            var context = Matrix(rows: total, cols: d)
            qkv[0].storage.withUnsafeBufferPointer { q in
                qkv[1].storage.withUnsafeBufferPointer { k in
                    qkv[2].storage.withUnsafeBufferPointer { v in
                        context.storage.withUnsafeMutableBufferPointer { o in
                            for i in inputs.indices {
                                let first = offsets[i] * d, count = offsets[i + 1] - offsets[i]
                                attention(queries: q.baseAddress! + first, tokens: count, keys: k.baseAddress! + first,
                                          values: v.baseAddress! + first, keyCount: count, heads: c.headCount, kvHeads: c.headCount,
                                          headDim: c.headDim, visibility: .padding(masks[i]), into: o.baseAddress! + first)
                            }
                        }
                    }
                }
            }
            // Output projection, residual, LayerNorm (post-norm).
            var attended = block.attentionOutput(context, module: m.attentionOutput, segments: segments)
            attended.add(h)
            h = layerNorm(attended, weight: block.attentionNorm.weight, bias: block.attentionNorm.bias, eps: c.layerNormEps)
            // MLP: output(act(intermediate(h))), residual, LayerNorm.
            var inner = block.intermediate(h, module: m.intermediate, segments: segments)
            c.activation.apply(&inner)
            var out = block.output(inner, module: m.output, segments: segments)
            out.add(h)
            h = layerNorm(out, weight: block.outputNorm.weight, bias: block.outputNorm.bias, eps: c.layerNormEps)
        }
        return inputs.indices.map { i in
            let states = h.rows(offsets[i]..<offsets[i + 1])
            return Encoding(lastHiddenState: states, embedding: pooling.pool(states, mask: masks[i]))
        }
    }
}

/// One sequence of an encoder batch: its tokens, optional attention mask (1 real, 0 padding) and
/// token types, and the adapter its rows run with.
public struct EncoderInput: Sendable {
    public var tokens: [Int]
    public var attentionMask: [Int]?
    public var tokenTypes: [Int]?
    public var overlay: (any LinearOverlay)?

    public init(tokens: [Int], attentionMask: [Int]? = nil, tokenTypes: [Int]? = nil, overlay: (any LinearOverlay)? = nil) {
        self.tokens = tokens
        self.attentionMask = attentionMask
        self.tokenTypes = tokenTypes
        self.overlay = overlay
    }
}
