// The float32 weights a model quantized at load (`eckart serve --quantize`) was made from, read back
// from the still-mapped safetensors files on demand: the quantization diagnostics compare them with
// what the forward pass uses. Nothing is kept in memory beyond the mapping.
import Formats
import LinearAlgebra

public struct OriginalWeights: Sendable {
    let files: [String: SafetensorsFile]

    /// The float32 weight of linear module `name` (`name + ".weight"`), nil if the files lack it.
    public func weight(ofModule name: String) -> Matrix? {
        let tensor = name + ".weight"
        guard let file = files[tensor] else { return nil }
        return try? file.matrix(tensor)
    }
}
