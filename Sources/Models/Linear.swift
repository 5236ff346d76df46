// A linear layer as PyTorch's nn.Linear stores it, and the hook adapters use to change it.
import LinearAlgebra

/// `y = x · Wᵀ + b` with `weight` (out × in) and optional `bias` (out), as in `torch.nn.Linear`.
///
/// The weight is stored in float32, laid out in panels for Eckart's product kernel (`PanelMatrix`),
/// or as quantized blocks exactly as a GGUF file holds them (a QLoRA-style frozen base): the forward
/// pass multiplies by the blocks without widening them.
public struct Linear: Sendable {
    /// How the weight is held in memory.
    public enum Stored: Sendable {
        case dense(PanelMatrix)             // (out, in) float32, in panels for the product kernel
        case quantized(QuantizedMatrix)     // (out, in) blocks of a `QuantizationType`

        public var rows: Int {
            switch self {
            case .dense(let m): m.rows
            case .quantized(let q): q.rows
            }
        }

        public var cols: Int {
            switch self {
            case .dense(let m): m.cols
            case .quantized(let q): q.cols
            }
        }

        /// Writes row `i` in float32 to `out` (`cols` values): an embedding lookup.
        public func row(_ i: Int, into out: UnsafeMutablePointer<Float>) {
            switch self {
            case .dense(let m):
                m.row(i, into: out)
            case .quantized(let q):
                q.dequantizeRow(i, into: out)
            }
        }

        /// The whole matrix in float32, row-major (a copy: unpacked from panels or dequantized).
        public var dense: Matrix {
            switch self {
            case .dense(let m): m.unpacked
            case .quantized(let q): q.dequantized()
            }
        }

        /// Bytes the weight takes in memory.
        public var byteCount: Int {
            switch self {
            case .dense(let m): m.byteCount
            case .quantized(let q): q.byteCount
            }
        }

        /// `y[t] = W·x[t]` for `rows` rows of `x` (row stride `ldx`) into `y` (row stride `ldy`, overwritten).
        public func multiply(_ x: UnsafePointer<Float>, rows: Int, ldx: Int, into y: UnsafeMutablePointer<Float>, ldy: Int) {
            guard rows > 0 else { return }
            switch self {
            case .dense(let w):
                w.multiply(x, rows: rows, ldx: ldx, into: y, ldy: ldy)
            case .quantized(let q):
                q.multiply(x, rows: rows, ldx: ldx, into: y, ldy: ldy)
            }
        }
    }

    public let stored: Stored
    public let bias: [Float]?   // (out)

    public init(weight: Matrix, bias: [Float]? = nil) {
        self.init(stored: .dense(PanelMatrix(weight)), bias: bias)
    }

    public init(quantized: QuantizedMatrix, bias: [Float]? = nil) {
        self.init(stored: .quantized(quantized), bias: bias)
    }

    public init(stored: Stored, bias: [Float]? = nil) {
        precondition(bias == nil || bias!.count == stored.rows, "bias length \(bias!.count) != out features \(stored.rows)")
        self.stored = stored
        self.bias = bias
    }

    public var inFeatures: Int { stored.cols }
    public var outFeatures: Int { stored.rows }

    /// The weight in float32 (out × in), row-major: a new matrix on every call, unpacked from the
    /// panels or dequantized from the blocks. For merging (`W + s·B·A` is built from the dequantized weight and never
    /// re-quantized), DoRA's row norms and diagnostics; the forward pass uses `stored` directly.
    public var weight: Matrix { stored.dense }

    /// The block type when the weight is quantized, nil for float32.
    public var quantization: QuantizationType? {
        if case .quantized(let q) = stored { return q.type }
        return nil
    }

    /// `x` (tokens × in) → (tokens × out).
    public func callAsFunction(_ x: Matrix) -> Matrix {
        var y = Matrix(rows: x.rows, cols: outFeatures)
        apply(x, into: &y)
        return y
    }

    /// `self(x)` written into `y` (tokens × out, overwritten).
    public func apply(_ x: Matrix, into y: inout Matrix) {
        precondition(x.cols == inFeatures, "input is \(x.shape), layer takes \(inFeatures) features")
        precondition(y.shape == [x.rows, outFeatures], "output is \(y.shape), layer gives \([x.rows, outFeatures])")
        x.storage.withUnsafeBufferPointer { xs in
            y.storage.withUnsafeMutableBufferPointer { ys in
                stored.multiply(xs.baseAddress!, rows: x.rows, ldx: x.cols, into: ys.baseAddress!, ldy: outFeatures)
            }
        }
        if let bias { y.addRowVector(bias) }
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
