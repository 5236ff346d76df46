// What quantizing a base weight loses, and whether an adapter lives where the loss is.
//
// For a module with float weight W and block type T, the quantization error is
//
//     E = W − dequant(Q_T(W))
//
// reported as ‖E‖_F / ‖W‖_F, the top singular values of E (through LAPACK's thin SVD, as base
// spectra are), and, for an adapter's update ΔW = s·B·A (its singular vectors from the QR route,
// LowRankSpectrum.factorization, never the m × n product):
//
//     ‖ΔW‖_F next to ‖E‖_F
//     left overlap  = ‖U_E,Kᵀ · U_Δ‖²_F / r   ∈ [0, 1]   (random r-dimensional subspace: K/m)
//     right overlap = ‖V_E,Kᵀ · V_Δ‖²_F / r             (random: K/n)
//
// with U_E,K, V_E,K the top-K singular vectors of E and r ΔW's numerical rank: the share of the
// adapter's update that lies in the directions where quantization moved the weight most. QLoRA trains
// adapters on a quantized base, so an adapter may partly learn to undo the quantization error; a high
// overlap (against the random baseline) says so.
import Adapters
import LinearAlgebra

/// One module's quantization error, and an adapter's update next to it.
public struct ModuleQuantizationError: Sendable {
    public let name: String
    public let shape: [Int]   // [out, in]
    public let type: QuantizationType
    /// ‖W‖_F and ‖E‖_F.
    public let weightNorm: Double
    public let errorNorm: Double
    public var relativeError: Double { weightNorm > 0 ? errorNorm / weightNorm : 0 }
    /// The largest singular values of E, descending.
    public let topSingularValues: [Float]
    /// Present when an adapter updates this module.
    public let update: UpdateComparison?

    public struct UpdateComparison: Sendable {
        /// ‖s·B·A‖_F.
        public let norm: Double
        /// r, the update's numerical rank, and K, how many of E's top singular vectors were compared.
        public let rank: Int
        public let top: Int
        public let leftOverlap: Double
        public let rightOverlap: Double
        public let randomLeftOverlap: Double
        public let randomRightOverlap: Double
    }
}

public enum QuantizationLoss {
    /// The error of quantizing `weight` (out × in) to `type` and what is left of it after `served`,
    /// its dequantized copy (nil: quantize `weight` to `type` here).
    /// - Parameters:
    ///   - top: how many singular values of E to report and compare against the update (K).
    ///   - update: the adapter's update of this module, if any.
    public static func module(name: String, weight: Matrix, type: QuantizationType, served: Matrix? = nil, top: Int = 8,
                              update: LoRAUpdate? = nil) throws -> ModuleQuantizationError {
        let (m, n) = (weight.rows, weight.cols)
        let dequantized = try served ?? QuantizedMatrix.quantize(weight, as: type).dequantized()
        precondition(dequantized.shape == weight.shape, "\(name): quantized copy \(dequantized.shape) vs W \(weight.shape)")
        var error = weight
        error.subtract(dequantized)
        let svd = try error.svd()
        let k = min(top, svd.singularValues.count)

        var comparison: ModuleQuantizationError.UpdateComparison? = nil
        if let update {
            precondition([update.b.rows, update.a.cols] == weight.shape, "update of \(name) does not match W \(weight.shape)")
            let delta = try LowRankSpectrum.factorization(b: update.b, a: update.a, scale: update.scale)
            let r = delta.numericalRank
            func share(_ product: Matrix) -> Double {
                r > 0 ? product.storage.reduce(0.0) { $0 + Double($1) * Double($1) } / Double(r) : 0
            }
            let left = share(firstColumns(svd.u, k).transposedTimes(firstColumns(delta.u, r)))     // (K, r)
            let right = share(svd.vt.rows(0..<k).times(firstColumns(delta.v, r)))                  // (K, r)
            let norm = delta.singularValues.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
            comparison = .init(norm: norm, rank: r, top: k, leftOverlap: left, rightOverlap: right,
                               randomLeftOverlap: Double(k) / Double(m), randomRightOverlap: Double(k) / Double(n))
        }
        return ModuleQuantizationError(
            name: name, shape: [m, n], type: type, weightNorm: frobeniusNorm(weight), errorNorm: frobeniusNorm(error),
            topSingularValues: Array(svd.singularValues.prefix(k)), update: comparison)
    }

    static func frobeniusNorm(_ m: Matrix) -> Double {
        m.storage.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
    }
}
