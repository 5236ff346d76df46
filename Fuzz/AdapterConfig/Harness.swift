// Reads the input as adapter_config.json, then resolves its targets, ranks and scales over a fixed
// two-layer Llama-shaped module list.
import Foundation
import Formats

let projections = ["self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj",
                   "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj"]
let linearModules = (0..<2).flatMap { layer in projections.map { "model.layers.\(layer).\($0)" } } + ["lm_head"]
let otherModules = ["model.embed_tokens", "model.norm"] + (0..<2).flatMap { layer in
    ["model.layers.\(layer)", "model.layers.\(layer).self_attn", "model.layers.\(layer).mlp",
     "model.layers.\(layer).input_layernorm", "model.layers.\(layer).post_attention_layernorm"]
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Data(UnsafeBufferPointer(start: data, count: size))
    guard let config = try? AdapterConfig(jsonData: bytes) else { return 0 }
    guard let targeted = try? config.targetedModules(
        among: linearModules, outputLayer: "lm_head", otherModules: otherModules, modelType: "llama")
    else { return 0 }
    for module in targeted {
        _ = config.rank(forModule: module)
        _ = config.scale(forModule: module)
    }
    return 0
}
