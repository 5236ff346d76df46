// A config (or GGUF header) claiming an absurd layer count is refused by name before anything is
// sized from it; FuzzGGUF found a header whose block_count made the per-layer table 64 GB.
import Foundation
import Formats
import Models
import Testing

@Test func absurdLayerCountIsRefused() throws {
    func config(layers: Int) throws -> ModelConfigFile {
        try JSONDecoder().decode(ModelConfigFile.self, from: Data("""
        {"model_type": "llama", "architectures": ["LlamaForCausalLM"], "vocab_size": 32, "hidden_size": 8,
         "intermediate_size": 16, "num_hidden_layers": \(layers), "num_attention_heads": 2, "num_key_value_heads": 1}
        """.utf8))
    }
    #expect(try DecoderConfig(config(layers: DecoderConfig.maxLayers)).layerCount == DecoderConfig.maxLayers)
    #expect {
        try DecoderConfig(config(layers: 7_000_000_000))
    } throws: { error in
        "\(error)".contains("num_hidden_layers 7000000000")
    }
}
