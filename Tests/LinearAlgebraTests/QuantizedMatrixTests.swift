// QuantizedMatrix against the scalar decoding of each layout (QuantizedReference.swift): dequantizing
// is exact (both round each product once, no fused multiply-add), the reference quantizers meet their
// round-to-nearest bounds, shapes and byte counts are checked, and rows move whole.
import FixtureSupport
import LinearAlgebra
import Testing

@Test(arguments: QuantizationType.allCases)
func typeDescribesItsGGUFLayout(_ type: QuantizationType) {
    let expected: [QuantizationType: (id: Int, size: Int, bytes: Int, name: String)] = [
        .q8_0: (8, 32, 34, "Q8_0"), .q4_0: (2, 32, 18, "Q4_0"), .q4_1: (3, 32, 20, "Q4_1"),
        .q4_K: (12, 256, 144, "Q4_K"), .q5_K: (13, 256, 176, "Q5_K"), .q6_K: (14, 256, 210, "Q6_K"),
    ]
    let e = expected[type]!
    #expect(type.ggufTypeID == e.id && type.blockSize == e.size && type.bytesPerBlock == e.bytes && type.name == e.name)
    #expect(QuantizationType(ggufTypeID: e.id) == type)
}

@Test(arguments: QuantizationType.allCases)
func dequantizedEqualsTheScalarDecodingOfTheLayout(_ type: QuantizationType) throws {
    var seeded = SeededBlocks(state: 31 + UInt64(type.rawValue))
    let w = try seeded.matrix(type, rows: 37, cols: 2 * 256)
    let reference = referenceDecode(w)
    let dense = w.dequantized()
    #expect(dense.shape == [37, 512])
    var mismatches = 0
    for i in 0..<w.rows {
        let row = w.dequantizeRow(i)
        for p in 0..<w.cols {
            let expected = reference[i][p].value
            // Bit equality: the same one-rounding-per-operation formula on the same fp16 scales.
            if dense[i, p].bitPattern != expected.bitPattern || row[p].bitPattern != expected.bitPattern { mismatches += 1 }
        }
    }
    #expect(mismatches == 0, "\(type): \(mismatches) elements differ from the layout's scalar decoding")
}

@Test(arguments: QuantizationType.allCases)
func byteCountsAndRowLengthsAreValidated(_ type: QuantizationType) throws {
    let rowBytes = type.bytesPerBlock * 2
    #expect(throws: QuantizationError.byteCountMismatch(type: type, rows: 3, cols: 2 * type.blockSize,
                                                       expected: 3 * rowBytes, actual: 3 * rowBytes - 1)) {
        try QuantizedMatrix(type: type, rows: 3, cols: 2 * type.blockSize, bytes: [UInt8](repeating: 0, count: 3 * rowBytes - 1))
    }
    #expect(throws: QuantizationError.columnsNotMultipleOfBlock(type: type, cols: type.blockSize + 16, blockSize: type.blockSize)) {
        try QuantizedMatrix(type: type, rows: 1, cols: type.blockSize + 16, bytes: [UInt8](repeating: 0, count: rowBytes))
    }
    let w = try QuantizedMatrix(type: type, rows: 3, cols: 2 * type.blockSize, bytes: [UInt8](repeating: 0, count: 3 * rowBytes))
    #expect(w.byteCount == 3 * rowBytes && w.rowBytes == rowBytes)
}

/// An owner standing in for a mapped file: counts how long the borrowed bytes stay alive.
private final class FakeMapping {
    let bytes: UnsafeMutableRawBufferPointer
    init(_ contents: [UInt8]) {
        bytes = .allocate(byteCount: contents.count, alignment: 64)
        bytes.copyBytes(from: contents)
    }
    deinit { bytes.deallocate() }
}

