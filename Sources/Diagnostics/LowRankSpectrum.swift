// Singular values of a low-rank update ΔW = s·B·A without forming the m×n product.
//
// With thin QR factorisations B = Q_B·R_B (m×r · r×r) and Aᵀ = Q_A·R_A (n×r · r×r):
//
//     ΔW = s · Q_B · (R_B · R_Aᵀ) · Q_Aᵀ
//
// Q_B and Q_A have orthonormal columns, so ΔW has the singular values of the r×r core
// s·R_B·R_Aᵀ. Cost O((m + n)·r² + r³) instead of O(m·n·min(m, n)) for a dense SVD.
import LinearAlgebra

public enum LowRankSpectrum {
    /// Descending singular values of `scale · b · a` for `b` (m × r) and `a` (r × n); r values
    /// (some may be 0 when the factors are rank-deficient or r exceeds min(m, n)).
    public static func singularValues(b: Matrix, a: Matrix, scale: Float) throws -> [Float] {
        precondition(b.cols == a.rows, "B is \(b.shape), A is \(a.shape)")
        let rb = try b.qr().r                 // (min(m, r), r)
        let ra = try a.transposed().qr().r    // (min(n, r), r)
        let core = rb.timesTransposed(ra)     // (min(m, r), min(n, r)) = R_B · R_Aᵀ
        let magnitude = abs(scale)
        return try core.singularValues().map { $0 * magnitude }
    }
}
