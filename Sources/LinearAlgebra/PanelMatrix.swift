// A float32 weight laid out for its product with activation rows: panels of 16 output rows, each
// stored transposed, so that the product kernel (`eckart_panels_nt`, PanelProduct.c) reads the weight
// once, front to back, whatever the number of rows. This is the packing sgemm does on every call,
// done once when the weight is loaded.
import CKernels

/// The panels' floats: a 64-byte-aligned allocation, freed with this object. Immutable once filled.
final class PanelStorage: @unchecked Sendable {
    let base: UnsafeMutablePointer<Float>
    let count: Int

    init(count: Int, fill: (UnsafeMutablePointer<Float>) -> Void) {
        let raw = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1) * MemoryLayout<Float>.size, alignment: 64)
        base = raw.bindMemory(to: Float.self, capacity: max(count, 1))
        self.count = count
        fill(base)
    }

    deinit { UnsafeMutableRawPointer(base).deallocate() }
}

/// A rows × cols float32 matrix (a linear weight, out × in) in panels of `panelRows` rows:
/// element (i, j) sits at `((i / 16)·cols + j)·16 + i % 16`; rows past `rows` in the last panel are zero.
public struct PanelMatrix: RowProductWeight {
    public static let panelRows = 16
    public let rows: Int
    public let cols: Int
    let storage: PanelStorage

    /// `m` laid out in panels.
    public init(_ m: Matrix) {
        rows = m.rows
        cols = m.cols
        let count = (m.rows + Self.panelRows - 1) / Self.panelRows * Self.panelRows * m.cols
        storage = m.storage.withUnsafeBufferPointer { source in
            PanelStorage(count: count) { panels in
                if let w = source.baseAddress { eckart_pack_panels(Int32(m.rows), Int32(m.cols), w, Int32(m.cols), panels) }
            }
        }
    }

    /// Bytes the panels take (with the last panel's padding).
    public var byteCount: Int { storage.count * MemoryLayout<Float>.size }

    /// Writes row `i` (`cols` values) to `out`.
    public func row(_ i: Int, into out: UnsafeMutablePointer<Float>) {
        precondition(i >= 0 && i < rows, "row \(i) of \(rows)")
        eckart_unpack_panel_row(Int32(cols), storage.base, Int32(i), out)
    }

    /// The matrix in row-major order (a copy).
    public var unpacked: Matrix {
        var m = Matrix(rows: rows, cols: cols)
        m.storage.withUnsafeMutableBufferPointer { out in
            for i in 0..<rows { row(i, into: out.baseAddress! + i * cols) }
        }
        return m
    }

    /// `y[t] = W·x[t]` for `count` rows of `x` (row stride `ldx`) into `y` (row stride `ldy`,
    /// overwritten), split over the BLAS threads by panel once the weight pays for the hand-off.
    /// (`timesTransposed` takes and returns matrices.)
    public func multiply(_ x: UnsafePointer<Float>, rows count: Int, ldx: Int, into y: UnsafeMutablePointer<Float>, ldy: Int) {
        guard count > 0, rows > 0 else { return }
        let panels = (rows + Self.panelRows - 1) / Self.panelRows
        let threads = rows * cols >= 1 << 16 ? max(1, min(BLAS.threadCount, panels)) : 1
        eckart_panels_nt_parallel(Int32(threads), Int32(count), Int32(rows), Int32(cols), x, Int32(ldx), storage.base, y, Int32(ldy))
    }

}
