// Composed adapters are the sum of their scaled deltas: checked against merging W + Σ w·s·B·A by
// hand, and DoRA is refused in a composition.
import Adapters
import FixtureSupport
import LinearAlgebra
import Models
import Testing

/// Every module replaced by `W + Σ weight · scale · B·A` over the given adapters.
private struct HandMerged: LinearOverlay {
    let layers: [Linear?]
    init(_ parts: [(LoRAAdapter, Float)], model: BaseModel) {
        var layers = [Linear?](repeating: nil, count: model.linearModules.count)
        for (index, info) in model.linearModules.enumerated() {
            var weight = model.linear(named: info.name)!.weight
            var touched = false
            for (adapter, w) in parts {
                guard let u = adapter.updates[info.name] else { continue }
                weight = LoRAUpdate(a: u.a, b: u.b, scale: u.scale * w, doraRowScale: nil).added(to: weight)
                touched = true
            }
            if touched { layers[index] = Linear(weight: weight, bias: model.linear(named: info.name)!.bias) }
        }
        self.layers = layers
    }
    func change(ofModule index: Int) -> ModuleChange? { layers[index].map { .replaced($0) } }
    var batchKey: AnyHashable { AnyHashable("hand-merged") }
}

@Test func composedAdaptersAreTheSumOfTheirScaledDeltas() throws {
    let base = try BaseModel.load(directory: Fixtures.model("qwen2-tiny"))
    guard case .decoder(let model) = base else { throw ModelError.unsupportedArchitecture("qwen2-tiny") }
    let lora = try LoRAAdapter(directory: Fixtures.adapter("qwen2-lora"), model: base)
    let layers = try LoRAAdapter(directory: Fixtures.adapter("qwen2-layers"), model: base)
    let tokens = [4, 40, 140, 240, 14]
    let composed = try ComposedAdapter([("lora", lora, 0.5), ("layers", layers, -1.5)])
    let expected = try model.logits(tokens: tokens, overlay: HandMerged([(lora, 0.5), (layers, -1.5)], model: base))
    let got = try model.logits(tokens: tokens, overlay: composed)
    #expect(got.maxAbsDifference(expected) < Tolerance.samePath, "\(got.maxAbsDifference(expected))")
    // One adapter at weight 1 is the adapter itself.
    let alone = try model.logits(tokens: tokens, overlay: UnmergedAdapter(lora))
    #expect(try model.logits(tokens: tokens, overlay: ComposedAdapter([("lora", lora, 1)])).maxAbsDifference(alone) < Tolerance.samePath)
}

@Test func doraCannotBeComposed() throws {
    let base = try BaseModel.load(directory: Fixtures.model("qwen2-tiny"))
    let lora = try LoRAAdapter(directory: Fixtures.adapter("qwen2-lora"), model: base)
    let dora = try LoRAAdapter(directory: Fixtures.adapter("qwen2-dora"), model: base)
    #expect(throws: ComposedAdapter.CompositionError.dora("d")) { try ComposedAdapter([("l", lora, 1), ("d", dora, 1)]) }
    #expect(throws: ComposedAdapter.CompositionError.empty) { try ComposedAdapter([]) }
}
