// ggml's tensor types as GGUF stores them: the type id, and how many elements a block holds in how
// many bytes (ggml.c's type traits). Every known type is listed so that sizes are validated for any
// file; which of them a model can run on is decided where the weights are loaded.

public struct GGUFTensorType: Sendable, Hashable, CustomStringConvertible {
    public let id: UInt32
    public let name: String
    /// Elements per block (1 for plain floats and integers).
    public let blockSize: Int
    public let bytesPerBlock: Int

    public var description: String { name }

    /// The type with ggml id `id`, nil when unknown.
    public init?(id: UInt32) {
        guard let entry = Self.table[id] else { return nil }
        self = entry
    }

    private init(_ id: UInt32, _ name: String, _ blockSize: Int, _ bytesPerBlock: Int) {
        self.id = id
        self.name = name
        self.blockSize = blockSize
        self.bytesPerBlock = bytesPerBlock
    }

    public static let f32 = GGUFTensorType(0, "F32", 1, 4)
    public static let f16 = GGUFTensorType(1, "F16", 1, 2)
    public static let bf16 = GGUFTensorType(30, "BF16", 1, 2)

    private static let table: [UInt32: GGUFTensorType] = Dictionary(uniqueKeysWithValues: [
        f32, f16,
        GGUFTensorType(2, "Q4_0", 32, 18), GGUFTensorType(3, "Q4_1", 32, 20),
        GGUFTensorType(6, "Q5_0", 32, 22), GGUFTensorType(7, "Q5_1", 32, 24),
        GGUFTensorType(8, "Q8_0", 32, 34), GGUFTensorType(9, "Q8_1", 32, 36),
        GGUFTensorType(10, "Q2_K", 256, 84), GGUFTensorType(11, "Q3_K", 256, 110),
        GGUFTensorType(12, "Q4_K", 256, 144), GGUFTensorType(13, "Q5_K", 256, 176),
        GGUFTensorType(14, "Q6_K", 256, 210), GGUFTensorType(15, "Q8_K", 256, 292),
        GGUFTensorType(16, "IQ2_XXS", 256, 66), GGUFTensorType(17, "IQ2_XS", 256, 74),
        GGUFTensorType(18, "IQ3_XXS", 256, 98), GGUFTensorType(19, "IQ1_S", 256, 50),
        GGUFTensorType(20, "IQ4_NL", 32, 18), GGUFTensorType(21, "IQ3_S", 256, 110),
        GGUFTensorType(22, "IQ2_S", 256, 82), GGUFTensorType(23, "IQ4_XS", 256, 136),
        GGUFTensorType(24, "I8", 1, 1), GGUFTensorType(25, "I16", 1, 2),
        GGUFTensorType(26, "I32", 1, 4), GGUFTensorType(27, "I64", 1, 8),
        GGUFTensorType(28, "F64", 1, 8), GGUFTensorType(29, "IQ1_M", 256, 56),
        bf16,
    ].map { ($0.id, $0) })
}
