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

/// Precomputed inverse frequencies for one head size, and a table of their cosines and sines for
/// the first `tablePositions` positions (the same Float32 `cosf`/`sinf` values as computed on the fly).
public struct RotaryEmbedding: Sendable {
    public let headDim: Int
    let inverseFrequencies: [Float]   // (headDim / 2)
    let tablePositions: Int
    let cosines: [Float]              // (tablePositions, headDim / 2)
    let sines: [Float]                // (tablePositions, headDim / 2)

    /// The table is capped so a 128k-context model does not hold 64 MB of it; later positions are
    /// computed per call.
    public static let maxTablePositions = 16_384

    public init(headDim: Int, theta: Double, scaling: RopeScaling, maxPositions: Int = RotaryEmbedding.maxTablePositions) {
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
        tablePositions = max(0, min(maxPositions, Self.maxTablePositions))
        var cosines = [Float](repeating: 0, count: tablePositions * half), sines = cosines
        for position in 0..<tablePositions {
            for i in 0..<half {
                let angle = Float(position) * frequencies[i]
                cosines[position * half + i] = cosf(angle)
                sines[position * half + i] = sinf(angle)
            }
        }
        self.cosines = cosines
        self.sines = sines
    }

    /// Rotates every head of `x` (tokens × heads·headDim) in place; row `t` sits at position
    /// `firstPosition + t`. For each pair (i, i + d/2): `(a, b) → (a·cos − b·sin, b·cos + a·sin)`.
    func apply(_ x: inout Matrix, heads: Int, firstPosition: Int) {
        precondition(x.cols == heads * headDim)
        let rows = x.rows
        x.storage.withUnsafeMutableBufferPointer { apply($0.baseAddress!, rows: rows, heads: heads, firstPosition: firstPosition) }
    }

    /// `apply` on `rows` rows of width heads·headDim starting at `x`.
    func apply(_ x: UnsafeMutablePointer<Float>, rows: Int, heads: Int, firstPosition: Int) {
        let half = headDim / 2
        let width = heads * headDim
        var computedCosines = [Float](repeating: 0, count: half), computedSines = computedCosines
        for t in 0..<rows {
            let position = firstPosition + t
            if position >= tablePositions {
                for i in 0..<half {
                    let angle = Float(position) * inverseFrequencies[i]
                    computedCosines[i] = cosf(angle)
                    computedSines[i] = sinf(angle)
                }
            }
            let table = position < tablePositions
            cosines.withUnsafeBufferPointer { tc in
                sines.withUnsafeBufferPointer { ts in
                    computedCosines.withUnsafeBufferPointer { cc in
                        computedSines.withUnsafeBufferPointer { cs in
                            let c = table ? tc.baseAddress! + position * half : cc.baseAddress!
                            let s = table ? ts.baseAddress! + position * half : cs.baseAddress!
                            for h in 0..<heads {
                                let head = x + t * width + h * headDim
                                for i in 0..<half {
                                    let a = head[i], b = head[i + half]
                                    head[i] = a * c[i] - b * s[i]
                                    head[i + half] = b * c[i] + a * s[i]
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
