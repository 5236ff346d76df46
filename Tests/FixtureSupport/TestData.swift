// Test data made in code: seeded random matrices, and edited copies of safetensors files.
import Foundation
import Formats
import LinearAlgebra

/// Deterministic matrices with entries in [-1, 1) from a 64-bit LCG (fixed seed, same on every run).
public struct SeededMatrices {
    public var state: UInt64

    public init(state: UInt64) {
        self.state = state
    }

    public mutating func matrix(_ rows: Int, _ cols: Int) -> Matrix {
        Matrix(rows: rows, cols: cols, storage: (0..<(rows * cols)).map { _ in
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Float(Int64(bitPattern: state >> 11) % 2000) / 1000 - 1
        })
    }
}

extension Fixtures {
    /// Rewrites the floating-point tensors of the safetensors file at `url` through `edit` (as F32).
    public static func rewriteTensors(at url: URL, _ edit: (inout [String: (shape: [Int], values: [Float])]) -> Void) throws {
        let file = try SafetensorsFile(contentsOf: url)
        var tensors: [String: (shape: [Int], values: [Float])] = [:]
        for name in file.tensorNames where SafetensorsDType.convertibleToFloat.contains(file.info(name)!.dtype) {
            tensors[name] = (file.info(name)!.shape, try file.floats(name))
        }
        edit(&tensors)
        try Data(SafetensorsWriter.serialize(tensors: tensors.map { ($0.key, $0.value.shape, $0.value.values) })).write(to: url)
    }
}
