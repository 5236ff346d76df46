// Rotary position embeddings (Su et al. 2021, "RoFormer"), in the rotate-half layout of
// transformers' LlamaRotaryEmbedding, with the "linear" and "llama3" inverse-frequency rules of
// transformers' modeling_rope_utils.
import Foundation
import LinearAlgebra

/// How RoPE's inverse frequencies are scaled.
public enum RopeScaling: Sendable, Equatable {
    case none
    /// Position interpolation: every inverse frequency divided by `factor`.
    case linear(factor: Double)
    /// Llama 3.1: long wavelengths divided by `factor`, short ones kept, a smooth blend between.
    case llama3(factor: Double, lowFreqFactor: Double, highFreqFactor: Double, originalMaxPositions: Int)
}

/// Precomputed inverse frequencies for one head size.
public struct RotaryEmbedding: Sendable {
    public let headDim: Int
    let inverseFrequencies: [Float]   // (headDim / 2)

    public init(headDim: Int, theta: Double, scaling: RopeScaling) {
        self.headDim = headDim
        let half = headDim / 2
        // inv_freq[i] = 1 / theta^(2i / d), as float32.
        var frequencies = (0..<half).map { i in Float(1.0 / pow(theta, Double(2 * i) / Double(headDim))) }
        switch scaling {
        case .none:
            break
        case .linear(let factor):
            frequencies = frequencies.map { $0 / Float(factor) }
        case .llama3(let factor, let low, let high, let original):
            let lowFreqWavelength = Double(original) / low
            let highFreqWavelength = Double(original) / high
            frequencies = frequencies.map { f in
                let wavelength = 2 * Double.pi / Double(f)
                if wavelength < highFreqWavelength { return f }
                if wavelength > lowFreqWavelength { return f / Float(factor) }
                let smooth = Float((Double(original) / wavelength - low) / (high - low))
                return (1 - smooth) * f / Float(factor) + smooth * f
            }
        }
        self.inverseFrequencies = frequencies
    }

    /// Rotates every head of `x` (tokens × heads·headDim) in place; row `t` sits at position
    /// `firstPosition + t`. For each pair (i, i + d/2): `(a, b) → (a·cos − b·sin, b·cos + a·sin)`.
    func apply(_ x: inout Matrix, heads: Int, firstPosition: Int) {
        let half = headDim / 2
        let width = x.cols
        precondition(width == heads * headDim)
        var cosines = [Float](repeating: 0, count: half)
        var sines = [Float](repeating: 0, count: half)
        x.storage.withUnsafeMutableBufferPointer { buffer in
            for t in 0..<x.rows {
                let position = Float(firstPosition + t)
                for i in 0..<half {
                    let angle = position * inverseFrequencies[i]
                    cosines[i] = cosf(angle)
                    sines[i] = sinf(angle)
                }
                for h in 0..<heads {
                    let head = buffer.baseAddress! + t * width + h * headDim
                    for i in 0..<half {
                        let a = head[i], b = head[i + half]
                        head[i] = a * cosines[i] - b * sines[i]
                        head[i + half] = b * cosines[i] + a * sines[i]
                    }
                }
            }
        }
    }
}
