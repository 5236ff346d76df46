// A Llama-shaped model and LoRA adapters of random weights, built in memory through the same
// safetensors and PEFT loading paths as files on disk. For benchmarks only.
import Adapters
import Foundation
import Formats
import LinearAlgebra
import Models

struct RandomLlama {
    let hidden: Int, layers: Int, vocabulary: Int
    /// Query heads of 64 dimensions; `kvHeads` of them share keys and values (grouped-query attention).
    var heads: Int { hidden / 64 }
    var kvHeads: Int? = nil
    /// Llama's MLP width rule (8/3 · hidden rounded up to a multiple of 256) unless given.
    var intermediateSize: Int? = nil
    var tiedEmbeddings = false
    var intermediate: Int { intermediateSize ?? (8 * hidden / 3 + 255) / 256 * 256 }
    var keyValueHeads: Int { kvHeads ?? heads }
    static let projections = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]

    /// SmolLM2-135M's exact shape: hidden 576, 30 layers, 9 heads / 3 KV heads, MLP 1536, 49,152 tokens, tied head.
    static let smolLM2 = RandomLlama(hidden: 576, layers: 30, vocabulary: 49152, kvHeads: 3, intermediateSize: 1536, tiedEmbeddings: true)

    /// (out, in) of a projection.
    func shape(_ projection: String) -> (Int, Int) {
        switch projection {
        case "gate_proj", "up_proj": (intermediate, hidden)
        case "down_proj": (hidden, intermediate)
        case "k_proj", "v_proj": (keyValueHeads * 64, hidden)
        default: (hidden, hidden)
        }
    }

    /// Bytes of weights one decode step reads: every projection and the LM head, in float32.
    var decodeWeightBytes: Int {
        4 * (layers * Self.projections.reduce(0) { let (o, i) = shape($1); return $0 + o * i } + vocabulary * hidden)
    }

    func model() throws -> BaseModel {
        let config = """
        {"model_type": "llama", "architectures": ["LlamaForCausalLM"], "vocab_size": \(vocabulary),
         "hidden_size": \(hidden), "intermediate_size": \(intermediate), "num_hidden_layers": \(layers),
         "num_attention_heads": \(heads), "num_key_value_heads": \(keyValueHeads), "max_position_embeddings": 4096,
         "rms_norm_eps": 1e-5, "rope_theta": 10000.0, "tie_word_embeddings": \(tiedEmbeddings)}
        """
        var random = SplitMix(seed: 1)
        var tensors: [(String, [Int], [Float])] = [
            ("model.embed_tokens.weight", [vocabulary, hidden], random.floats(vocabulary * hidden, scale: 0.02)),
            ("model.norm.weight", [hidden], Array(repeating: 1, count: hidden)),
        ]
        if !tiedEmbeddings {
            tensors.append(("lm_head.weight", [vocabulary, hidden], random.floats(vocabulary * hidden, scale: 0.02)))
        }
        for l in 0..<layers {
            let p = "model.layers.\(l)."
            tensors.append((p + "input_layernorm.weight", [hidden], Array(repeating: 1, count: hidden)))
            tensors.append((p + "post_attention_layernorm.weight", [hidden], Array(repeating: 1, count: hidden)))
            for projection in Self.projections {
                let (out, inFeatures) = shape(projection)
                let group = ["gate_proj", "up_proj", "down_proj"].contains(projection) ? "mlp." : "self_attn."
                tensors.append((p + group + projection + ".weight", [out, inFeatures], random.floats(out * inFeatures, scale: 0.02)))
            }
        }
        let file = try SafetensorsFile(bytes: SafetensorsWriter.serialize(tensors: tensors))
        return try BaseModel.load(config: JSONDecoder().decode(ModelConfigFile.self, from: Data(config.utf8)), tensors: [file])
    }

    /// A rank-`rank` adapter on all seven projections of every layer.
    func adapter(rank: Int, on model: BaseModel) throws -> LoRAAdapter {
        let files = try Self.adapterFiles(rank: rank, projections: Self.projections, seed: UInt64(rank), on: model)
        return try LoRAAdapter(config: AdapterConfig(jsonData: files.config), weights: SafetensorsFile(data: files.weights), model: model)
    }

    /// PEFT's two files of a random rank-`rank` adapter on `projections` of every layer.
    static func adapterFiles(rank: Int, projections: [String], seed: UInt64, on model: BaseModel) throws -> (config: Data, weights: Data) {
        let config = """
        {"peft_type": "LORA", "r": \(rank), "lora_alpha": \(2 * rank), "target_modules": [\(projections.map { "\"\($0)\"" }.joined(separator: ", "))]}
        """
        var random = SplitMix(seed: seed)
        var tensors: [(String, [Int], [Float])] = []
        for info in model.linearModules where projections.contains(where: { info.name.hasSuffix("." + $0) }) {
            let key = "base_model.model." + info.name
            tensors.append((key + ".lora_A.weight", [rank, info.inFeatures], random.floats(rank * info.inFeatures, scale: 0.02)))
            tensors.append((key + ".lora_B.weight", [info.outFeatures, rank], random.floats(info.outFeatures * rank, scale: 0.02)))
        }
        return (Data(config.utf8), Data(try SafetensorsWriter.serialize(tensors: tensors)))
    }

    /// Multiply-add FLOPs (2 per MAC) of a prefill: projections, attention scores and mixing, LM head.
    func prefillFLOPs(tokens t: Int) -> Int {
        let projections = Self.projections.reduce(0) { let (o, i) = shape($1); return $0 + o * i }
        // (Attention below counts full multi-head K/V; with grouped-query attention it is the same.)
        let attention = 4 * t * t * hidden   // per layer: QKᵀ and P·V, t·t·hidden multiply-adds each
        return 2 * t * (layers * projections + vocabulary * hidden) + layers * attention
    }

    /// Extra FLOPs of an unmerged rank-r adapter on all projections: 2·t·r·(in + out) per module.
    func adapterFLOPs(tokens t: Int, rank r: Int) -> Int {
        layers * Self.projections.reduce(0) { let (o, i) = shape($1); return $0 + 2 * t * r * (i + o) }
    }
}

/// SplitMix64: a fast, seedable generator for benchmark weights.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// `count` values uniform in [-scale, scale).
    mutating func floats(_ count: Int, scale: Float) -> [Float] {
        (0..<count).map { _ in (Float(next() >> 40) / Float(1 << 24) * 2 - 1) * scale }
    }
}