@Test func mappedMatrixBorrowsItsOwnersBytesWithoutCopying() throws {
    var seeded = SeededBlocks(state: 5)
    let owned = try seeded.matrix(.q4_1, rows: 4, cols: 64)
    weak var released: FakeMapping?
    let mapped: QuantizedMatrix
    do {
        let mapping = FakeMapping(owned.byteArray)
        released = mapping
        mapped = try QuantizedMatrix(type: .q4_1, rows: 4, cols: 64, mapped: UnsafeRawPointer(mapping.bytes.baseAddress!),
                                     byteCount: mapping.bytes.count, owner: mapping)
        #expect(mapped.bytes.base == UnsafeRawPointer(mapping.bytes.baseAddress!))
    }
    #expect(released != nil, "the matrix keeps its owner alive")
    #expect(mapped.dequantized() == owned.dequantized())
    #expect(throws: QuantizationError.self) {
        try QuantizedMatrix(type: .q4_1, rows: 5, cols: 64, mapped: mapped.bytes.base, byteCount: mapped.byteCount, owner: mapped.bytes)
    }
}

@Test(arguments: QuantizationType.allCases)
func rowsPermutedMovesWholeRows(_ type: QuantizationType) throws {
    var seeded = SeededBlocks(state: 9)
    let w = try seeded.matrix(type, rows: 6, cols: 256)
    let order = [3, 0, 5, 1, 4, 2]
    let permuted = w.rowsPermuted(order)
    #expect(permuted.shape == w.shape)
    let dense = w.dequantized(), moved = permuted.dequantized()
    for (i, source) in order.enumerated() { #expect(moved.row(i) == dense.row(source)) }
    #expect(Array(permuted.rowBlocks(0)) == Array(w.rowBlocks(3)))
}

/// Per element, the round-trip bound of each reference quantizer, from the stored fp16 scales of the
/// element's block: round to nearest puts every element within half a step d of its value, except
/// Q4_0's top level (the 16th level does not exist, so values within d of the far end clamp to 15).
/// fp16 scales are used as stored, so their rounding adds no error; a relative 2⁻²⁰ covers the float
/// rounding of x / d and d·q.
@Test(arguments: [QuantizationType.q8_0, .q4_0, .q4_1])
func quantizeThenDequantizeStaysWithinHalfAStep(_ type: QuantizationType) throws {
    var seeded = SeededMatrices(state: 17)
    var x = seeded.matrix(24, 128)
    for p in 0..<32 { x[1, p] = 0 }                    // an all-zero block
    for p in 32..<64 { x[1, p] = 3e4 * x[1, p] }       // a large one
    for p in 64..<96 { x[1, p] = 1e-3 * x[1, p] }      // a small one
    let q = try QuantizedMatrix.quantize(x, as: type)
    #expect(q.shape == x.shape && q.byteCount == 24 * 4 * type.bytesPerBlock)
    let back = q.dequantized(), blocks = q.byteArray
    var violations = 0
    for i in 0..<x.rows {
        for p in 0..<x.cols {
            let block = blocks[((i * x.cols + p) / 32 * type.bytesPerBlock)...]
            let d = Float(Float16(bitPattern: UInt16(block[block.startIndex]) | UInt16(block[block.startIndex + 1]) << 8))
            let clampedToTop = type == .q4_0 && back[i, p] == 7 * d
            let step = clampedToTop ? abs(d) : abs(d) / 2
            let bound = step + abs(x[i, p]) * 0x1p-20
            if abs(x[i, p] - back[i, p]) > bound { violations += 1 }
        }
    }
    #expect(violations == 0)
    #expect(back.row(1)[0..<32].allSatisfy { $0 == 0 })
}

@Test func quantizeRefusesTheKTypesAndPartialBlocks() {
    let x = Matrix(rows: 2, cols: 256)
    #expect(throws: QuantizationError.noQuantizer(.q4_K)) { try QuantizedMatrix.quantize(x, as: .q4_K) }
    #expect(throws: QuantizationError.columnsNotMultipleOfBlock(type: .q8_0, cols: 40, blockSize: 32)) {
        try QuantizedMatrix.quantize(Matrix(rows: 1, cols: 40), as: .q8_0)
    }
}
