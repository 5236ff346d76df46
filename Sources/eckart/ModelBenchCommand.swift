// `eckart bench-model`: one real GGUF model in each weight type, in one run — as stored (e.g. Q4_1),
// widened to float32, and re-quantized to Q8_0 — each timed on single-stream decode, on a prefill,
// and measured for resident memory. Ratios are against baselines of the same run: the float32
// model's decode, and the machine's memory bandwidth (a decode step reads every weight once, so
// bandwidth / weight bytes is the bound on tokens a second).
import ArgumentParser
import Dispatch
import Foundation
import LinearAlgebra
import Models

struct ModelBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-model",
        abstract: "Decode and prefill speed and resident memory of a GGUF model as stored, in float32 and in Q8_0. Prints one JSON object.")

    @Option(help: "A llama.cpp .gguf file (make model fetches SmolLM2-135M-Instruct Q4_1).") var model: String
    @Option(help: "Tokens decoded one at a time after the prompt.") var tokens = 64
    @Option(help: "Prompt tokens before decoding.") var promptTokens = 32
    @Option(help: "Tokens of the prefill timing.") var prefillTokens = 128
    @Option(name: .customLong("threads"), help: "Threads for OpenBLAS and Eckart's kernels (default: every core).") var threadCount: Int?

    func run() throws {
        let threads = threadCount ?? ProcessInfo.processInfo.activeProcessorCount
        BLAS.setThreadCount(threads)
        let path = URL(fileURLWithPath: model)
        let fileBytes = (try FileManager.default.attributesOfItem(atPath: path.path)[.size] as? NSNumber)?.intValue ?? 0
        let bandwidth = MemoryBandwidth.measure(threads: threads)
        var forms: [[String: Any]] = []
        // As stored first, so that its resident memory is measured in a fresh process. The forms after
        // it load into a heap that already held other weights, so their resident growth is no
        // measure of anything and is reported as null.
        for (index, (label, load)) in ([("as stored", { try BaseModel.load(path: path) }),
                              ("float32", { try BaseModel.load(gguf: path, convertingTo: nil) }),
                              ("Q8_0", { try BaseModel.load(gguf: path, convertingTo: .q8_0) })] as [(String, () throws -> BaseModel)]).enumerated() {
            let before = residentBytes()
            let base = try failing(load)
            guard case .decoder(let decoder) = base else { throw ModelError.unsupportedArchitecture(base.architecture) }
            let measured = try measure(decoder)
            let resident = residentBytes() - before
            let weightBytes = decoder.linearModules.indices.reduce(0) { total, index in
                total + (base.linear(named: decoder.linearModules[index].name)?.stored.byteCount ?? 0)
            }
            let bound = bandwidth / Double(weightBytes)
            let types = Set(decoder.linearModules.compactMap { base.linear(named: $0.name)?.quantization?.name ?? "F32" }).sorted()
            let kvBytes = decoder.cacheBytes(positions: promptTokens + tokens)
            forms.append([
                "weights": label, "types": types, "weight_bytes": weightBytes,
                "decode_tokens_per_second": measured.decode,
                "decode_bound_tokens_per_second": bound, "decode_vs_bandwidth_bound": measured.decode / bound,
                "prefill_ms": measured.prefillMilliseconds, "kv_cache_bytes": kvBytes,
                "resident_bytes": index == 0 ? resident : NSNull(),
                "resident_vs_file_plus_kv_cache": index == 0 ? Double(resident) / Double(fileBytes + kvBytes) : NSNull(),
            ])
        }
        let floatDecode = forms.first { $0["weights"] as? String == "float32" }?["decode_tokens_per_second"] as? Double ?? .nan
        forms = forms.map { form in
            var form = form
            form["decode_vs_float32"] = (form["decode_tokens_per_second"] as? Double ?? 0) / floatDecode
            return form
        }
        let report: [String: Any] = ["model": path.lastPathComponent, "file_bytes": fileBytes, "threads": threads,
                                     "memory_bandwidth_gb_per_s": bandwidth / 1e9, "forms": forms,
                                     "tokens": tokens, "prompt_tokens": promptTokens, "prefill_tokens": prefillTokens]
        let data = try JSONSerialization.data(withJSONObject: report, options: [.sortedKeys, .prettyPrinted])
        print(String(decoding: data, as: UTF8.self))
    }

    /// Single-stream decode (tokens a second after a prompt, one cached step per token) and one
    /// prefill, after a warm-up pass that touches every weight.
    private func measure(_ model: DecoderModel) throws -> (decode: Double, prefillMilliseconds: Double) {
        let vocabulary = model.config.vocabularySize
        let prompt = (0..<promptTokens).map { ($0 * 7919 + 13) % vocabulary }
        _ = try model.logits(tokens: Array(prompt.prefix(4)))
        var caches = [model.makeCache(capacity: promptTokens + tokens)]
        let workspace = ForwardWorkspace()   // one for every step, as the serving engine keeps one
        // The prompt goes through the cache first and outside the clock: decode speed is the cached
        // one-token steps alone, as llama.cpp reports its eval time apart from the prompt's.
        func greedy(_ next: [Int]) throws -> [Int] {
            let row = try model.forward(step: [.init(tokens: next, overlay: nil, logits: .last)], caches: &caches,
                                        workspace: workspace)[0].storage
            return [row.indices.max { row[$0] < row[$1] }!]
        }
        var next = try greedy(prompt)
        let start = DispatchTime.now()
        for _ in 0..<tokens { next = try greedy(next) }
        let decode = Double(tokens) / seconds(since: start)
        let prefill = (0..<prefillTokens).map { ($0 * 104_729 + 7) % vocabulary }
        let prefillStart = DispatchTime.now()
        _ = try model.logits(tokens: prefill)
        return (decode, seconds(since: prefillStart) * 1000)
    }
}

/// VmRSS of this process, in bytes (0 where /proc is missing).
func residentBytes() -> Int {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
          let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
          let kb = Int(line.split(separator: " ").dropFirst().first ?? "") else { return 0 }
    return kb * 1024
}
