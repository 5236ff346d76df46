// Applying an adapter by building W' = W + s·B·A once, into buffers separate from the base.
import LinearAlgebra
import Models

/// An adapter with its updates folded into copies of the adapted weights: every later forward pass
/// runs at base-model speed. The base model's weights are never written.
///
/// Per module, as PEFT's `merge` computes it:
///
///     W' = W + scale · B·A                                 (LoRA)
///     W' = (m / ‖W + scale · B·A‖_row) ⊙_rows (W + scale · B·A)   (DoRA; bias unchanged)
public struct MergedAdapter: LinearOverlay {
    public let adapter: LoRAAdapter
    let merged: [String: Linear]

    /// Builds the merged weights: one GEMM per adapted module.
    public init(_ adapter: LoRAAdapter, model: BaseModel) {
        self.adapter = adapter
        var merged: [String: Linear] = [:]
        for (module, update) in adapter.updates {
            let base = model.linear(named: module)!
            merged[module] = Linear(weight: update.mergedWeight(onto: base.weight), bias: base.bias)
        }
        self.merged = merged
    }

    public func output(of module: String, base: Linear, input x: Matrix) -> Matrix? {
        merged[module]?(x)
    }

    /// The merged weight of a module, if the adapter changes it.
    public func linear(named module: String) -> Linear? { merged[module] }

    /// Bytes held by the merged copies (weights and shared biases counted once per module).
    public var byteCount: Int {
        merged.values.reduce(0) { $0 + ($1.weight.count + ($1.bias?.count ?? 0)) * MemoryLayout<Float>.size }
    }
}
