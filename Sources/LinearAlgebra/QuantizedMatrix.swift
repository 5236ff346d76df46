// A weight matrix kept in llama.cpp's quantized blocks, exactly as a GGUF file stores it: row-major,
// each row cols / blockSize blocks. The bytes are either owned or borrowed from a memory-mapped file
// (kept alive by its owner), so mapped weights are never copied. The products are in
// QuantizedProduct.swift, the reference quantizers in QuantizedQuantizers.swift.
import CKernels

/// The bytes of a quantized matrix: an allocation this object frees, or a region of memory another
/// object (a mapped file) keeps alive as long as this one holds it. Immutable once made.
public final class QuantizedBytes: @unchecked Sendable {
    /// The first byte.
    public let base: UnsafeRawPointer
    /// How many bytes.
    public let count: Int
    /// What keeps borrowed bytes alive; nil when this object owns them.
    public let owner: AnyObject?

    /// Takes a copy of `bytes`, 64-byte aligned.
    public init(copying bytes: UnsafeRawBufferPointer) {
        let storage = UnsafeMutableRawPointer.allocate(byteCount: max(bytes.count, 1), alignment: 64)
        if let source = bytes.baseAddress { storage.copyMemory(from: source, byteCount: bytes.count) }
        base = UnsafeRawPointer(storage)
        count = bytes.count
        owner = nil
    }

    /// Fresh bytes that `fill` writes once.
    init(count: Int, fill: (UnsafeMutableRawPointer) -> Void) {
        let storage = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1), alignment: 64)
        fill(storage)
        base = UnsafeRawPointer(storage)
        self.count = count
        owner = nil
    }

    /// Borrows `count` bytes at `base`, valid while `owner` lives.
    public init(borrowing base: UnsafeRawPointer, count: Int, owner: AnyObject) {
        self.base = base
        self.count = count
        self.owner = owner
    }

    deinit {
        if owner == nil { UnsafeMutableRawPointer(mutating: base).deallocate() }
    }
}

/// A rows × cols matrix in quantized blocks, as llama.cpp stores a linear weight (out × in).
public struct QuantizedMatrix: Sendable {
    /// The block type.
    public let type: QuantizationType
    /// Output features: one row of blocks each.
    public let rows: Int
    /// Input features, a multiple of `type.blockSize`.
    public let cols: Int
    /// rows × (cols / blockSize) × bytesPerBlock bytes, row-major.
    public let bytes: QuantizedBytes

    /// Bytes per row: cols / blockSize blocks.
    public var rowBytes: Int { cols / type.blockSize * type.bytesPerBlock }
    /// Bytes of the whole matrix.
    public var byteCount: Int { rows * rowBytes }
    public var shape: [Int] { [rows, cols] }

    /// Checks a shape against a byte count: whole blocks per row, exactly rows of them.
    public static func validate(type: QuantizationType, rows: Int, cols: Int, byteCount: Int) throws(QuantizationError) {
        guard rows >= 0, cols >= 0 else { throw .negativeShape(rows: rows, cols: cols) }
        guard cols % type.blockSize == 0 else {
            throw .columnsNotMultipleOfBlock(type: type, cols: cols, blockSize: type.blockSize)
        }
        let expected = rows * (cols / type.blockSize) * type.bytesPerBlock
        guard byteCount == expected else {
            throw .byteCountMismatch(type: type, rows: rows, cols: cols, expected: expected, actual: byteCount)
        }
    }

    /// A matrix over a copy of `bytes` (llama.cpp block layout, little-endian).
    public init(type: QuantizationType, rows: Int, cols: Int, bytes: [UInt8]) throws(QuantizationError) {
        try Self.validate(type: type, rows: rows, cols: cols, byteCount: bytes.count)
        self.init(type: type, rows: rows, cols: cols, checked: bytes.withUnsafeBytes { QuantizedBytes(copying: $0) })
    }

    /// A matrix over `byteCount` bytes at `base` borrowed from `owner` (a mapped file), not copied:
    /// the matrix keeps `owner` alive.
    public init(type: QuantizationType, rows: Int, cols: Int, mapped base: UnsafeRawPointer, byteCount: Int,
                owner: AnyObject) throws(QuantizationError) {
        try Self.validate(type: type, rows: rows, cols: cols, byteCount: byteCount)
        self.init(type: type, rows: rows, cols: cols, checked: QuantizedBytes(borrowing: base, count: byteCount, owner: owner))
    }

    /// A matrix over bytes already checked against the shape.
    init(type: QuantizationType, rows: Int, cols: Int, checked bytes: QuantizedBytes) {
        self.type = type
        self.rows = rows
        self.cols = cols
        self.bytes = bytes
    }

    /// The blocks of row `i`.
    public func rowBlocks(_ i: Int) -> UnsafeRawBufferPointer {
        precondition(i >= 0 && i < rows, "row \(i) of \(rows)")
        return UnsafeRawBufferPointer(start: bytes.base + i * rowBytes, count: rowBytes)
    }

    /// Row `i` as floats into `out` (cols elements): an embedding lookup.
    public func dequantizeRow(_ i: Int, into out: UnsafeMutablePointer<Float>) {
        precondition(i >= 0 && i < rows, "row \(i) of \(rows)")
        eckart_dequantize_row(Int32(type.rawValue), bytes.base + i * rowBytes, out, Int32(cols))
    }

    /// Row `i` as a new array.
    public func dequantizeRow(_ i: Int) -> [Float] {
        [Float](unsafeUninitializedCapacity: cols) { buffer, count in
            if cols > 0 { dequantizeRow(i, into: buffer.baseAddress!) }
            count = cols
        }
    }

    /// The whole matrix in Float32.
    public func dequantized() -> Matrix {
        var out = Matrix(rows: rows, cols: cols)
        guard rows > 0, cols > 0 else { return out }
        out.storage.withUnsafeMutableBufferPointer { storage in
            eckart_dequantize_rows_parallel(Int32(quantizedThreads(rows: rows, cols: cols)), Int32(type.rawValue), bytes.base,
                                            rowBytes, Int32(rows), Int32(cols), storage.baseAddress!, 0)
        }
        return out
    }

    /// Row `order[i]` of this matrix as row i of the result, moving whole rows of blocks (owned
    /// bytes): how a loader undoes llama.cpp's interleaving of the Q and K projection rows.
    public func rowsPermuted(_ order: [Int]) -> QuantizedMatrix {
        let rowBytes = rowBytes
        for source in order { precondition(source >= 0 && source < rows, "row \(source) of \(rows)") }
        let permuted = QuantizedBytes(count: order.count * rowBytes) { destination in
            for (i, source) in order.enumerated() {
                (destination + i * rowBytes).copyMemory(from: bytes.base + source * rowBytes, byteCount: rowBytes)
            }
        }
        return QuantizedMatrix(type: type, rows: order.count, cols: cols, checked: permuted)
    }

    /// A copy of the bytes, as stored.
    public var byteArray: [UInt8] {
        Array(UnsafeRawBufferPointer(start: bytes.base, count: byteCount))
    }
}
