import Adapters
import FixtureSupport
import Foundation
import LinearAlgebra
import Models
import Testing

@Test(.enabled(if: SmolLM2.gguf != nil, "needs ECKART_SMOLLM2_GGUF"))
func probeDecodeError() throws {
    let base = try BaseModel.load(path: SmolLM2.gguf!)
    guard case .decoder(let model) = base else { return }
    let expected = try SmolLM2.expected()
    for c in expected.cases {
        let tokens = c.ids + c.base.generated
        let full = try model.logits(tokens: tokens)
        var caches = [model.makeCache()]
        var worst: Float = 0, scale: Float = 0
        // prompt as one step (≤16 rows uses int8), then one token at a time
        for (t, token) in tokens.enumerated() {
            let row = try model.forward(step: [.init(tokens: [token], overlay: nil, logits: .last)], caches: &caches)[0]
            let ref = full.row(t)
            worst = max(worst, zip(row.storage, ref).map { abs($0 - $1) }.max()!)
            scale = max(scale, ref.map(abs).max()!)
        }
        print("decode vs full: max |Δ| \(worst), max |logit| \(scale)")
    }
}
