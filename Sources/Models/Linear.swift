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

/// One low-rank update `ΔW = scale · B·A` as the forward pass applies it unmerged.
public struct LowRankDelta: Sendable {
    public let a: Matrix          // (r, in)
    public let b: Matrix          // (out, r)
    public let scale: Float
    /// DoRA: `m / ‖W + scale·B·A‖_row` (out), applied to `W·x + scale·B·A·x` before the bias.
    public let rowScale: [Float]?

    public init(a: Matrix, b: Matrix, scale: Float, rowScale: [Float]?) {
        self.a = a
        self.b = b
        self.scale = scale
        self.rowScale = rowScale
    }

    public var rank: Int { a.rows }
}

/// How an overlay changes one linear module.
public enum ModuleChange: Sendable {
    /// The rows run on this layer instead of the base (merged weights `W' = W + s·B·A`).
    case replaced(Linear)
    /// The rows run on the base plus these deltas (unmerged; several when adapters are composed).
    case delta([LowRankDelta])
}

/// A per-request change to some of a model's linear layers: what an adapter is to the engine.
///
/// Modules are addressed by their index in the model's `linearModules`, resolved once when the
/// overlay is built, so the forward pass never looks a module up by name.
public protocol LinearOverlay: Sendable {
    /// The change to module `index` of the model's `linearModules`, or nil to leave it alone.
    func change(ofModule index: Int) -> ModuleChange?
    /// Overlays with equal keys change every module the same way, so the batched forward pass may
    /// run their rows as one segment (one shrink and one expand GEMM for all of them).
    var batchKey: AnyHashable { get }
    /// One stacked shrink for modules that read the same input (`modules`, one of the model's
    /// `sharedInputGroups`), if this overlay has deltas for several of them.
    func sharedShrink(forModules modules: [Int]) -> SharedShrink?
}

extension LinearOverlay {
    public func sharedShrink(forModules modules: [Int]) -> SharedShrink? { nil }
}

/// A contiguous run of rows in a batched forward pass that share one overlay (nil: the base).
public struct RowSegment: Sendable {
    public var rows: Range<Int>
    public var overlay: (any LinearOverlay)?

    public init(rows: Range<Int>, overlay: (any LinearOverlay)?) {
        self.rows = rows
        self.overlay = overlay
    }
}

/// A linear module's name and shape, as adapters see it.
public struct LinearModuleInfo: Sendable, Equatable {
    public let name: String
    public let outFeatures: Int
    public let inFeatures: Int
}
