// Applying an adapter without touching the base weights: y = W·x + b + s·B·(A·x).
import LinearAlgebra
import Models

/// An adapter run unmerged: two thin GEMMs per adapted module over the whole token batch, about
/// `r·(in + out)` extra multiply-adds per token, and the base weights shared as they are.
///
/// For each adapted module, as a loop over tokens t:
///
///     y[t] = W·x[t] + bias + scale · B·(A·x[t])                       (LoRA)
///     y[t] = rowScale ⊙ (W·x[t] + scale · B·(A·x[t])) + bias          (DoRA, rowScale = m / ‖W + s·BA‖_row)
public struct UnmergedAdapter: LinearOverlay {
    public let adapter: LoRAAdapter

    public init(_ adapter: LoRAAdapter) {
        self.adapter = adapter
    }

    public func output(of module: String, base: Linear, input x: Matrix) -> Matrix? {
        guard let update = adapter.updates[module] else { return nil }
        // y = x·Wᵀ (tokens × out)
        var y = x.timesTransposed(base.weight)
        // t = x·Aᵀ (tokens × r); y += scale · t·Bᵀ
        let t = x.timesTransposed(update.a)
        t.accumulateTimesTransposed(update.b, into: &y, alpha: update.scale, beta: 1)
        if let rowScale = update.doraRowScale { y.scaleColumns(by: rowScale) }
        if let bias = base.bias { y.addRowVector(bias) }
        return y
    }
}
