// Eckart's products against OpenBLAS's sgemm on a decode step's shapes: y (m × n) = x (m × k) · Wᵀ
// for a SmolLM2-sized MLP weight, for m from 1 to 128 rows. The small-row kernel (row-major weight,
// what attention scores and adapters take; where its ratio falls under 1 is where `smallRowLimit`
// should sit) and the panel kernel (the weight in panels, what every float32 model weight takes).
import Dispatch
import LinearAlgebra

enum SmallRowsBenchmark {
    static func run(rows: [Int] = [1, 4, 16, 32, 64, 128], n: Int = 1536, k: Int = 576, repetitions: Int = 20) -> [String: Any] {
        let w = Matrix(rows: n, cols: k, storage: (0..<(n * k)).map { Float($0 % 13) * 0.01 })
        let panels = PanelMatrix(w)
        var ratios: [String: Double] = [:], kernelGFLOPS: [String: Double] = [:]
        var panelRatios: [String: Double] = [:], panelGFLOPS: [String: Double] = [:], blasGFLOPS: [String: Double] = [:]
        for m in rows {
            let x = Matrix(rows: m, cols: k, storage: (0..<(m * k)).map { Float($0 % 7) * 0.1 })
            var y = Matrix(rows: m, cols: n)
            func time(_ body: () -> Void) -> Double {
                var best = Double.infinity
                for _ in 0...repetitions {
                    let start = DispatchTime.now()
                    body()
                    best = min(best, seconds(since: start))
                }
                return best
            }
            let (kernel, blas, panel) = x.storage.withUnsafeBufferPointer { xs in
                w.storage.withUnsafeBufferPointer { ws in
                    y.storage.withUnsafeMutableBufferPointer { ys in
                        (time { gemm(.none, .transpose, m: m, n: n, k: k, a: xs.baseAddress!, lda: k, b: ws.baseAddress!, ldb: k,
                                     c: ys.baseAddress!, ldc: n) },
                         time { sgemm(.none, .transpose, m: m, n: n, k: k, a: xs.baseAddress!, lda: k, b: ws.baseAddress!, ldb: k,
                                      c: ys.baseAddress!, ldc: n) },
                         time { panels.multiply(xs.baseAddress!, rows: m, ldx: k, into: ys.baseAddress!, ldy: n) })
                    }
                }
            }
            let flop = 2 * Double(m * n * k)
            ratios["\(m)"] = rounded(blas / kernel, 2)
            kernelGFLOPS["\(m)"] = rounded(flop / kernel / 1e9, 1)
            panelRatios["\(m)"] = rounded(blas / panel, 2)
            panelGFLOPS["\(m)"] = rounded(flop / panel / 1e9, 1)
            blasGFLOPS["\(m)"] = rounded(flop / blas / 1e9, 1)
        }
        return ["small_rows_speedup_vs_sgemm": ratios, "small_rows_gemm_gflops": kernelGFLOPS,
                "panel_speedup_vs_sgemm": panelRatios, "panel_gemm_gflops": panelGFLOPS, "small_rows_sgemm_gflops": blasGFLOPS,
                "small_rows_kernel": BLAS.kernelPath, "small_row_limit": smallRowLimit]
    }
}
