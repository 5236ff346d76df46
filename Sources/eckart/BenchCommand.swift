// `eckart bench`: engine throughput against the machine's own sgemm, measured in the same run.
import Adapters
import ArgumentParser
import Foundation
import LinearAlgebra
import Models

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Benchmark a Llama-shaped random model: prefill efficiency, LoRA overhead, merging, spectra, sampling. Prints one JSON object.")

    @Option(help: "Hidden size of the random model.") var hidden = 1024
    @Option(help: "Decoder layers.") var layers = 4
    @Option(help: "Prompt length for prefill.") var tokens = 128
    @Option(help: "Vocabulary size.") var vocabulary = 32000
    @Option(help: "Timed rounds; each times every configuration once, and the fastest round of each is reported.") var repetitions = 15
    @Flag(help: "Skip the spectrum benchmarks (the dense 4096² SVD takes seconds).") var skipSpectrum = false
    @Flag(help: "Only the quantized-weight products (SmolLM2 shapes, F32 against Q8_0, Q4_1, Q4_0, Q4_K).") var quantizedOnly = false
    @Option(name: .customLong("threads"), help: "OpenBLAS threads (default: every core).") var threadCount: Int?
    var threads: Int { threadCount ?? ProcessInfo.processInfo.activeProcessorCount }

    func run() throws {
        BLAS.setThreadCount(threads)
        if quantizedOnly {
            let data = try JSONSerialization.data(withJSONObject: QuantizedBenchmark.run(), options: [.sortedKeys, .prettyPrinted])
            print(String(decoding: data, as: UTF8.self))
            return
        }
        var report = try failing { try Benchmark(hidden: hidden, layers: layers, tokens: tokens, vocabulary: vocabulary,
                                                  repetitions: repetitions).run() }
        if !skipSpectrum {
            let (speedup, qr, dense) = try failing { try SpectrumBenchmark.speedup() }
            report["spectrum_speedup"] = rounded(speedup, 1)
            report["spectrum_qr_ms"] = rounded(qr, 3)
            report["spectrum_dense_svd_ms"] = rounded(dense, 1)
            report["spectrum_7b_adapter_ms"] = rounded(try failing { try SpectrumBenchmark.llama7BAdapterMilliseconds() }, 1)
        }
        report.merge(SamplingBenchmark.run().mapValues { $0 as Any }) { _, new in new }
        report.merge(SmallRowsBenchmark.run()) { _, new in new }
        report.merge(QuantizedBenchmark.run()) { _, new in new }
        let data = try JSONSerialization.data(withJSONObject: report, options: [.sortedKeys, .prettyPrinted])
        print(String(decoding: data, as: UTF8.self))
    }
}

/// The measurements of `eckart bench`. Every ratio is against a baseline timed in the same process.
struct Benchmark {
    let hidden: Int, layers: Int, tokens: Int, vocabulary: Int, repetitions: Int
    let ranks = [8, 16, 64]

    func run() throws -> [String: Any] {
        let shape = RandomLlama(hidden: hidden, layers: layers, vocabulary: vocabulary)
        let base = try shape.model()
        guard case .decoder(let model) = base else { throw ModelError.unsupportedArchitecture(base.architecture) }
        let prompt = (0..<tokens).map { ($0 * 7919) % vocabulary }

        let baseFLOPs = shape.prefillFLOPs(tokens: tokens)

        // Interleave configurations round by round so drift in machine load hits all of them alike.
        var adapters: [Int: LoRAAdapter] = [:]
        for r in ranks { adapters[r] = try shape.adapter(rank: r, on: base) }
        let mergeStart = DispatchTime.now()
        let merged16 = MergedAdapter(adapters[16]!, model: base)
        let mergeMilliseconds = seconds(since: mergeStart) * 1000

        var overlays: [(String, (any LinearOverlay)?)] = [("base", nil), ("merged16", merged16)]
        for r in ranks { overlays.append(("unmerged\(r)", UnmergedAdapter(adapters[r]!))) }
        // Each round times the sgemm peak and every configuration once, so a slow moment on this
        // shared machine hits them alike; the minimum over rounds is each one's undisturbed time.
        let square = SquareGEMM(size: 2048)
        var best = [String: Double]()
        for round in 0...repetitions {
            var elapsed = square.time()
            if round > 0 { best["sgemm"] = min(best["sgemm"] ?? .infinity, elapsed) }   // round 0 warms up
            for (name, overlay) in overlays {
                let start = DispatchTime.now()
                _ = try model.logits(tokens: prompt, overlay: overlay)
                elapsed = seconds(since: start)
                if round > 0 { best[name] = min(best[name] ?? .infinity, elapsed) }
            }
        }
        let peak = square.flops / best["sgemm"]! / 1e9

        let baseTime = best["base"]!
        let prefill = Double(baseFLOPs) / baseTime / 1e9
        var overhead = [String: Double](), flopRatio = [String: Double]()
        for r in ranks {
            overhead["\(r)"] = rounded(best["unmerged\(r)"]! / baseTime - 1)
            flopRatio["\(r)"] = rounded(Double(shape.adapterFLOPs(tokens: tokens, rank: r)) / Double(baseFLOPs))
        }
        return [
            "model": ["hidden": hidden, "layers": layers, "intermediate": shape.intermediate, "heads": shape.heads,
                      "vocabulary": vocabulary, "prompt_tokens": tokens, "threads": BLAS.threadCount],
            "sgemm_gflops": rounded(peak, 1),
            "prefill_gflops": rounded(prefill, 1),
            "prefill_ms": rounded(baseTime * 1000, 2),
            "prefill_efficiency": rounded(prefill / peak),
            "unmerged_overhead": overhead,
            "unmerged_flop_ratio": flopRatio,
            "merged_vs_base": rounded(best["merged16"]! / baseTime),
            "merge_ms": rounded(mergeMilliseconds, 2),
        ]
    }
}

/// A square sgemm `C = A·A`: the machine's practical GEMM peak with the configured threads.
struct SquareGEMM {
    let a: Matrix
    init(size n: Int) {
        a = Matrix(rows: n, cols: n, storage: (0..<(n * n)).map { Float($0 % 17) * 0.01 })
    }

    var flops: Double { 2 * pow(Double(a.rows), 3) }

    /// Seconds for one product.
    func time() -> Double {
        var c = Matrix(rows: a.rows, cols: a.rows)
        let start = DispatchTime.now()
        a.accumulateTimes(a, into: &c, alpha: 1, beta: 0)
        return seconds(since: start)
    }
}

func seconds(since start: DispatchTime) -> Double {
    Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
}

func rounded(_ x: Double, _ digits: Int = 4) -> Double {
    let scale = pow(10, Double(digits))
    return (x * scale).rounded() / scale
}
