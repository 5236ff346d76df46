// Elementwise and broadcast arithmetic on matrices (the loops that are not GEMMs).

extension Matrix {
    /// `self[i, j] += v[j]` for every row i: adding a bias.
    public mutating func addRowVector(_ v: [Float]) {
        precondition(v.count == cols, "vector of \(v.count) for \(cols) columns")
        let c = cols
        storage.withUnsafeMutableBufferPointer { y in
            v.withUnsafeBufferPointer { b in
                for i in 0..<rows {
                    let row = y.baseAddress! + i * c
                    for j in 0..<c { row[j] += b[j] }
                }
            }
        }
    }

    /// `self[i, j] *= factors[j]`: scaling each output feature of a (tokens × out) activation.
    public mutating func scaleColumns(by factors: [Float]) {
        precondition(factors.count == cols, "\(factors.count) factors for \(cols) columns")
        let c = cols
        storage.withUnsafeMutableBufferPointer { y in
            factors.withUnsafeBufferPointer { f in
                for i in 0..<rows {
                    let row = y.baseAddress! + i * c
                    for j in 0..<c { row[j] *= f[j] }
                }
            }
        }
    }

    /// `self[i, j] *= factors[i]`: scaling each row of an (out × in) weight.
    public mutating func scaleRows(by factors: [Float]) {
        precondition(factors.count == rows, "\(factors.count) factors for \(rows) rows")
        let c = cols
        storage.withUnsafeMutableBufferPointer { y in
            for i in 0..<rows {
                let row = y.baseAddress! + i * c
                let f = factors[i]
                for j in 0..<c { row[j] *= f }
            }
        }
    }

    /// Elementwise `self += other`; shapes must match.
    public mutating func add(_ other: Matrix) {
        precondition(rows == other.rows && cols == other.cols, "shape mismatch \(shape) vs \(other.shape)")
        storage.withUnsafeMutableBufferPointer { y in
            other.storage.withUnsafeBufferPointer { x in
                for i in 0..<y.count { y[i] += x[i] }
            }
        }
    }

    /// Elementwise `self -= other`; shapes must match.
    public mutating func subtract(_ other: Matrix) {
        precondition(rows == other.rows && cols == other.cols, "shape mismatch \(shape) vs \(other.shape)")
        storage.withUnsafeMutableBufferPointer { y in
            other.storage.withUnsafeBufferPointer { x in
                for i in 0..<y.count { y[i] -= x[i] }
            }
        }
    }

    /// The Euclidean norm of each row.
    public func rowNorms() -> [Float] {
        let c = cols
        return storage.withUnsafeBufferPointer { w in
            (0..<rows).map { i in
                var sum: Float = 0
                for j in 0..<c { sum += w[i * c + j] * w[i * c + j] }
                return sum.squareRoot()
            }
        }
    }
}
