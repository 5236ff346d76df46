// Why a block of quantized weights cannot be taken as a matrix.

/// A quantized matrix whose shape and bytes disagree.
public enum QuantizationError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The row length is not a whole number of blocks.
    case columnsNotMultipleOfBlock(type: QuantizationType, cols: Int, blockSize: Int)
    /// The bytes are not exactly rows × cols / blockSize blocks.
    case byteCountMismatch(type: QuantizationType, rows: Int, cols: Int, expected: Int, actual: Int)
    /// `quantize(_:as:)` has a reference quantizer for Q8_0, Q4_0 and Q4_1 only.
    case noQuantizer(QuantizationType)
    /// A negative dimension.
    case negativeShape(rows: Int, cols: Int)

    public var description: String {
        switch self {
        case .columnsNotMultipleOfBlock(let type, let cols, let blockSize):
            "\(type) rows of \(cols) elements are not whole blocks of \(blockSize)"
        case .byteCountMismatch(let type, let rows, let cols, let expected, let actual):
            "\(type) [\(rows), \(cols)] takes \(expected) bytes, got \(actual)"
        case .noQuantizer(let type):
            "no quantizer for \(type): Eckart quantizes to Q8_0, Q4_0 or Q4_1"
        case .negativeShape(let rows, let cols):
            "negative shape [\(rows), \(cols)]"
        }
    }
}
