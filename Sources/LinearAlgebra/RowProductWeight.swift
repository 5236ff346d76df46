// What the forward pass multiplies activations by: a weight held in whatever layout its product
// kernel reads (PanelMatrix for float32, QuantizedMatrix for GGUF blocks).

/// A weight W (rows × cols: out × in) that multiplies activation rows.
public protocol RowProductWeight: Sendable {
    var rows: Int { get }
    var cols: Int { get }
    /// `y[t] = W·x[t]` for `count` rows of `x` (row stride `ldx`) into `y` (row stride `ldy`, overwritten).
    func multiply(_ x: UnsafePointer<Float>, rows count: Int, ldx: Int, into y: UnsafeMutablePointer<Float>, ldy: Int)
}

extension RowProductWeight {
    /// `x · Wᵀ` (tokens × rows) for activations `x` (tokens × cols).
    public func timesTransposed(_ x: Matrix) -> Matrix {
        precondition(x.cols == cols, "inner dimensions differ: \(x.shape) · (\(rows) × \(cols))ᵀ")
        var out = Matrix(rows: x.rows, cols: rows)
        x.storage.withUnsafeBufferPointer { xs in
            out.storage.withUnsafeMutableBufferPointer { ys in
                guard let xBase = xs.baseAddress, let yBase = ys.baseAddress else { return }
                multiply(xBase, rows: x.rows, ldx: cols, into: yBase, ldy: rows)
            }
        }
        return out
    }
}
