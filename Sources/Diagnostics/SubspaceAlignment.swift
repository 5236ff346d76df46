// How an adapter's update sits relative to the base weight's singular subspaces, per module.
//
// Subspace overlap (cf. Hu et al. 2021, LoRA §7.3, which compares ΔW's subspace with W's top
// directions): with U_W,K the top-K left singular vectors of W (m × K) and U_Δ the left singular
// vectors of ΔW with non-zero σ (m × r),
//
//     left overlap  = ‖U_W,Kᵀ · U_Δ‖²_F / r   ∈ [0, 1]
//
// the share of ΔW's left singular subspace that lies in W's top-K left subspace (1: inside it,
// 0: orthogonal to it; a random r-dimensional subspace scores K/m on average, reported as the
// baseline). The right overlap is the same with V (n × ·) and baseline K/n. K defaults to the
// module's adapter rank.
//
// Intruder dimensions (Shuttleworth et al. 2024, "LoRA vs Full Fine-tuning: An Illusion of
// Equivalence"): the top-10 left singular vectors uᵢ of the fine-tuned weight W' = W + ΔW (for DoRA
// W' = diag(m/‖W + s·BA‖)·(W + s·BA)) whose best cosine similarity with any left singular vector of W,
// maxⱼ |uᵢᵀ·u_W,j|, is below 0.5.
//
// Nothing m × n beyond W is formed: ΔW's singular vectors come from the QR route
// (LowRankSpectrum.factorization) and W′'s top vectors from block Krylov iteration on the products
// W·X + U_Δ·Σ·(V_Δᵀ·X) and its transpose.
import Adapters
import LinearAlgebra

/// One module's alignment between its update and the base weight.
public struct ModuleAlignment: Sendable {
    public let name: String
    public let shape: [Int]   // [out, in]
    /// K: how many of W's top singular vectors span the reference subspace.
    public let top: Int
    /// r: the update's numerical rank (its non-zero singular values).
    public let updateRank: Int
    /// ‖U_W,Kᵀ U_Δ‖²_F / r (0 for an all-zero update).
    public let leftOverlap: Double
    /// ‖V_W,Kᵀ V_Δ‖²_F / r (0 for an all-zero update).
    public let rightOverlap: Double
    /// Expected overlaps of a random r-dimensional subspace: K/m and K/n.
    public let randomLeftOverlap: Double
    public let randomRightOverlap: Double
    /// For each of the top-10 left singular vectors of W′, its best |cosine| with a left singular vector of W.
    public let intruderCosines: [Double]
    /// How many of `intruderCosines` are below `SubspaceAlignment.intruderThreshold`.
    public var intruderDimensions: Int { intruderCosines.filter { $0 < SubspaceAlignment.intruderThreshold }.count }
    /// σ of W′'s top vectors, and how the Krylov iteration ended (basis columns, relative residual).
    public let fineTunedSingularValues: [Float]
    public let krylovBasis: Int
    public let krylovResidual: Float
}

public enum SubspaceAlignment {
    /// Top left singular vectors of W′ examined for intruders.
    public static let intruderCount = 10
    /// Best-cosine threshold below which a direction is an intruder.
    public static let intruderThreshold = 0.5

    /// The alignment of `update` with the base weight `w`, whose full thin SVD is `base`.
    /// - Parameter top: K (default: the update's adapter rank), capped at min(m, n).
    public static func module(name: String, weight w: Matrix, base: SingularValueDecomposition,
                              update: LoRAUpdate, top: Int? = nil) throws -> ModuleAlignment {
        let (m, n) = (w.rows, w.cols)
        precondition([update.b.rows, update.a.cols] == w.shape, "update of \(name) does not match W \(w.shape)")
        let k = min(top ?? update.rank, min(m, n))
        let delta = try LowRankSpectrum.factorization(b: update.b, a: update.a, scale: update.scale)
        let r = delta.numericalRank
        let uDelta = firstColumns(delta.u, r), vDelta = firstColumns(delta.v, r)   // (m, r), (n, r)

        // Overlaps: ‖U_W,Kᵀ U_Δ‖²_F / r and ‖V_W,Kᵀ V_Δ‖²_F / r.
        func share(_ product: Matrix) -> Double { r > 0 ? product.storage.reduce(0.0) { $0 + Double($1) * Double($1) } / Double(r) : 0 }
        let left = share(firstColumns(base.u, k).transposedTimes(uDelta))    // (K, r)
        let right = share(base.vt.rows(0..<k).times(vDelta))                  // (K, r)

        // Top singular vectors of W′ = diag(rowScale)·(W + U_Δ Σ V_Δᵀ) by block Krylov.
        let sigma = Array(delta.singularValues.prefix(r))
        let rowScale = update.doraRowScale
        let fineTuned = MatrixOperator(rows: m, cols: n, apply: { x in
            var y = w.times(x)                                       // W·X (m, b)
            var core = vDelta.transposedTimes(x)                     // V_Δᵀ·X (r, b)
            core.scaleRows(by: sigma)
            uDelta.accumulateTimes(core, into: &y)                   // + U_Δ Σ V_Δᵀ X
            if let rowScale { y.scaleRows(by: rowScale) }
            return y
        }, applyTransposed: { y in
            var scaled = y
            if let rowScale { scaled.scaleRows(by: rowScale) }
            var x = w.transposedTimes(scaled)                        // Wᵀ·Y (n, b)
            var core = uDelta.transposedTimes(scaled)                // U_Δᵀ·Y (r, b)
            core.scaleRows(by: sigma)
            vDelta.accumulateTimes(core, into: &x)                   // + V_Δ Σ U_Δᵀ Y
            return x
        })
        let triplets = try BlockKrylov.topSingularTriplets(of: fineTuned, count: intruderCount)
        let cosines = bestCosines(of: triplets.u, against: base.u)

        return ModuleAlignment(
            name: name, shape: [m, n], top: k, updateRank: r, leftOverlap: left, rightOverlap: right,
            randomLeftOverlap: Double(k) / Double(m), randomRightOverlap: Double(k) / Double(n),
            intruderCosines: cosines, fineTunedSingularValues: triplets.singularValues,
            krylovBasis: triplets.basisSize, krylovResidual: triplets.relativeResidual)
    }

    /// For each column uᵢ of `vectors`, maxⱼ |uᵢᵀ·bⱼ| over the columns bⱼ of `basis` (unit vectors).
    public static func bestCosines(of vectors: Matrix, against basis: Matrix) -> [Double] {
        let cosines = basis.transposedTimes(vectors)   // (basis cols, vectors cols)
        return (0..<vectors.cols).map { i in
            (0..<cosines.rows).reduce(0.0) { max($0, Double(abs(cosines[$1, i]))) }
        }
    }
}
