// A GGUF written by gguf-py's own GGUFWriter (Tests/Fixtures/gguf/generate_tiny_llama.py), not by
// llama.cpp's converter and not by Eckart's test writer: a complete Llama decoder with projections in
// Q8_0, Q4_0 and Q4_1. It loads; each projection, dequantized and with llama.cpp's q/k row order
// undone, has the rows gguf-py's own dequantizer gives (row sums, permuted the same way); and it
// computes finite logits.
import FixtureSupport
import Foundation
import LinearAlgebra
@testable import Models
import Testing

private let directory = Fixtures.directory.appendingPathComponent("gguf")

@Test func aGGUFWrittenByGGUFPyLoadsWithTheRowsItsDequantizerGives() throws {
    let base = try BaseModel.load(path: directory.appendingPathComponent("tiny-llama.gguf"))
    guard case .decoder(let model) = base else { Issue.record("not a decoder"); return }
    let config = model.config
    #expect(config.layerCount == 1 && config.hiddenSize == 64 && config.headCount == 4 && config.kvHeadCount == 2)
    #expect(config.vocabularySize == 40 && config.tieWordEmbeddings)

    struct Expected: Decodable { let row_sums: [String: [Double]] }
    let expected = try JSONDecoder().decode(Expected.self, from: Data(contentsOf: directory.appendingPathComponent("tiny-llama.json")))
    let projections = [("self_attn.q_proj", "attn_q", "Q4_1"), ("self_attn.k_proj", "attn_k", "Q4_1"), ("self_attn.v_proj", "attn_v", "Q8_0"),
                       ("self_attn.o_proj", "attn_output", "Q4_0"), ("mlp.gate_proj", "ffn_gate", "Q4_1"),
                       ("mlp.up_proj", "ffn_up", "Q4_1"), ("mlp.down_proj", "ffn_down", "Q8_0")]
    for (hf, gguf, type) in projections {
        let linear = try #require(base.linear(named: "model.layers.0.\(hf)"), "\(hf)")
        #expect(linear.quantization?.name == type, "\(hf) is \(linear.quantization?.name ?? "F32")")
        let stored = try #require(expected.row_sums["blk.0.\(gguf).weight"])
        let order: [Int] = switch hf {
        case "self_attn.q_proj": GGUFDecoder.hfRowOrder(heads: config.headCount, headDim: config.headDim)
        case "self_attn.k_proj": GGUFDecoder.hfRowOrder(heads: config.kvHeadCount, headDim: config.headDim)
        default: Array(stored.indices)
        }
        let weight = linear.weight
        #expect(weight.rows == stored.count)
        for r in 0..<weight.rows {
            let sum = (0..<weight.cols).reduce(0.0) { $0 + Double(weight[r, $1]) }
            #expect(abs(sum - stored[order[r]]) < 1e-4, "\(hf) row \(r): \(sum) against gguf-py's \(stored[order[r]])")
        }
    }
    let logits = try model.logits(tokens: [0, 19, 7, 4], overlay: nil)
    #expect(logits.rows == 4 && logits.cols == 40 && logits.storage.allSatisfy(\.isFinite))
}
