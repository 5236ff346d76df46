// General matrix multiply: the only place Eckart calls BLAS, and where a few rows times a
// PyTorch-layout weight go to Eckart's own kernel instead (CKernels).
import CKernels
import COpenBLAS

/// Whether a GEMM operand is used as stored or transposed.
public enum Transpose: Sendable {
    case none, transpose

    var cblas: CBLAS_TRANSPOSE { self == .none ? CblasNoTrans : CblasTrans }
}

/// `C = alpha · op(A) · op(B) + beta · C` on raw row-major storage, via OpenBLAS `sgemm`.
///
/// As a loop, with `op(A)` m×k and `op(B)` k×n:
///
///     for i in 0..<m { for j in 0..<n {
///         var s: Float = 0
///         for p in 0..<k { s += opA[i, p] * opB[p, j] }
///         c[i * ldc + j] = alpha * s + beta * c[i * ldc + j]
///     } }
///
/// `lda`, `ldb`, `ldc` are row strides in elements, which lets callers address one attention
/// head inside a wider activation matrix without copying it.
///
/// A few rows against a transposed operand (`m ≤ smallRowLimit`, `op(B) = Bᵀ`: a decode step times
/// a weight stored out × in) go to `eckart_sgemm_nt_small`, split over the BLAS threads by column:
/// sgemm would pack a copy of the whole weight for those few rows, which costs as much as the
/// product itself and doubles the memory traffic of a memory-bound step. Other one-row products go
/// to `sgemv`, which OpenBLAS 0.3.21 does not do by itself. Each path sums in its own order, so a
/// row may differ from the same row of a larger product in the last bits (`Tolerance.samePath`).
public func gemm(
    _ transA: Transpose, _ transB: Transpose,
    m: Int, n: Int, k: Int,
    alpha: Float = 1,
    a: UnsafePointer<Float>, lda: Int,
    b: UnsafePointer<Float>, ldb: Int,
    beta: Float = 0,
    c: UnsafeMutablePointer<Float>, ldc: Int
) {
    guard m > 0, n > 0 else { return }
    if m <= smallRowLimit, transA == .none, transB == .transpose, k >= 16 {
        smallRowsTimesTransposed(m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
        return
    }
    if m == 1, k > 0 {
        // c (1 × n) = alpha · a (1 × k) · op(B) + beta · c, as y = op'(B) · x.
        let incA = Int32(transA == .none ? 1 : lda)
        if transB == .transpose {   // B is n × k: y = B · a
            cblas_sgemv(CblasRowMajor, CblasNoTrans, Int32(n), Int32(k), alpha, b, Int32(ldb), a, incA, beta, c, 1)
        } else {                    // B is k × n: y = Bᵀ · a
            cblas_sgemv(CblasRowMajor, CblasTrans, Int32(k), Int32(n), alpha, b, Int32(ldb), a, incA, beta, c, 1)
        }
        return
    }
    sgemm(transA, transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
}

/// `gemm` always through OpenBLAS's sgemm, whatever the shape: the baseline `eckart bench` times
/// the small-row kernel against.
public func sgemm(
    _ transA: Transpose, _ transB: Transpose, m: Int, n: Int, k: Int, alpha: Float = 1,
    a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int, beta: Float = 0,
    c: UnsafeMutablePointer<Float>, ldc: Int
) {
    guard m > 0, n > 0 else { return }
    cblas_sgemm(
        CblasRowMajor, transA.cblas, transB.cblas,
        Int32(m), Int32(n), Int32(k),
        alpha, a, Int32(lda), b, Int32(ldb),
        beta, c, Int32(ldc))
}

/// Rows up to which `a · bᵀ` runs on Eckart's small-row kernel rather than sgemm (measured by
/// `eckart bench`: the kernel streams the weight once, sgemm wins once its packing is amortised).
public let smallRowLimit = 16

/// `c = alpha · a · bᵀ + beta · c` for few rows of `a`: the columns split into one contiguous range
/// per BLAS thread (the same thread policy as OpenBLAS's) when the product is large enough to pay
/// for the hand-off to CKernels' persistent workers.
private func smallRowsTimesTransposed(m: Int, n: Int, k: Int, alpha: Float, a: UnsafePointer<Float>, lda: Int,
                                      b: UnsafePointer<Float>, ldb: Int, beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
    let threads = n * k >= 1 << 16 ? min(BLAS.threadCount, n / 16) : 1
    eckart_sgemm_nt_small_parallel(Int32(threads), Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb),
                                   beta, c, Int32(ldc))
}

extension Matrix {
    /// `self · wᵀ`: a linear layer's product for activations `self` (tokens × in) and a weight
    /// stored as PyTorch stores it, `w` (out × in). Returns tokens × out.
    public func timesTransposed(_ w: Matrix) -> Matrix {
        var out = Matrix(rows: rows, cols: w.rows)
        accumulateTimesTransposed(w, into: &out, alpha: 1, beta: 0)
        return out
    }

    /// `out = alpha · self · wᵀ + beta · out`.
    public func accumulateTimesTransposed(_ w: Matrix, into out: inout Matrix, alpha: Float = 1, beta: Float = 1) {
        precondition(cols == w.cols, "inner dimensions differ: \(shape) · \(w.shape)ᵀ")
        precondition(out.rows == rows && out.cols == w.rows, "output is \(out.shape), product is [\(rows), \(w.rows)]")
        let (m, n, k) = (rows, w.rows, cols)
        storage.withUnsafeBufferPointer { a in
            w.storage.withUnsafeBufferPointer { b in
                out.storage.withUnsafeMutableBufferPointer { c in
                    gemm(.none, .transpose, m: m, n: n, k: k, alpha: alpha,
                         a: a.baseAddress!, lda: k, b: b.baseAddress!, ldb: k,
                         beta: beta, c: c.baseAddress!, ldc: n)
                }
            }
        }
    }

    /// `self · other` (m × k times k × n).
    public func times(_ other: Matrix) -> Matrix {
        var out = Matrix(rows: rows, cols: other.cols)
        accumulateTimes(other, into: &out, alpha: 1, beta: 0)
        return out
    }

    /// `out = alpha · self · other + beta · out`.
    public func accumulateTimes(_ other: Matrix, into out: inout Matrix, alpha: Float = 1, beta: Float = 1) {
        precondition(cols == other.rows, "inner dimensions differ: \(shape) · \(other.shape)")
        precondition(out.rows == rows && out.cols == other.cols, "output is \(out.shape), product is [\(rows), \(other.cols)]")
        let (m, n, k) = (rows, other.cols, cols)
        storage.withUnsafeBufferPointer { a in
            other.storage.withUnsafeBufferPointer { b in
                out.storage.withUnsafeMutableBufferPointer { c in
                    gemm(.none, .none, m: m, n: n, k: k, alpha: alpha,
                         a: a.baseAddress!, lda: k, b: b.baseAddress!, ldb: n,
                         beta: beta, c: c.baseAddress!, ldc: n)
                }
            }
        }
    }
}

extension Matrix {
    /// `selfᵀ · other` (self k × m, other k × n → m × n) without forming the transpose.
    ///
    ///     for i in 0..<m { for j in 0..<n { for p in 0..<k { out[i, j] += self[p, i] * other[p, j] } } }
    public func transposedTimes(_ other: Matrix) -> Matrix {
        precondition(rows == other.rows, "inner dimensions differ: \(shape)ᵀ · \(other.shape)")
        let (m, n, k) = (cols, other.cols, rows)
        var out = Matrix(rows: m, cols: n)
        guard m > 0, n > 0, k > 0 else { return out }
        storage.withUnsafeBufferPointer { a in
            other.storage.withUnsafeBufferPointer { b in
                out.storage.withUnsafeMutableBufferPointer { c in
                    gemm(.transpose, .none, m: m, n: n, k: k, a: a.baseAddress!, lda: m, b: b.baseAddress!, ldb: n,
                         c: c.baseAddress!, ldc: n)
                }
            }
        }
        return out
    }
}
