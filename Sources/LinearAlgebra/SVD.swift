// Singular value decomposition through LAPACK's divide-and-conquer sgesdd: the one place Eckart
// calls LAPACK for SVD.
import COpenBLAS

/// The thin SVD `A = U · diag(σ) · Vᵀ` of an m×n matrix, k = min(m, n).
///
/// As a loop, the factors reconstruct the matrix:
///
///     for i in 0..<m { for j in 0..<n {
///         var s: Float = 0
///         for p in 0..<k { s += u[i, p] * singularValues[p] * vt[p, j] }
///         // s == a[i, j] up to rounding
///     } }
public struct SingularValueDecomposition: Sendable {
    public let u: Matrix              // (m, k), orthonormal columns
    public let singularValues: [Float] // (k), descending, ≥ 0
    public let vt: Matrix             // (k, n), orthonormal rows
}

extension Matrix {
    /// Singular values only, descending, min(rows, cols) of them (LAPACK `sgesdd` with `jobz = 'N'`,
    /// row-major through LAPACKE). Throws `LAPACKError` when `info ≠ 0`: a negative `info` names a
    /// bad argument (LAPACKE reports a NaN in the input as one), a positive one non-convergence.
    public func singularValues() throws -> [Float] {
        try svd(vectors: false).singularValues
    }

    /// The thin SVD (LAPACK `sgesdd` with `jobz = 'S'`); throws `LAPACKError` like `singularValues()`.
    public func svd() throws -> SingularValueDecomposition {
        try svd(vectors: true)
    }

    private func svd(vectors: Bool) throws -> SingularValueDecomposition {
        let (m, n) = (rows, cols)
        let k = Swift.min(m, n)
        guard k > 0 else {
            return SingularValueDecomposition(u: Matrix(rows: m, cols: 0), singularValues: [], vt: Matrix(rows: 0, cols: n))
        }
        var a = storage   // sgesdd destroys its input
        var s = [Float](repeating: 0, count: k)
        var u = Matrix(rows: vectors ? m : 1, cols: vectors ? k : 1)
        var vt = Matrix(rows: vectors ? k : 1, cols: vectors ? n : 1)
        let info = a.withUnsafeMutableBufferPointer { aPointer in
            s.withUnsafeMutableBufferPointer { sPointer in
                u.storage.withUnsafeMutableBufferPointer { uPointer in
                    vt.storage.withUnsafeMutableBufferPointer { vtPointer in
                        LAPACKE_sgesdd(LAPACK_ROW_MAJOR, CChar(UInt8(ascii: vectors ? "S" : "N")),
                                       Int32(m), Int32(n), aPointer.baseAddress, Int32(n),
                                       sPointer.baseAddress, uPointer.baseAddress, Int32(k),
                                       vtPointer.baseAddress, Int32(n))   // LAPACKE checks ldvt ≥ n even for jobz N
                    }
                }
            }
        }
        guard info == 0 else { throw LAPACKError(routine: "sgesdd", info: Int(info)) }
        return SingularValueDecomposition(u: u, singularValues: s, vt: vt)
    }
}
