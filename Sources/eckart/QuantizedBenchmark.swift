// Quantized weights against Float32 on SmolLM2-135M's linear shapes (hidden 576, 3 KV heads of 64,
// intermediate 1536, vocabulary 49152): y (m × n) = x (m × k) · Wᵀ for one row (a decode step) and
// 16 (a batch of decode steps), in GB/s of weight bytes read and as a fraction of the machine's
// measured memory bandwidth (the whole model's linear layers summed, for the types that fit every
// shape); and 128 rows (a prefill) in GFLOP/s, against F32 sgemm.
//
// A decode step reads every weight once, from memory, not from cache: each measurement cycles
// through enough distinct copies of the weight (≥ 4 × the 32 MiB L3 of the benchmark machine) that
// none is cached when it is used again.
import Dispatch
import LinearAlgebra

enum QuantizedBenchmark {
    /// (rows out, cols in, uses per forward pass) of every linear weight of SmolLM2-135M-Instruct:
    /// q_proj and o_proj, k_proj and v_proj, gate and up, down per layer (30 layers), and the tied
    /// embedding as lm_head.
    static let shapes: [(n: Int, k: Int, perModel: Int)] = [
        (576, 576, 60), (192, 576, 60), (1536, 576, 60), (576, 1536, 30), (49152, 576, 1),
    ]
    static let types: [QuantizationType?] = [nil, .q8_0, .q4_1, .q4_0, .q4_K]   // nil: F32
    static let workingSetBytes = 128 << 20

    static func run(repetitions: Int = 8) -> [String: Any] {
        let bandwidth = MemoryBandwidth.measure(threads: BLAS.threadCount)
        var gbPerSecond: [String: [String: [String: Double]]] = [:]
        var prefill: [String: [String: Double]] = [:]
        var modelSeconds: [String: [String: Double]] = [:], modelBytes: [String: Int] = [:]
        for (n, k, perModel) in shapes {
            let weight = Matrix(rows: n, cols: k, storage: (0..<(n * k)).map { Float(($0 &* 7919) % 2001 - 1000) * 1e-4 })
            // 576 is not a multiple of 256, which is why SmolLM2's GGUF falls back to Q4_1 and Q8_0:
            // a K type is timed only on the down projection (k = 1536).
            for type in types where k % (type?.blockSize ?? 1) == 0 {
                let name = type?.name ?? "F32"
                let product = Product(weight: weight, type: type)
                let copies = product.copies(max(1, (workingSetBytes + product.bytes - 1) / product.bytes))
                modelBytes[name, default: 0] += perModel * product.bytes
                for m in [1, 16] {
                    let seconds = copies.time(m: m, repetitions: repetitions) / Double(copies.count)
                    let rate = Double(product.bytes) / seconds / 1e9
                    gbPerSecond[name, default: [:]]["\(n)x\(k)", default: [:]]["m\(m)"] = rounded(rate, 2)
                    modelSeconds[name, default: [:]]["m\(m)", default: 0] += Double(perModel) * seconds
                }
                let prefillSeconds = product.copies(1).time(m: 128, repetitions: 3)
                prefill[name, default: [:]]["\(n)x\(k)"] = rounded(2 * 128 * Double(n * k) / prefillSeconds / 1e9, 1)
            }
        }
        var model: [String: Any] = [:]
        let paths = pathComparison(repetitions: repetitions)
        for (name, seconds) in modelSeconds where name != QuantizationType.q4_K.name {
            let decode = seconds["m1"]!
            model[name] = [
                "decode_step_ms": rounded(decode * 1000, 2),
                "decode_16_rows_ms": rounded(seconds["m16"]! * 1000, 2),
                "weight_mb": rounded(Double(modelBytes[name]!) / 1e6, 1),
                "fraction_of_bandwidth": rounded(Double(modelBytes[name]!) / decode / bandwidth, 3),
                "decode_speedup_vs_f32": rounded(modelSeconds["F32"]!["m1"]! / decode, 2),
            ]
        }
        return ["quantized_memory_bandwidth_gbs": rounded(bandwidth / 1e9, 2),
                "quantized_weight_gbs": gbPerSecond, "quantized_prefill_128_gflops": prefill,
                "quantized_smollm2_linear_layers": model, "quantized_path_ms_1536x576": paths, "quantized_kernel": BLAS.kernelPath,
                "quantized_integer_row_limit": QuantizedMatrix.integerProductRowLimit]
    }
}

