// Eckart reading the real SmolLM2-135M-Instruct GGUF (Q4_1 weights, Q8_0 embedding) directly,
// against transformers reading the same file dequantized to float32 (Tests/Fixtures/smollm2), with
// and without a PEFT LoRA on q/k/v/down_proj, unmerged and merged.
import Adapters
import FixtureSupport
import Foundation
import LinearAlgebra
import Models
import Testing

private func loadSmolLM2() throws -> (BaseModel, DecoderModel) {
    let base = try BaseModel.load(path: SmolLM2.gguf!)
    guard case .decoder(let model) = base else { throw ModelError.unsupportedArchitecture("SmolLM2") }
    return (base, model)
}

/// Greedy decoding of `count` tokens after `prompt`, one cached step at a time.
private func greedy(_ model: DecoderModel, prompt: [Int], count: Int, overlay: (any LinearOverlay)?) throws -> [Int] {
    var caches = [model.makeCache()]
    var next = prompt
    var out: [Int] = []
    for _ in 0..<count {
        let row = try model.forward(step: [.init(tokens: next, overlay: overlay, logits: .last)], caches: &caches)[0]
        let token = row.storage.indices.max { row.storage[$0] < row.storage[$1] }!
        out.append(token)
        next = [token]
    }
    return out
}

@Test(.enabled(if: SmolLM2.gguf != nil, "needs ECKART_SMOLLM2_GGUF"))
func smolLM2FromGGUFMatchesTransformers() throws {
    let (base, model) = try loadSmolLM2()
    let expected = try SmolLM2.expected()
    let adapter = try LoRAAdapter(directory: Fixtures.adapter("smollm2-lora"), model: base)
    let overlays: [(String, (any LinearOverlay)?, KeyPath<SmolLM2.Case, SmolLM2.Run>)] = [
        ("base", nil, \.base), ("unmerged", UnmergedAdapter(adapter), \.adapter), ("merged", MergedAdapter(adapter, model: base), \.adapter),
    ]
    for c in expected.cases {
        for (label, overlay, run) in overlays {
            let reference = c[keyPath: run]
            // Teacher-forced: the prompt and the reference's tokens in one pass; row t predicts token t.
            let all = try model.logits(tokens: c.ids + reference.generated, overlay: overlay)
            let last = all.row(c.ids.count - 1)
            let difference = zip(reference.logitIds, reference.logits).map { abs(last[$0.0] - $0.1) }.max()!
            let margins = GreedyAgreement.margins(logitRows: (0..<reference.generated.count).map { all.row(c.ids.count - 1 + $0) },
                                                  chosen: reference.generated)
            let ours = try greedy(model, prompt: c.ids, count: reference.generated.count, overlay: overlay)
            let agreement = GreedyAgreement(ours: ours, reference: reference.generated, margins: margins, nearTie: 0.1)
            print("\(label) \(c.prompt.prefix(24).debugDescription) (\(c.ids.count) tokens): max |Δlogit| \(difference); greedy \(agreement)")
        }
    }
}
