// Spectrum benchmarks: the QR route against a dense SVD, and a whole 7B-shaped adapter.
import Diagnostics
import Dispatch
import LinearAlgebra

enum SpectrumBenchmark {
    /// Dense SVD of the formed 4096×4096 rank-16 product, over the QR route's time for the same σ.
    static func speedup(size n: Int = 4096, rank r: Int = 16) throws -> (speedup: Double, qrMilliseconds: Double, denseMilliseconds: Double) {
        var random = SplitMix(seed: 42)
        let b = Matrix(rows: n, cols: r, storage: random.floats(n * r, scale: 0.02))
        let a = Matrix(rows: r, cols: n, storage: random.floats(r * n, scale: 0.02))
        var qr = Double.infinity
        for _ in 0..<5 {
            let start = DispatchTime.now()
            _ = try LowRankSpectrum.singularValues(b: b, a: a, scale: 2)
            qr = min(qr, seconds(since: start))
        }
        let start = DispatchTime.now()
        var product = b.times(a)
        product.scaleRows(by: Array(repeating: 2, count: n))
        _ = try product.singularValues()
        let dense = seconds(since: start)
        return (dense / qr, qr * 1000, dense * 1000)
    }

    /// All 224 modules (32 layers × 7 projections) of a rank-16 adapter with Llama-7B shapes.
    static func llama7BAdapterMilliseconds(rank r: Int = 16) throws -> Double {
        let hidden = 4096, intermediate = 11008
        let shapes = [(hidden, hidden), (hidden, hidden), (hidden, hidden), (hidden, hidden),
                      (intermediate, hidden), (intermediate, hidden), (hidden, intermediate)]
        var random = SplitMix(seed: 7)
        let factors = (0..<32).flatMap { _ in
            shapes.map { (out, inFeatures) in
                (Matrix(rows: out, cols: r, storage: random.floats(out * r, scale: 0.02)),
                 Matrix(rows: r, cols: inFeatures, storage: random.floats(r * inFeatures, scale: 0.02)))
            }
        }
        let start = DispatchTime.now()
        for (b, a) in factors { _ = SpectrumMetrics(singularValues: try LowRankSpectrum.singularValues(b: b, a: a, scale: 2)) }
        return seconds(since: start) * 1000
    }
}
