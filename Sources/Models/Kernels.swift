// Elementwise and row-wise kernels of the forward passes: norms, activations, softmax.
// All run in Float32 exactly as transformers computes them in fp32.
import CKernels
import Foundation
import LinearAlgebra

/// Llama's RMSNorm: `x / sqrt(mean(x²) + eps) * weight`, per row.
func rmsNorm(_ x: Matrix, weight: [Float], eps: Float) -> Matrix {
    var out = Matrix(rows: x.rows, cols: x.cols)
    rmsNorm(x, weight: weight, eps: eps, into: &out)
    return out
}

/// `rmsNorm` written into `out` (same shape as `x`).
func rmsNorm(_ x: Matrix, weight: [Float], eps: Float, into out: inout Matrix) {
    precondition(out.shape == x.shape, "output is \(out.shape), input \(x.shape)")
    let n = x.cols
    x.storage.withUnsafeBufferPointer { src in
        out.storage.withUnsafeMutableBufferPointer { dst in
            for i in 0..<x.rows {
                let row = src.baseAddress! + i * n
                var sumSquares: Float = 0
                for j in 0..<n { sumSquares += row[j] * row[j] }
                let inverse = 1 / (sumSquares / Float(n) + eps).squareRoot()
                let target = dst.baseAddress! + i * n
                for j in 0..<n { target[j] = weight[j] * (row[j] * inverse) }
            }
        }
    }
}

/// `torch.nn.LayerNorm`: `(x - mean) / sqrt(var + eps) * weight + bias`, per row, biased variance.
func layerNorm(_ x: Matrix, weight: [Float], bias: [Float], eps: Float) -> Matrix {
    var out = Matrix(rows: x.rows, cols: x.cols)
    let n = x.cols
    x.storage.withUnsafeBufferPointer { src in
        out.storage.withUnsafeMutableBufferPointer { dst in
            for i in 0..<x.rows {
                let row = src.baseAddress! + i * n
                var mean: Float = 0
                for j in 0..<n { mean += row[j] }
                mean /= Float(n)
                var variance: Float = 0
                for j in 0..<n { variance += (row[j] - mean) * (row[j] - mean) }
                variance /= Float(n)
                let inverse = 1 / (variance + eps).squareRoot()
                let target = dst.baseAddress! + i * n
                for j in 0..<n { target[j] = (row[j] - mean) * inverse * weight[j] + bias[j] }
            }
        }
    }
    return out
}

/// The activations named by `hidden_act` in transformers' ACT2FN.
public enum Activation: String, Sendable {
    case silu, gelu, geluNew = "gelu_new", geluTanh = "gelu_pytorch_tanh", relu

    init(configName: String) throws {
        switch configName {
        case "silu", "swish": self = .silu
        case "gelu": self = .gelu
        case "gelu_new", "gelu_fast": self = .geluNew
        case "gelu_pytorch_tanh": self = .geluTanh
        case "relu": self = .relu
        default: throw ModelError.unsupportedActivation(configName)
        }
    }

    @inline(__always)
    func callAsFunction(_ x: Float) -> Float {
        switch self {
        case .silu: return x / (1 + expf(-x))
        case .gelu: return 0.5 * x * (1 + erff(x * 0.70710678118654752))
        case .geluNew, .geluTanh:
            return 0.5 * x * (1 + tanhf(0.79788456080286536 * (x + 0.044715 * x * x * x)))
        case .relu: return max(0, x)
        }
    }

    /// A gated MLP's product in place, as the loop
    ///
    ///     for i in gate.indices { gate[i] = activation(gate[i]) · up[i] }
    ///
    /// with silu (SwiGLU) vectorized by `eckart_silu_gate`, within 2 ulp of `expf` in its exponential.
    func gate(_ gate: inout Matrix, by up: Matrix) {
        precondition(gate.shape == up.shape, "gate \(gate.shape) and up \(up.shape) differ")
        gate.storage.withUnsafeMutableBufferPointer { g in
            up.storage.withUnsafeBufferPointer { u in
                guard let gBase = g.baseAddress, let uBase = u.baseAddress else { return }
                if self == .silu {
                    eckart_silu_gate(g.count, gBase, uBase)
                } else {
                    for i in 0..<g.count { gBase[i] = self(gBase[i]) * uBase[i] }
                }
            }
        }
    }

    /// Applies the activation to every element in place (erf GELU vectorized by `eckart_gelu`).
    func apply(_ x: inout Matrix) {
        x.storage.withUnsafeMutableBufferPointer { v in
            guard let base = v.baseAddress else { return }
            if self == .gelu {
                eckart_gelu(v.count, base)
            } else {
                for i in 0..<v.count { v[i] = self(v[i]) }
            }
        }
    }
}

/// Softmax over `count` values in place, with max subtraction as torch does.
@inline(__always)
func softmaxInPlace(_ v: UnsafeMutablePointer<Float>, count: Int) {
    var maximum = -Float.infinity
    for j in 0..<count { maximum = max(maximum, v[j]) }
    var sum: Float = 0
    for j in 0..<count {
        let e = expf(v[j] - maximum)
        v[j] = e
        sum += e
    }
    let inverse = 1 / sum
    for j in 0..<count { v[j] *= inverse }
}
