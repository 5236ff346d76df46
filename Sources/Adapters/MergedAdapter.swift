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
    /// The merged layer of each of the model's linear modules, by index: nil where the adapter does not apply.
    private let merged: [Linear?]

    /// Builds the merged weights: one GEMM per adapted module.
    public init(_ adapter: LoRAAdapter, model: BaseModel) {
        self.adapter = adapter
        var merged = [Linear?](repeating: nil, count: adapter.modelModuleCount)
        for (module, index) in zip(adapter.moduleNames, adapter.moduleIndices) {
            let base = model.linear(named: module)!
            merged[index] = Linear(weight: adapter.updates[module]!.mergedWeight(onto: base.weight), bias: base.bias)
        }
        self.merged = merged
    }

    public func change(ofModule index: Int) -> ModuleChange? { merged[index].map { .replaced($0) } }

    public var batchKey: AnyHashable { AnyHashable(MergedKey(adapter: ObjectIdentifier(adapter))) }

    /// The merged weight of a module, if the adapter changes it.
    public func linear(named module: String) -> Linear? {
        adapter.moduleNames.firstIndex(of: module).flatMap { merged[adapter.moduleIndices[$0]] }
    }

    /// Bytes held by the merged copies (weights and shared biases counted once per module).
    public var byteCount: Int {
        merged.reduce(0) { $0 + ($1.map { $0.stored.byteCount + ($0.bias?.count ?? 0) * MemoryLayout<Float>.size } ?? 0) }
    }
}

private struct MergedKey: Hashable {
    let adapter: ObjectIdentifier
}
