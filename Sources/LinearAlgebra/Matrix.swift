// A dense row-major Float32 matrix: the one tensor type of the engine.

/// A dense, row-major matrix of `Float`.
///
/// Element `(i, j)` lives at `storage[i * cols + j]`. Vectors are 1×n matrices or plain `[Float]`.
/// The storage is a Swift array, so copies are cheap until written (copy-on-write); base-model
/// weights are held in `let` properties and shared by every adapter.
public struct Matrix: Sendable, Equatable {
    public let rows: Int
    public let cols: Int
    public var storage: [Float]

    /// A matrix of zeros.
    public init(rows: Int, cols: Int) {
        precondition(rows >= 0 && cols >= 0, "negative matrix dimension")
        self.rows = rows
        self.cols = cols
        self.storage = [Float](repeating: 0, count: rows * cols)
    }

    /// A matrix over existing row-major storage; `storage.count` must be `rows * cols`.
    public init(rows: Int, cols: Int, storage: [Float]) {
        precondition(storage.count == rows * cols, "storage has \(storage.count) elements, shape needs \(rows)x\(cols)")
        self.rows = rows
        self.cols = cols
        self.storage = storage
    }

    public var shape: [Int] { [rows, cols] }
    public var count: Int { storage.count }

    public subscript(row: Int, col: Int) -> Float {
        get { storage[row * cols + col] }
        set { storage[row * cols + col] = newValue }
    }

    /// Row `i` as a new array.
    public func row(_ i: Int) -> [Float] {
        Array(storage[(i * cols)..<((i + 1) * cols)])
    }

    /// The transpose, as a new matrix.
    public func transposed() -> Matrix {
        var out = Matrix(rows: cols, cols: rows)
        storage.withUnsafeBufferPointer { src in
            out.storage.withUnsafeMutableBufferPointer { dst in
                for i in 0..<rows {
                    for j in 0..<cols { dst[j * rows + i] = src[i * cols + j] }
                }
            }
        }
        return out
    }

    /// The rows `range` as a new matrix.
    public func rows(_ range: Range<Int>) -> Matrix {
        Matrix(rows: range.count, cols: cols, storage: Array(storage[(range.lowerBound * cols)..<(range.upperBound * cols)]))
    }

    /// True when every element is finite (no NaN, no ±Inf).
    public var isFinite: Bool {
        storage.allSatisfy { $0.isFinite }
    }

    /// Largest absolute elementwise difference; shapes must match.
    public func maxAbsDifference(_ other: Matrix) -> Float {
        precondition(rows == other.rows && cols == other.cols, "shape mismatch \(shape) vs \(other.shape)")
        var m: Float = 0
        for i in 0..<storage.count { m = max(m, abs(storage[i] - other.storage[i])) }
        return m
    }
}
