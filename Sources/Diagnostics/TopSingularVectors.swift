// The top-k singular triplets of a matrix known only through products A·X and Aᵀ·Y: block Krylov
// iteration with Rayleigh–Ritz (Musco & Musco 2015, "Randomized Block Krylov Methods for Stronger
// and Faster Approximate SVD"; Golub & Van Loan §10.1 for the Rayleigh–Ritz step).
//
// Basis Q spans [A·Ω, (AAᵀ)·A·Ω, (AAᵀ)²·A·Ω, …] for a seeded block Ω (n × b), orthonormalised
// block by block (classical Gram–Schmidt twice, then Householder QR). With Z = Aᵀ·Q kept alongside,
// Qᵀ·A = Zᵀ, whose SVD Û·Σ·Vᵀ gives Ritz vectors u = Q·û and v. Since Aᵀu = σ·v exactly, the
// residual ‖A·v − σ·u‖ measures convergence; the iteration stops when every one of the top k is
// below `tolerance · σ₁`, or when the basis reaches min(m, n) columns, where it spans range(A) and
// the answer is exact up to rounding. Cost per block: two products with A (b columns each) plus an
// SVD of the d × n matrix Zᵀ; A itself is never formed.
import LinearAlgebra

/// A matrix given by its products: `apply(X) = A·X` for X (cols × b) and `applyTransposed(Y) = Aᵀ·Y`
/// for Y (rows × b).
public struct MatrixOperator {
    public let rows: Int
    public let cols: Int
    public let apply: (Matrix) -> Matrix
    public let applyTransposed: (Matrix) -> Matrix

    public init(rows: Int, cols: Int, apply: @escaping (Matrix) -> Matrix, applyTransposed: @escaping (Matrix) -> Matrix) {
        self.rows = rows
        self.cols = cols
        self.apply = apply
        self.applyTransposed = applyTransposed
    }
}

/// The top singular triplets found, and how they were found.
public struct TopSingularTriplets: Sendable {
    public let u: Matrix                // (m, k) left singular vectors, orthonormal columns
    public let singularValues: [Float]  // (k) descending
    public let v: Matrix                // (n, k) right singular vectors
    /// Columns of the Krylov basis when it stopped.
    public let basisSize: Int
    /// max over the k triplets of ‖A·v − σ·u‖ / σ₁.
    public let relativeResidual: Float
}

public enum BlockKrylov {
    /// The top `k` singular triplets of `a` (k is capped at min(m, n)).
    /// - Parameters:
    ///   - oversampling: extra columns per block beyond k; they speed convergence.
    ///   - tolerance: stop once every relative residual ‖A·v − σ·u‖ / σ₁ is below it.
    ///   - seed: the start block's seed, so results are reproducible.
    public static func topSingularTriplets(of a: MatrixOperator, count k: Int, oversampling: Int = 10,
                                           tolerance: Float = 1e-5, seed: UInt64 = 0x5eed) throws -> TopSingularTriplets {
        let (m, n) = (a.rows, a.cols)
        let full = min(m, n)
        let k = min(k, full)
        guard k > 0 else { return TopSingularTriplets(u: Matrix(rows: m, cols: 0), singularValues: [], v: Matrix(rows: n, cols: 0), basisSize: 0, relativeResidual: 0) }
        let block = min(k + oversampling, full)
        var q = Matrix(rows: m, cols: 0)   // (m, d) orthonormal basis
        var z = Matrix(rows: n, cols: 0)   // (n, d) = Aᵀ·Q
        var next = a.apply(startBlock(rows: n, cols: block, seed: seed))   // (m, b) = A·Ω
        while true {
            // Orthogonalise the new block against the basis and within itself; keep independent columns.
            let added = try orthonormalise(&next, against: q, limit: full - q.cols)
            let stalled = added.cols == 0
            if !stalled {
                q = concatenateColumns(q, added)
                z = concatenateColumns(z, a.applyTransposed(added))
            }
            // Rayleigh–Ritz: Qᵀ·A = Zᵀ (d, n) = Û Σ Vᵀ.
            let ritz = try z.transposed().svd()
            let top = min(k, ritz.singularValues.count)
            let u = q.times(firstColumns(ritz.u, top))             // (m, top)
            let v = firstColumns(ritz.vt.transposed(), top)        // (n, top)
            let sigma = Array(ritz.singularValues.prefix(top))
            let residual = relativeResidual(a, u: u, sigma: sigma, v: v)
            if residual <= tolerance || q.cols >= full || stalled {
                return TopSingularTriplets(u: u, singularValues: sigma, v: v, basisSize: q.cols, relativeResidual: residual)
            }
            next = a.apply(a.applyTransposed(lastColumns(q, added.cols)))   // (AAᵀ)·(newest block)
        }
    }

