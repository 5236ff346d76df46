// Truncating LoRA updates to lower rank without forming ΔW (Eckart–Young through the factors).
//
// With thin QRs B = Q_B·R_B and Aᵀ = Q_A·R_A (see LowRankSpectrum), s·B·A = Q_B·(s·R_B·R_Aᵀ)·Q_Aᵀ.
// An SVD of the small core s·R_B·R_Aᵀ = U·Σ·Vᵀ gives the SVD of s·B·A, so its best rank-k
// approximation is Q_B·U_k·Σ_k·V_kᵀ·Q_Aᵀ. Written as PEFT stores it, s'·B'·A' with the new
// module's scale s' (alpha/k, or alpha/√k with rsLoRA), and Σ split evenly between the factors:
//
//     B' = sign(s') · Q_B · U_k · diag(sqrt(σ_k / |s'|))     (out, k)
//     A' = diag(sqrt(σ_k / |s'|)) · V_kᵀ · Q_Aᵀ              (k, in)
//
// Cost per module: two QRs O((out + in)·r²), an r×r SVD, and two thin products O((out + in)·r·k).
// ΔW itself (out × in) is never formed; DoRA's row norms are the exception, because they are norms
// of the merged weight W + s'·B'·A' and need it row by row (as peft's get_weight_norm does).
//
// Rank 0: a module keeps rank ≥ 1 on the wire and gets B' = 0 (an exactly zero update). Dropping it
// from target_modules instead would mean rewriting regex / all-linear / layers_to_transform targets
// per module, which cannot be done reliably; a zero B is also how peft itself initialises LoRA.
import Adapters
import Formats
import LinearAlgebra
import Models

/// The best rank-k factors of one update, in PEFT's form `scale · b · a`.
public struct TruncatedUpdate: Sendable {
    /// The rank written to disk (≥ 1: see the file header on rank 0).
    public var storedRank: Int { a.rows }
    /// The rank actually kept (0 when the module was truncated away).
    public let keptRank: Int
    public let a: Matrix        // (storedRank, in)
    public let b: Matrix        // (out, storedRank)
    public let scale: Float     // s' for storedRank
}

public enum AdapterTruncation {
    /// The scale PEFT gives a module of rank `rank` with `alpha` (alpha / r or alpha / √r, computed in
    /// Double and rounded to Float exactly as `AdapterConfig.scale(forModule:)` does).
    public static func scale(alpha: Double, rank: Int, rsLoRA: Bool) -> Float {
        let r = Double(rank)
        return Float(rsLoRA ? alpha / r.squareRoot() : alpha / r)
    }

    /// The best rank-`k` approximation of `update.scale · B · A`, expressed with the scale a module of
    /// rank max(k, 1) gets from `alpha`. `k` above the update's rank keeps the update exact at its rank.
    ///
    /// The slow reference the tests compare against: form s·B·A densely, take its SVD U·Σ·Vᵀ and
    /// keep U_k·Σ_k·V_kᵀ; then `scale · b · a` equals that matrix up to rounding.
    public static func truncate(_ update: LoRAUpdate, rank k: Int, alpha: Double, rsLoRA: Bool) throws -> TruncatedUpdate {
        precondition(k >= 0, "rank must be ≥ 0")
        let (out, inFeatures, r) = (update.b.rows, update.a.cols, update.rank)
        let kept = min(k, r)
        let stored = max(kept, 1)
        let newScale = scale(alpha: alpha, rank: stored, rsLoRA: rsLoRA)
        var a = Matrix(rows: stored, cols: inFeatures)   // (k, in)
        var b = Matrix(rows: out, cols: stored)          // (out, k)
        guard kept > 0, newScale != 0, r > 0, out > 0, inFeatures > 0 else {
            return TruncatedUpdate(keptRank: kept, a: a, b: b, scale: newScale)
        }
        let qrB = try update.b.qr()                 // Q_B (out, kB), R_B (kB, r)
        let qrA = try update.a.transposed().qr()    // Q_A (in, kA),  R_A (kA, r)
        var core = qrB.r.timesTransposed(qrA.r)     // (kB, kA) = R_B · R_Aᵀ
        for i in core.storage.indices { core.storage[i] *= update.scale }
        let svd = try core.svd()                    // U (kB, c), σ (c), Vᵀ (c, kA)
        let c = svd.singularValues.count
        // Left and right halves of Σ_k / |s'|; columns beyond c (a module whose rank exceeds
        // min(out, in)) stay zero: those singular values are zero.
        var left = Matrix(rows: svd.u.rows, cols: stored)   // (kB, k) = U_k · diag(√(σ/|s'|)) · sign(s')
        var right = Matrix(rows: stored, cols: svd.vt.cols) // (k, kA) = diag(√(σ/|s'|)) · V_kᵀ
        let sign: Float = newScale < 0 ? -1 : 1
        for p in 0..<min(kept, c) {
            let root = (svd.singularValues[p] / abs(newScale)).squareRoot()
            for i in 0..<left.rows { left[i, p] = sign * root * svd.u[i, p] }
            for j in 0..<right.cols { right[p, j] = root * svd.vt[p, j] }
        }
        b = qrB.q.times(left)                // (out, k)
        a = right.timesTransposed(qrA.q)     // (k, in)
        return TruncatedUpdate(keptRank: kept, a: a, b: b, scale: newScale)
    }

    /// DoRA's magnitude vector m, recovered from the loaded row scale: m = rowScale ⊙ ‖W + s·B·A‖_row.
    /// (The loader keeps m / ‖W + s·BA‖_row; m itself is what the adapter stores.)
    public static func doraMagnitude(of update: LoRAUpdate, base: Matrix) -> [Float]? {
        guard let rowScale = update.doraRowScale else { return nil }
        return zip(rowScale, update.added(to: base).rowNorms()).map { $0 * $1 }
    }

    /// `adapter` with every module truncated to `ranks[module]` (modules not listed keep their rank),
    /// DoRA row scales recomputed as m / ‖W + s'·B'·A'‖_row. The result keeps `adapter.config` (which
    /// only supplies `useDoRA` and targets here): each update carries its own rank and scale.
    public static func truncated(_ adapter: LoRAAdapter, ranks: [String: Int], model: BaseModel) throws -> LoRAAdapter {
        var updates: [String: LoRAUpdate] = [:]
        for name in adapter.moduleNames {
            let update = adapter.updates[name]!
            let k = ranks[name] ?? update.rank
            let t = try truncate(update, rank: k, alpha: adapter.config.alpha(forModule: name), rsLoRA: adapter.config.useRSLoRA)
            var rowScale: [Float]? = nil
            if update.doraRowScale != nil {
                guard let base = model.linear(named: name)?.weight else { throw DiagnosticsError.missingBaseWeight(module: name) }
                let magnitude = doraMagnitude(of: update, base: base)!
                let norms = LoRAUpdate(a: t.a, b: t.b, scale: t.scale, doraRowScale: nil).added(to: base).rowNorms()
                rowScale = zip(magnitude, norms).map { $0 / $1 }
            }
            updates[name] = LoRAUpdate(a: t.a, b: t.b, scale: t.scale, doraRowScale: rowScale)
        }
        return LoRAAdapter(config: adapter.config, updates: updates, moduleNames: adapter.moduleNames,
                           moduleIndices: adapter.moduleIndices, modelModuleCount: adapter.modelModuleCount,
                           inputGroups: adapter.inputGroups)
    }
}