extension QuantizedBenchmark {
    /// Milliseconds per 1536 × 576 product (gate/up) on each path for 1, 4 and 16 rows, with F32 `gemm`
    /// alongside: where the integer path stops winning is `QuantizedMatrix.integerProductRowLimit`.
    static func pathComparison(repetitions: Int) -> [String: [String: [String: Double]]] {
        let (n, k) = (1536, 576)
        let weight = Matrix(rows: n, cols: k, storage: (0..<(n * k)).map { Float(($0 &* 7919) % 2001 - 1000) * 1e-4 })
        var out: [String: [String: [String: Double]]] = [:]
        for type in [nil, QuantizationType.q8_0, .q4_1] {
            let product = Product(weight: weight, type: type)
            let copies = product.copies(max(1, workingSetBytes / 2 / product.bytes))
            for m in [1, 4, 16] {
                for path in type == nil ? [nil] : QuantizedProductPath.allCases.map(Optional.some) {
                    let seconds = copies.time(m: m, repetitions: repetitions, path: path) / Double(copies.count)
                    let name = path.map { "\($0)" } ?? "gemm"
                    out[type?.name ?? "F32", default: [:]]["m\(m)", default: [:]][name] = rounded(seconds * 1000, 4)
                }
            }
        }
        return out
    }
}

/// One weight as F32 (through `gemm`) or in blocks (through `QuantizedMatrix.multiply`).
private struct Product {
    let dense: Matrix?
    let quantized: QuantizedMatrix?

    init(weight: Matrix, type: QuantizationType?) {
        switch type {
        case nil: (dense, quantized) = (weight, nil)
        case .some(let type) where type.blockSize == 32: (dense, quantized) = (nil, try! QuantizedMatrix.quantize(weight, as: type))
        case .some(let type): (dense, quantized) = (nil, Self.randomBlocks(type, rows: weight.rows, cols: weight.cols))
        }
    }

    private init(dense: Matrix?, quantized: QuantizedMatrix?) { (self.dense, self.quantized) = (dense, quantized) }

    /// The K types have no quantizer here: random quants under small fp16 scales time the same.
    static func randomBlocks(_ type: QuantizationType, rows: Int, cols: Int) -> QuantizedMatrix {
        var state: UInt64 = 1
        var bytes = (0..<(rows * cols / type.blockSize * type.bytesPerBlock)).map { _ in
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return UInt8(truncatingIfNeeded: state >> 33)
        }
        let scale = Float16(1e-3).bitPattern
        for block in stride(from: 0, to: bytes.count, by: type.bytesPerBlock) {
            for offset in type == .q6_K ? [208] : [0, 2] {
                bytes[block + offset] = UInt8(scale & 0xff)
                bytes[block + offset + 1] = UInt8(scale >> 8)
            }
        }
        return try! QuantizedMatrix(type: type, rows: rows, cols: cols, bytes: bytes)
    }

    var rows: Int { dense?.rows ?? quantized!.rows }
    var cols: Int { dense?.cols ?? quantized!.cols }
    var bytes: Int { dense.map { $0.count * 4 } ?? quantized!.byteCount }

    /// `count` copies in distinct memory.
    func copies(_ count: Int) -> [Product] {
        (0..<count).map { _ in
            if let dense { return Product(dense: Matrix(rows: dense.rows, cols: dense.cols, storage: dense.storage.map { $0 }), quantized: nil) }
            let q = quantized!
            return Product(dense: nil, quantized: try! QuantizedMatrix(type: q.type, rows: q.rows, cols: q.cols, bytes: q.byteArray))
        }
    }

    func multiply(_ x: UnsafePointer<Float>, m: Int, into y: UnsafeMutablePointer<Float>, path: QuantizedProductPath? = nil) {
        if let dense {
            dense.storage.withUnsafeBufferPointer { w in
                gemm(.none, .transpose, m: m, n: rows, k: cols, a: x, lda: cols, b: w.baseAddress!, ldb: cols, c: y, ldc: rows)
            }
        } else {
            quantized!.multiply(x, rows: m, ldx: cols, into: y, ldy: rows, path: path)
        }
    }
}

private extension Array where Element == Product {
    /// Seconds for one product with each copy in turn, m rows; the fastest of `repetitions` rounds
    /// after one warm-up round.
    func time(m: Int, repetitions: Int, path: QuantizedProductPath? = nil) -> Double {
        let k = self[0].cols, n = self[0].rows
        let x = (0..<(m * k)).map { Float($0 % 7) * 0.1 - 0.3 }
        var y = [Float](repeating: 0, count: m * n)
        var best = Double.infinity
        x.withUnsafeBufferPointer { xs in
            y.withUnsafeMutableBufferPointer { ys in
                for round in 0...repetitions {
                    let start = DispatchTime.now()
                    for product in self { product.multiply(xs.baseAddress!, m: m, into: ys.baseAddress!, path: path) }
                    if round > 0 { best = Swift.min(best, seconds(since: start)) }
                }
            }
        }
        return best
    }
}
