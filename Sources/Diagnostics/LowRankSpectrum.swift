// Singular values of a low-rank update ΔW = s·B·A without forming the m×n product.
//
// With thin QR factorisations B = Q_B·R_B and Aᵀ = Q_A·R_A:
//
//     ΔW = s · B · A = s · Q_B · R_B · (Q_A · R_A)ᵀ = s · Q_B · (R_B · R_Aᵀ) · Q_Aᵀ
//
// Q_B and Q_A have orthonormal columns, so for any SVD of the small core
// R_B·R_Aᵀ = U_c·Σ·V_cᵀ, ΔW = (Q_B·U_c) · (|s|·Σ) · (sign(s)·Q_A·V_c)ᵀ is an SVD of ΔW: the two
// outer factors again have orthonormal columns. Hence σ(ΔW) = |s| · σ(R_B·R_Aᵀ).
//
// Shapes, with k_B = min(m, r) and k_A = min(n, r):
//     Q_B (m, k_B)   R_B (k_B, r)   Q_A (n, k_A)   R_A (k_A, r)   core (k_B, k_A)
// When r ≤ min(m, n) the core is r×r. When r exceeds m or n (a tiny module with a large rank)
// R_B or R_A is upper trapezoidal, the core is smaller, and ΔW has at most min(m, n) non-zero
// singular values; the rest of the r values returned are zero.
//
// Cost: two Householder QRs, O(m·r² + n·r²), one r×r×r product and an r×r SVD, O(r³), against
// O(m·n·min(m, n)) for a dense SVD of the formed product.
import LinearAlgebra

public enum LowRankSpectrum {
    /// Descending singular values of `scale · b · a` for `b` (m × r) and `a` (r × n), always r of
    /// them: zeros pad the tail when the factors are rank-deficient or r exceeds min(m, n).
    ///
    /// Semantically the same as the slow reference (what the tests compare against):
    ///
    ///     var w = Matrix(rows: m, cols: n)           // (m, n)
    ///     for i in 0..<m { for j in 0..<n { for p in 0..<r { w[i, j] += scale * b[i, p] * a[p, j] } } }
    ///     σ = w.singularValues() padded with zeros to length r
    ///
    /// Throws `LAPACKError` if a QR or the core SVD fails.
    public static func singularValues(b: Matrix, a: Matrix, scale: Float) throws -> [Float] {
        precondition(b.cols == a.rows, "B is \(b.shape), A is \(a.shape): inner ranks differ")
        let r = b.cols
        guard r > 0, b.rows > 0, a.cols > 0 else { return [Float](repeating: 0, count: r) }
        let rb = try b.qr().r                 // (min(m, r), r)
        let ra = try a.transposed().qr().r    // (min(n, r), r)
        let core = rb.timesTransposed(ra)     // (min(m, r), min(n, r)) = R_B · R_Aᵀ
        let magnitude = abs(scale)
        let sigma = try core.singularValues().map { $0 * magnitude }   // min(m, n, r), descending
        return sigma + [Float](repeating: 0, count: r - sigma.count)
    }

    /// The same singular values from a dense SVD of the explicitly formed `scale · b · a` (m × n),
    /// padded with zeros to length r. O(m·n·min(m, n)): the reference for tests and benchmarks.
    public static func denseSingularValues(b: Matrix, a: Matrix, scale: Float) throws -> [Float] {
        precondition(b.cols == a.rows, "B is \(b.shape), A is \(a.shape): inner ranks differ")
        let r = b.cols
        var product = Matrix(rows: b.rows, cols: a.cols)   // (m, n)
        if r > 0, b.rows > 0, a.cols > 0 { b.accumulateTimes(a, into: &product, alpha: scale, beta: 0) }
        let sigma = Array(try product.singularValues().prefix(r))
        return sigma + [Float](repeating: 0, count: r - sigma.count)
    }
}

/// A thin SVD of a low-rank update, `ΔW = u · diag(singularValues) · vᵀ`, from its factors.
public struct LowRankFactorization: Sendable {
    public let u: Matrix                // (m, k), orthonormal columns: ΔW's left singular vectors
    public let singularValues: [Float]  // (k), descending, ≥ 0
    public let v: Matrix                // (n, k), orthonormal columns: ΔW's right singular vectors

    /// The singular vectors whose singular value is numerically non-zero: σᵢ > max(m, n) · ε · σ₁
    /// (LAPACK's usual numerical-rank cut-off). 0 for an all-zero update.
    public var numericalRank: Int {
        guard let top = singularValues.first, top > 0 else { return 0 }
        let cutoff = Float(max(u.rows, v.rows)) * Float.ulpOfOne * top
        return singularValues.prefix { $0 > cutoff }.count
    }
}

extension LowRankSpectrum {
    /// The singular vectors as well as the values of `scale · b · a`, through the QR route above:
    /// U_Δ = Q_B·U_c and V_Δ = sign(s)·Q_A·V_c for the core SVD R_B·R_Aᵀ = U_c·Σ·V_cᵀ. k = min(m, n, r)
    /// columns (the core's). O(m·r² + n·r² + r³); ΔW is never formed.
    public static func factorization(b: Matrix, a: Matrix, scale: Float) throws -> LowRankFactorization {
        precondition(b.cols == a.rows, "B is \(b.shape), A is \(a.shape): inner ranks differ")
        let (m, n, r) = (b.rows, a.cols, b.cols)
        guard r > 0, m > 0, n > 0 else {
            return LowRankFactorization(u: Matrix(rows: m, cols: 0), singularValues: [], v: Matrix(rows: n, cols: 0))
        }
        let qrB = try b.qr()                    // Q_B (m, k_B), R_B (k_B, r)
        let qrA = try a.transposed().qr()       // Q_A (n, k_A), R_A (k_A, r)
        let core = try qrB.r.timesTransposed(qrA.r).svd()   // R_B·R_Aᵀ (k_B, k_A) = U_c Σ V_cᵀ
        let u = qrB.q.times(core.u)             // (m, k)
        var v = qrA.q.timesTransposed(core.vt)  // (n, k) = Q_A · V_c
        if scale < 0 { v.storage = v.storage.map { -$0 } }
        let magnitude = abs(scale)
        return LowRankFactorization(u: u, singularValues: core.singularValues.map { $0 * magnitude }, v: v)
    }
}
