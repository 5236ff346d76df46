// Applying an adapter without touching the base weights: y = W·x + b + s·B·(A·x).
import LinearAlgebra
import Models

/// An adapter run unmerged: two thin GEMMs per adapted module over its rows of the batch, about
/// `r·(in + out)` extra multiply-adds per token, and the base weights shared as they are.
///
/// For each adapted module, as a loop over tokens t:
///
///     y[t] = W·x[t] + bias + scale · B·(A·x[t])                       (LoRA)
///     y[t] = rowScale ⊙ (W·x[t] + scale · B·(A·x[t])) + bias          (DoRA, rowScale = m / ‖W + s·BA‖_row)
///
/// (`Linear.callAsFunction(_:module:segments:)` computes it for every adapter of a batch at once.)
public struct UnmergedAdapter: LinearOverlay {
    public let adapter: LoRAAdapter
    /// The change to each of the model's linear modules, by index: nil where the adapter does not apply.
    private let changes: [ModuleChange?]
    /// Stacked A factors per group of modules sharing an input, by the group's first module index.
    private let shrinks: [Int: SharedShrink]

    /// `adapter` with its deltas multiplied by `weight` (a request's per-adapter scale; 1 as trained).
    public init(_ adapter: LoRAAdapter, weight: Float = 1) {
        self.adapter = adapter
        var changes = [ModuleChange?](repeating: nil, count: adapter.modelModuleCount)
        for (name, index) in zip(adapter.moduleNames, adapter.moduleIndices) {
            changes[index] = .delta([adapter.updates[name]!.delta(weight: weight)])
        }
        self.changes = changes
        self.weight = weight
        var shrinks: [Int: SharedShrink] = [:]
        for group in adapter.inputGroups {
            shrinks[group[0]] = SharedShrink(group.map { index in
                (index, adapter.updates[adapter.moduleNames[adapter.moduleIndices.firstIndex(of: index)!]]!.delta(weight: weight))
            })
        }
        self.shrinks = shrinks
    }

    /// The stacked shrink for `modules` when this adapter has several of them (as grouped at load).
    public func sharedShrink(forModules modules: [Int]) -> SharedShrink? {
        guard let first = modules.first(where: { changes[$0] != nil }), let shrink = shrinks[first],
              shrink.parts.allSatisfy({ modules.contains($0.module) }) else { return nil }
        return shrink
    }

    /// The request's multiplier on `scale`.
    public let weight: Float

    public func change(ofModule index: Int) -> ModuleChange? { changes[index] }

    public var batchKey: AnyHashable { AnyHashable(UnmergedKey(adapter: ObjectIdentifier(adapter), weight: weight)) }
}

private struct UnmergedKey: Hashable {
    let adapter: ObjectIdentifier
    let weight: Float
}

extension LoRAUpdate {
    /// The update as the forward pass applies it unmerged, its scale multiplied by `weight`.
    public func delta(weight: Float = 1) -> LowRankDelta {
        LowRankDelta(a: a, b: b, scale: scale * weight, rowScale: doraRowScale)
    }
}
