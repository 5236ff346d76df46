// Eckart reading the real SmolLM2-135M-Instruct GGUF (Q4_1 weights, Q8_0 embedding) directly,
// against transformers reading the same file dequantized to float32 (Tests/Fixtures/smollm2), with
// and without a PEFT LoRA on q/k/v/down_proj, unmerged and merged.
//
// Two paths, two tolerances:
// - more than `QuantizedMatrix.integerProductRowLimit` rows (a prompt with its continuation, teacher
//   forced) run on dequantized tiles in float32: the logits must equal transformers' within
//   `Tolerance.reference`, which proves the tensor names, the undone Q/K permutation, the block
//   decoding and the adapter's placement;
// - a decode step (one row) rounds activations to 8 bits: its distributions must stay within the
//   stated KL of the float path, and its greedy tokens equal transformers' up to near-ties of
//   `Tolerance.int8ActivationNearTie`.
import Adapters
import FixtureSupport
import Foundation
import LinearAlgebra
import Models
import Testing

private func smolLM2() throws -> (BaseModel, DecoderModel) {
    let base = try BaseModel.load(path: SmolLM2.gguf!)
    guard case .decoder(let model) = base else { throw ModelError.unsupportedArchitecture("SmolLM2") }
    return (base, model)
}

private func logSoftmax(_ v: [Float]) -> [Double] {
    let m = Double(v.max()!)
    let s = v.reduce(0.0) { $0 + exp(Double($1) - m) }
    return v.map { Double($0) - m - log(s) }
}

@Suite(.serialized, .enabled(if: SmolLM2.gguf != nil, "needs ECKART_SMOLLM2_GGUF (make test sets it)"))
struct SmolLM2ReferenceTests {
    @Test func floatPathLogitsEqualTransformers() throws {
        let (base, model) = try smolLM2()
        let expected = try SmolLM2.expected()
        let adapter = try LoRAAdapter(directory: Fixtures.adapter("smollm2-lora"), model: base)
        for (index, c) in expected.cases.enumerated() {
            var runs: [(String, (any LinearOverlay)?, SmolLM2.Run)] = [("base", nil, c.base), ("unmerged", UnmergedAdapter(adapter), c.adapter)]
            if index == 0 { runs.append(("merged", MergedAdapter(adapter, model: base), c.adapter)) }
            for (label, overlay, reference) in runs {
                let tokens = c.ids + reference.generated
                #expect(tokens.count > QuantizedMatrix.integerProductRowLimit)
                let logits = try model.logits(tokens: tokens, overlay: overlay).row(c.ids.count - 1)
                let difference = zip(reference.logitIds, reference.logits).map { abs(logits[$0.0] - $0.1) }.max()!
                #expect(difference < Tolerance.reference, "\(label) case \(index): max |Δlogit| \(difference)")
            }
        }
    }

    @Test func decodeStepsStayCloseAndGreedyTokensAgree() throws {
        let (base, model) = try smolLM2()
        let expected = try SmolLM2.expected()
        let adapter = UnmergedAdapter(try LoRAAdapter(directory: Fixtures.adapter("smollm2-lora"), model: base))
        var kls: [Double] = []
        for (index, c) in expected.cases.enumerated() {
            for (label, overlay, reference) in [("base", nil, c.base), ("unmerged", adapter as (any LinearOverlay)?, c.adapter)] {
                // The float path over the prompt and the reference's tokens: row t predicts token t + 1.
                let tokens = c.ids + reference.generated
                let float = try model.logits(tokens: tokens, overlay: overlay)
                // Greedy decode, one cached step at a time (8-bit activations), compared with the float
                // path's rows while it follows the reference.
                var caches = [model.makeCache()]
                var ours: [Int] = []
                var next = c.ids
                for step in 0..<reference.generated.count {
                    let row = try model.forward(step: [.init(tokens: next, overlay: overlay, logits: .last)], caches: &caches)[0].storage
                    if ours == Array(reference.generated.prefix(step)) {
                        let p = logSoftmax(float.row(c.ids.count - 1 + step)), q = logSoftmax(row)
                        kls.append(zip(p, q).reduce(0.0) { $0 + exp($1.0) * ($1.0 - $1.1) })
                    }
                    let token = row.indices.max { row[$0] < row[$1] }!
                    ours.append(token)
                    next = [token]
                }
                let agreement = GreedyAgreement(ours: ours, reference: reference.generated, margins: reference.margins,
                                                nearTie: Tolerance.int8ActivationNearTie)
                #expect(agreement.isAcceptable, "\(label) case \(index): \(agreement)")
            }
        }
        let mean = kls.reduce(0, +) / Double(kls.count)
        #expect(mean < Tolerance.int8ActivationMeanKL && kls.max()! < Tolerance.int8ActivationMaxKL,
                "KL of the 8-bit decode path from the float path: mean \(mean), max \(kls.max()!) over \(kls.count) steps")
    }
}
