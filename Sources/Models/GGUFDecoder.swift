// A llama.cpp GGUF file as a Llama-family decoder: its metadata becomes the config.json the model
// would have on the Hugging Face Hub, its tensors take the Hugging Face module names (so PEFT
// adapters trained on the Hub model apply unchanged), and the rows llama.cpp's converter permuted
// are put back.
//
// The permutation: for `llama` models (Llama, Mistral, SmolLM) convert_hf_to_gguf.py reorders the
// rows of each head of q_proj and k_proj from rotate-half order (the first half of a head's
// dimensions, then the second) to interleaved pairs, for its own RoPE. With hd the head dimension,
// row h·hd + i·hd/2 + j of the Hugging Face weight (i ∈ {0, 1}, j < hd/2) is row h·hd + 2j + i of the
// GGUF one. Eckart's RoPE and q/k adapters use Hugging Face's order, so the rows are put back as
// they load. `qwen2` files are not permuted.
import Foundation
import Formats
import LinearAlgebra

enum GGUFDecoder {
    /// Architectures read, as GGUF's `general.architecture` names them, with the Hugging Face class.
    static let architectures = ["llama": ("llama", "LlamaForCausalLM"), "qwen2": ("qwen2", "Qwen2ForCausalLM")]

    /// The config.json equivalent of the file's metadata.
    static func config(_ file: GGUFFile) throws -> ModelConfigFile {
        let architecture = try file.string("general.architecture")
        guard let (modelType, className) = architectures[architecture] else {
            throw ModelError.unsupportedArchitecture("GGUF architecture \(architecture)")
        }
        let a = architecture + "."
        if let scaling = file[a + "rope.scaling.type"]?.string, scaling != "none" {
            throw ModelError.unsupportedRopeScaling("\(scaling) (GGUF \(a)rope.scaling.type)")
        }
        let heads = try file.int(a + "attention.head_count")
        let hidden = try file.int(a + "embedding_length")
        var fields: [String: Any] = [
            "model_type": modelType, "architectures": [className],
            "hidden_size": hidden, "intermediate_size": try file.int(a + "feed_forward_length"),
            "num_hidden_layers": try file.int(a + "block_count"), "num_attention_heads": heads,
            "num_key_value_heads": file[a + "attention.head_count_kv"]?.int ?? heads,
            "rms_norm_eps": try file.double(a + "attention.layer_norm_rms_epsilon"),
            "rope_theta": file[a + "rope.freq_base"]?.double ?? 10_000,
            "max_position_embeddings": try file.int(a + "context_length"),
            "vocab_size": try file[a + "vocab_size"]?.int ?? file.stringArray("tokenizer.ggml.tokens").count,
            "tie_word_embeddings": file.info("output.weight") == nil,
            "hidden_act": "silu",
        ]
        if let keyLength = file[a + "attention.key_length"]?.int { fields["head_dim"] = keyLength }
        if let eos = file["tokenizer.ggml.eos_token_id"]?.int { fields["eos_token_id"] = eos }
        if let bos = file["tokenizer.ggml.bos_token_id"]?.int { fields["bos_token_id"] = bos }
        if modelType == "llama" { fields["attention_bias"] = file.info("blk.0.attn_q.bias") != nil }
        let data = try JSONSerialization.data(withJSONObject: fields)
        return try JSONDecoder().decode(ModelConfigFile.self, from: data)
    }

    /// The file's tensors under Hugging Face names, with llama's q/k rows put back in order.
    static func weights(_ file: GGUFFile, config: DecoderConfig) throws -> WeightSet {
        let architecture = try file.string("general.architecture")
        var ggufName: [String: String] = [
            "model.embed_tokens.weight": "token_embd.weight", "model.norm.weight": "output_norm.weight",
            "lm_head.weight": "output.weight",
        ]
        let perLayer = [
            ("input_layernorm", "attn_norm"), ("self_attn.q_proj", "attn_q"), ("self_attn.k_proj", "attn_k"),
            ("self_attn.v_proj", "attn_v"), ("self_attn.o_proj", "attn_output"), ("post_attention_layernorm", "ffn_norm"),
            ("mlp.gate_proj", "ffn_gate"), ("mlp.up_proj", "ffn_up"), ("mlp.down_proj", "ffn_down"),
        ]
        var rowOrder: [String: [Int]] = [:]
        for layer in 0..<config.layerCount {
            for (hf, gg) in perLayer {
                for suffix in ["weight", "bias"] {
                    let name = "blk.\(layer).\(gg).\(suffix)"
                    if file.info(name) != nil { ggufName["model.layers.\(layer).\(hf).\(suffix)"] = name }
                }
            }
            if architecture == "llama" {
                let q = hfRowOrder(heads: config.headCount, headDim: config.headDim)
                let k = hfRowOrder(heads: config.kvHeadCount, headDim: config.headDim)
                rowOrder["model.layers.\(layer).self_attn.q_proj.weight"] = q
                rowOrder["model.layers.\(layer).self_attn.k_proj.weight"] = k
            }
        }
        ggufName = ggufName.filter { file.info($0.value) != nil }
        return WeightSet(gguf: .init(file: file, ggufName: ggufName, rowOrder: rowOrder))
    }

    /// The GGUF row each Hugging Face row of a permuted q/k weight is at: `hfRow[r] = ggufRow[order[r]]`
    /// with r = h·hd + i·hd/2 + j ↦ h·hd + 2j + i.
    static func hfRowOrder(heads: Int, headDim hd: Int) -> [Int] {
        (0..<heads).flatMap { h in
            (0..<2).flatMap { i in (0..<(hd / 2)).map { j in h * hd + 2 * j + i } }
        }
    }
}

extension BaseModel {
    /// Loads a model from a Hugging Face directory or a `.gguf` file. `quantization` applies to
    /// safetensors weights only: a GGUF file's blocks are used as stored.
    public static func load(path: URL, quantization: QuantizationType? = nil) throws -> BaseModel {
        guard path.pathExtension.lowercased() == "gguf" else { return try load(directory: path, quantization: quantization) }
        guard quantization == nil else {
            throw ModelError.invalidConfig("--quantize applies to safetensors models; \(path.lastPathComponent) is already quantized as GGUF")
        }
        return try load(gguf: path, widenedTo: nil, asStored: true)
    }

    /// A GGUF model with every weight widened to float32 (`type` nil) or re-quantized from those floats
    /// to `type`: the same model in another weight type, for benchmarks.
    public static func load(gguf path: URL, convertingTo type: QuantizationType?) throws -> BaseModel {
        try load(gguf: path, widenedTo: type, asStored: false)
    }

    private static func load(gguf path: URL, widenedTo type: QuantizationType?, asStored: Bool) throws -> BaseModel {
        let file: GGUFFile
        do { file = try GGUFFile(contentsOf: path) } catch let error as GGUFError {
            throw ModelError.invalidGGUF(error.description)
        }
        let config = try DecoderConfig(try GGUFDecoder.config(file))
        let weights = try GGUFDecoder.weights(file, config: config)
        weights.widenGGUF = !asStored
        weights.quantization = type
        return .decoder(try DecoderModel(config: config, weights: weights))
    }
}
