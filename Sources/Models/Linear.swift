// A linear layer as PyTorch's nn.Linear stores it, and the hook adapters use to change it.
import LinearAlgebra

/// `y = x · Wᵀ + b` with `weight` (out × in) and optional `bias` (out), as in `torch.nn.Linear`.
public struct Linear: Sendable {
    public let weight: Matrix   // (out, in)
    public let bias: [Float]?   // (out)

    public init(weight: Matrix, bias: [Float]? = nil) {
        precondition(bias == nil || bias!.count == weight.rows, "bias length \(bias!.count) != out features \(weight.rows)")
        self.weight = weight
        self.bias = bias
    }

    public var inFeatures: Int { weight.cols }
    public var outFeatures: Int { weight.rows }

    /// `x` (tokens × in) → (tokens × out).
    public func callAsFunction(_ x: Matrix) -> Matrix {
        var y = x.timesTransposed(weight)
        if let bias { y.addRowVector(bias) }
        return y
    }
}

/// A per-request change to some of a model's linear layers: what an adapter is to the engine.
///
/// The model calls `output(of:base:input:)` for every linear module on the forward path; an overlay
/// returns the changed output for the modules it adapts and nil for the rest (which then run as `base`).
public protocol LinearOverlay: Sendable {
    /// `base(x)` as this overlay changes it for the module named `module` (Hugging Face path,
    /// e.g. `model.layers.0.self_attn.q_proj`), or nil to leave the module alone.
    func output(of module: String, base: Linear, input x: Matrix) -> Matrix?
}

extension Linear {
    /// Runs this layer, letting `overlay` replace it for `module`.
    @inline(__always)
    func callAsFunction(_ x: Matrix, module: String, overlay: (any LinearOverlay)?) -> Matrix {
        overlay?.output(of: module, base: self, input: x) ?? self(x)
    }
}

/// A linear module's name and shape, as adapters see it.
public struct LinearModuleInfo: Sendable, Equatable {
    public let name: String
    public let outFeatures: Int
    public let inFeatures: Int
}
