// The GGUF block types Eckart keeps quantized in memory: llama.cpp's layouts (ggml-common.h), by the
// type ids GGUF files store.
import CKernels

/// A llama.cpp block quantization: how a run of elements is stored as one block of bytes.
public enum QuantizationType: Int, Sendable, CaseIterable, CustomStringConvertible {
    /// 32 elements: fp16 d, 32 × int8 q; value d·q.
    case q8_0 = 8
    /// 32 elements: fp16 d, 16 bytes of nibbles; value d·(q − 8).
    case q4_0 = 2
    /// 32 elements: fp16 d, fp16 m, 16 bytes of nibbles; value d·q + m.
    case q4_1 = 3
    /// 256 elements: fp16 d, fp16 dmin, 12 bytes of 6-bit scales and mins, 128 bytes of nibbles.
    case q4_K = 12
    /// 256 elements: as Q4_K plus 32 bytes of fifth bits.
    case q5_K = 13
    /// 256 elements: 128 bytes low nibbles, 64 bytes 2-bit highs, 16 int8 scales, fp16 d; value d·s·(q − 32).
    case q6_K = 14

    /// The type for a GGUF `ggml_type` id, or nil when Eckart does not keep that type quantized.
    public init?(ggufTypeID: Int) { self.init(rawValue: ggufTypeID) }

    /// The id GGUF files store for this type.
    public var ggufTypeID: Int { rawValue }

    /// Elements per block: 32, or 256 for the K (super-block) types.
    public var blockSize: Int { Int(eckart_quantized_block_elements(Int32(rawValue))) }

    /// Bytes per block as stored.
    public var bytesPerBlock: Int { Int(eckart_quantized_block_bytes(Int32(rawValue))) }

    /// llama.cpp's name: "Q8_0", "Q4_K", ...
    public var name: String {
        switch self {
        case .q8_0: "Q8_0"
        case .q4_0: "Q4_0"
        case .q4_1: "Q4_1"
        case .q4_K: "Q4_K"
        case .q5_K: "Q5_K"
        case .q6_K: "Q6_K"
        }
    }

    public var description: String { name }

    /// Bits stored per element, scales included (8.5 for Q8_0, 4.5 for Q4_0, ...).
    public var bitsPerElement: Double { Double(bytesPerBlock * 8) / Double(blockSize) }
}