    /// max_i ‖A·vᵢ − σᵢ·uᵢ‖ / σ₁ (0 when σ₁ = 0).
    static func relativeResidual(_ a: MatrixOperator, u: Matrix, sigma: [Float], v: Matrix) -> Float {
        guard let top = sigma.first, top > 0 else { return 0 }
        var av = a.apply(v)   // (m, k)
        var worst: Float = 0
        for j in 0..<v.cols {
            var s: Float = 0
            for i in 0..<av.rows {
                av[i, j] -= sigma[j] * u[i, j]
                s += av[i, j] * av[i, j]
            }
            worst = max(worst, s.squareRoot())
        }
        return worst / top
    }

    /// Removes from `y`'s columns their components in span(q) (twice, for stability), then returns an
    /// orthonormal basis of what is left: Householder QR, dropping columns whose |R_jj| shows they were
    /// numerically dependent. At most `limit` columns.
    static func orthonormalise(_ y: inout Matrix, against q: Matrix, limit: Int) throws -> Matrix {
        guard limit > 0, y.cols > 0 else { return Matrix(rows: y.rows, cols: 0) }
        // Unit columns first (the span is unchanged), so |R_jj| below is the share of a column that
        // survived the projection, whatever the columns' magnitudes.
        let norms = columnNorms(y)
        guard norms.contains(where: { $0 > 0 }) else { return Matrix(rows: y.rows, cols: 0) }
        y.scaleColumns(by: norms.map { $0 > 0 ? 1 / $0 : 0 })
        if q.cols > 0 {
            for _ in 0..<2 { q.accumulateTimes(q.transposedTimes(y), into: &y, alpha: -1, beta: 1) }
        }
        let factors = try y.qr()
        let keep = (0..<min(factors.r.rows, y.cols)).filter { abs(factors.r[$0, $0]) > 1e-4 }.prefix(limit)
        var out = Matrix(rows: y.rows, cols: keep.count)
        for (c, j) in keep.enumerated() { for i in 0..<y.rows { out[i, c] = factors.q[i, j] } }
        return out
    }

    /// A seeded block with entries uniform in [-1, 1) (SplitMix64).
    static func startBlock(rows: Int, cols: Int, seed: UInt64) -> Matrix {
        var state = seed
        return Matrix(rows: rows, cols: cols, storage: (0..<(rows * cols)).map { _ in
            state &+= 0x9e3779b97f4a7c15
            var x = state
            x = (x ^ (x >> 30)) &* 0xbf58476d1ce4e5b9
            x = (x ^ (x >> 27)) &* 0x94d049bb133111eb
            x ^= x >> 31
            return Float(x >> 40) / Float(1 << 23) - 1
        })
    }
}

/// The first `count` columns of `m`.
func firstColumns(_ m: Matrix, _ count: Int) -> Matrix {
    var out = Matrix(rows: m.rows, cols: count)
    for i in 0..<m.rows { for j in 0..<count { out[i, j] = m[i, j] } }
    return out
}

/// The last `count` columns of `m`.
func lastColumns(_ m: Matrix, _ count: Int) -> Matrix {
    var out = Matrix(rows: m.rows, cols: count)
    for i in 0..<m.rows { for j in 0..<count { out[i, j] = m[i, m.cols - count + j] } }
    return out
}

/// [a | b] for equal row counts.
func concatenateColumns(_ a: Matrix, _ b: Matrix) -> Matrix {
    precondition(a.rows == b.rows, "row counts \(a.rows) and \(b.rows) differ")
    var out = Matrix(rows: a.rows, cols: a.cols + b.cols)
    for i in 0..<a.rows {
        for j in 0..<a.cols { out[i, j] = a[i, j] }
        for j in 0..<b.cols { out[i, a.cols + j] = b[i, j] }
    }
    return out
}

/// Euclidean norm of each column.
func columnNorms(_ m: Matrix) -> [Float] {
    var sums = [Float](repeating: 0, count: m.cols)
    for i in 0..<m.rows { for j in 0..<m.cols { sums[j] += m[i, j] * m[i, j] } }
    return sums.map { $0.squareRoot() }
}
