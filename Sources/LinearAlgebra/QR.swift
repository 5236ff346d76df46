// Thin QR factorisation through LAPACK's sgeqrf + sorgqr: the one place Eckart calls LAPACK for QR.
import COpenBLAS

/// `A = Q · R` for an m×n matrix, k = min(m, n): Q (m×k) with orthonormal columns, R (k×n) upper
/// triangular (upper trapezoidal when n > m).
///
/// As a loop, with `r[p, j] == 0` for p > j:
///
///     for i in 0..<m { for j in 0..<n {
///         var s: Float = 0
///         for p in 0..<k { s += q[i, p] * r[p, j] }
///         // s == a[i, j] up to rounding, and Σ_i q[i, p] * q[i, p'] == (p == p' ? 1 : 0)
///     } }
public struct QRDecomposition: Sendable {
    public let q: Matrix   // (m, k)
    public let r: Matrix   // (k, n)
}

extension Matrix {
    /// The thin QR factorisation (Householder, LAPACK `sgeqrf`, then `sorgqr` to form Q), row-major
    /// through LAPACKE. Throws `LAPACKError` when either routine returns `info ≠ 0` (LAPACKE reports
    /// a NaN in the input as a bad argument).
    public func qr() throws -> QRDecomposition {
        let (m, n) = (rows, cols)
        let k = Swift.min(m, n)
        guard k > 0 else { return QRDecomposition(q: Matrix(rows: m, cols: 0), r: Matrix(rows: 0, cols: n)) }
        var a = storage
        var tau = [Float](repeating: 0, count: k)
        var info = a.withUnsafeMutableBufferPointer { p in
            tau.withUnsafeMutableBufferPointer { t in
                LAPACKE_sgeqrf(LAPACK_ROW_MAJOR, Int32(m), Int32(n), p.baseAddress, Int32(n), t.baseAddress)
            }
        }
        guard info == 0 else { throw LAPACKError(routine: "sgeqrf", info: Int(info)) }
        // R: the upper triangle of the first k rows.
        var r = Matrix(rows: k, cols: n)
        for i in 0..<k { for j in i..<n { r[i, j] = a[i * n + j] } }
        // Q: sorgqr expands the reflectors held in the first k columns.
        var q = Matrix(rows: m, cols: k)
        for i in 0..<m { for j in 0..<k { q[i, j] = a[i * n + j] } }
        info = q.storage.withUnsafeMutableBufferPointer { p in
            tau.withUnsafeMutableBufferPointer { t in
                LAPACKE_sorgqr(LAPACK_ROW_MAJOR, Int32(m), Int32(k), Int32(k), p.baseAddress, Int32(k), t.baseAddress)
            }
        }
        guard info == 0 else { throw LAPACKError(routine: "sorgqr", info: Int(info)) }
        return QRDecomposition(q: q, r: r)
    }
}
