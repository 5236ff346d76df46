// x · Wᵀ for W in quantized blocks, as llama.cpp computes it: a decode step rounds its few activation
// rows to 8 bits and sums integer products block by block (the weight streams from memory once, at
// 4.5–8.5 bits per element instead of 32); a batch or prefill dequantizes W a tile of rows at a time
// and hands each tile to gemm, which is compute-bound there and would not gain from integer sums.
import CKernels

/// How `QuantizedMatrix.multiply` computes x · Wᵀ.
public enum QuantizedProductPath: Sendable, CaseIterable {
    /// Rows of x rounded to 8 bits per block, integer dot products block by block; each weight row
    /// is read once for all rows of x. Memory-bound decode steps.
    case integerDots
    /// W dequantized a tile of rows at a time into scratch, each tile through `gemm` (Eckart's
    /// small-row kernel up to `smallRowLimit` rows of x, OpenBLAS sgemm above). Compute-bound
    /// batches and prefills, at Float32 speed plus the dequantizing.
    case dequantizedTiles
}

extension QuantizedMatrix {
    /// Rows of x up to which `multiply` takes the integer-dot path; above it, dequantized tiles.
    /// Measured by `eckart bench --quantized-only` (QuantizedBenchmark.swift, "quantized_path_ms") on
    /// the 1536 × 576 gate projection: integer dots take 0.05 ms (Q4_1) for one row and 0.32 ms
    /// (Q8_0) for 16, dequantized tiles 0.3–0.6 ms and 0.5 ms, Float32 gemm 0.16 and 0.36 ms: the
    /// integer path wins up to 16 rows, where gemm's own small-row limit also sits.
    public static let integerProductRowLimit = 16

    /// Weight rows dequantized per `gemm` call: 512 × 576 floats is 1.2 MB, which sgemm packs from
    /// L2/L3, and few enough tiles that each call's fixed costs vanish.
    static let tileRows = 512

    /// `y = x · Wᵀ` with `W = dequantized()` (rows × cols), `x` m × cols with row stride `ldx`, `y`
    /// m × rows with row stride `ldy`, overwritten:
    ///
    ///     for i in 0..<m { for j in 0..<rows {
    ///         var s: Float = 0
    ///         for p in 0..<cols { s += x[i * ldx + p] * W[j, p] }
    ///         y[i * ldy + j] = s
    ///     } }
    ///
    /// On `.integerDots` (the default for m ≤ `integerProductRowLimit`) each row of x is first
    /// rounded to 8 bits per block (d = max|x| / 127 per 32 elements, per 256 for the K types), so
    /// y[i][j] differs from the loop by at most Σ_blocks (d/2)·Σ_p |W[j, p]| plus float rounding. On
    /// `.dequantizedTiles` only by float rounding. Both split the work over the threads `gemm` uses.
    public func multiply(_ x: UnsafePointer<Float>, rows m: Int, ldx: Int, into y: UnsafeMutablePointer<Float>, ldy: Int,
                         path: QuantizedProductPath?) {
        guard m > 0, rows > 0 else { return }
        guard cols > 0 else {
            for i in 0..<m { (y + i * ldy).initialize(repeating: 0, count: rows) }
            return
        }
        let threads = quantizedThreads(rows: rows, cols: cols)
        switch path ?? (m <= Self.integerProductRowLimit ? .integerDots : .dequantizedTiles) {
        case .integerDots:
            eckart_quantized_nt_parallel(Int32(threads), Int32(type.rawValue), Int32(m), Int32(rows), Int32(cols), x,
                                         Int32(ldx), bytes.base, rowBytes, y, Int32(ldy))
        case .dequantizedTiles:
            // Through sgemm (m > smallRowLimit) the team's workers sleep right after dequantizing, so
            // they do not spin on the cores OpenBLAS's threads need; sgemm is called from this thread
            // only, never from inside the team, so BLAS threads are not nested in ours.
            let sgemmFollows: Int32 = m > smallRowLimit ? 1 : 0
            let tileRows = min(Self.tileRows, rows)
            let tile = UnsafeMutablePointer<Float>.allocate(capacity: tileRows * cols)   // (tileRows, cols)
            defer { tile.deallocate() }
            for j0 in stride(from: 0, to: rows, by: tileRows) {
                let count = min(tileRows, rows - j0)
                eckart_dequantize_rows_parallel(Int32(threads), Int32(type.rawValue), bytes.base + j0 * rowBytes, rowBytes,
                                                Int32(count), Int32(cols), tile, sgemmFollows)
                gemm(.none, .transpose, m: m, n: count, k: cols, a: x, lda: ldx, b: tile, ldb: cols, c: y + j0, ldc: ldy)
            }
        }
    }

    /// `multiply(_:rows:ldx:into:ldy:path:)` on the default path for the row count.
    public func multiply(_ x: UnsafePointer<Float>, rows m: Int, ldx: Int, into y: UnsafeMutablePointer<Float>, ldy: Int) {
        multiply(x, rows: m, ldx: ldx, into: y, ldy: ldy, path: nil)
    }
}

extension QuantizedMatrix: RowProductWeight {}

/// Threads for a product or dequantization of an n × k weight: the policy of `gemm`'s small-row path
/// (GEMM.swift), so Eckart's kernels and OpenBLAS share one thread count — every BLAS thread once
/// the weight is big enough to pay for the hand-off, with at least 16 rows per thread.
func quantizedThreads(rows n: Int, cols k: Int) -> Int {
    n * k >= 1 << 16 ? max(1, min(BLAS.threadCount, n / 16)) : 1
}
