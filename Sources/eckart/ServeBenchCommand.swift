// `eckart bench-serve`: the server under load, over real HTTP on loopback. One client, then many
// clients on the base, on one adapter and on as many different adapters, each streaming a fixed
// number of tokens (ignore_eos) after a fixed prompt. Ratios are against baselines measured in the
// same run: one client against many, one adapter against many, decode against the memory bandwidth.
import ArgumentParser
import Dispatch
import Foundation
import LinearAlgebra
import Models
import Server

struct ServeBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-serve",
        abstract: "Load-test the server over HTTP: throughput, latency and time to first token for 1 and N clients on the base, one adapter and N adapters. Prints one JSON object.")

    @Option(help: "A model directory to serve (default: random weights of SmolLM2-135M's exact shape). An encoder (e.g. all-MiniLM-L6-v2) is driven through /v1/embeddings.") var model: String?
    @Option(help: "Concurrent clients in the loaded scenarios.") var clients = 16
    @Option(help: "Tokens each request generates (ignore_eos).") var tokens = 64
    @Option(help: "Prompt tokens of each request.") var promptTokens = 32
    @Option(help: "Random adapters registered (rank 8 on q_proj and v_proj).") var adapters = 32
    @Option(help: "Prompt length of the single-request prefill timing.") var prefillTokens = 128
    @Option(name: .customLong("threads"), help: "OpenBLAS threads (default: every core).") var threadCount: Int?
    @Option(help: "Requests each client sends one after another (encoders only).") var requestsPerClient = 20

    func validate() throws {
        guard clients >= 1, tokens >= 2, promptTokens >= 1, adapters >= clients else {
            throw ValidationError("need clients ≥ 1, tokens ≥ 2, prompt-tokens ≥ 1 and adapters ≥ clients")
        }
    }

    func run() throws {
        let threads = threadCount ?? ProcessInfo.processInfo.activeProcessorCount
        BLAS.setThreadCount(threads)
        let report = try failing { try ServeBenchmark(command: self, threads: threads).run() }
        let data = try JSONSerialization.data(withJSONObject: report, options: [.sortedKeys, .prettyPrinted])
        print(String(decoding: data, as: UTF8.self))
    }
}

struct ServeBenchmark {
    let command: ServeBenchCommand
    let threads: Int

    func run() throws -> [String: Any] {
        let shape = RandomLlama.smolLM2
        let base: BaseModel = try command.model.map { try BaseModel.load(path: URL(fileURLWithPath: $0)) } ?? shape.model()
        if case .encoder = base { return try EncoderLoadBenchmark(command: command, base: base, threads: threads).run() }
        guard case .decoder(let decoder) = base else { throw ModelError.unsupportedArchitecture(base.architecture) }
        let weightBytes = base.linearModules.reduce(0) { $0 + $1.inFeatures * $1.outFeatures * 4 }

        let served = try BenchServer(base: base, modelName: command.model.map { URL(fileURLWithPath: $0).lastPathComponent } ?? "random-smollm2-135m",
                                     adapters: command.adapters, projections: ["q_proj", "v_proj"])
        defer { served.stop() }
        let client = served.client

        let vocabulary = decoder.config.vocabularySize
        func request(_ index: Int, adapter: String?) -> String {
            let prompt = (0..<command.promptTokens).map { String((index * 7919 + $0 * 104_729) % vocabulary) }.joined(separator: ", ")
            let adapterField = adapter.map { #""adapter": "\#($0)", "mode": "unmerged", "# } ?? ""
            return #"{\#(adapterField)"tokens": [\#(prompt)], "max_tokens": \#(command.tokens), "ignore_eos": true, "stream": true}"#
        }
        // Warm-up: every adapter once (they load from the store on first use), and the engine.
        for i in 0..<command.adapters { _ = try client.stream(request(i, adapter: "a\(i)").replacingOccurrences(of: "\"max_tokens\": \(command.tokens)", with: "\"max_tokens\": 2")) }
        _ = try client.stream(request(0, adapter: nil))

        let n = command.clients
        // And once at full concurrency, so thread pools and allocations are warm for every scenario alike.
        _ = try scenario(client, requests: (0..<n).map { request($0, adapter: nil) })
        let single = try scenario(client, requests: [request(0, adapter: nil)])
        let base16 = try scenario(client, requests: (0..<n).map { request($0, adapter: nil) })
        let one16 = try scenario(client, requests: (0..<n).map { request($0, adapter: "a0") })
        let mixed16 = try scenario(client, requests: (0..<n).map { request($0, adapter: "a\($0)") })

        let inProcess = try decodeTokensPerSecond(decoder, sequences: 1)
        let inProcessBatch = try decodeTokensPerSecond(decoder, sequences: n)
        let bandwidth = MemoryBandwidth.measure(threads: threads)
        let bound = bandwidth / Double(weightBytes)
        let decode = single.decodeTokensPerSecond
        let prefill = try prefillMilliseconds(decoder)
        return [
            "model": command.model ?? "random weights, SmolLM2-135M shape (hidden 576, 30 layers, 9/3 heads, MLP 1536, vocabulary 49152)",
            "threads": threads, "clients": n, "tokens_per_request": command.tokens, "prompt_tokens": command.promptTokens,
            "adapters": "\(command.adapters) random, rank 8 on q_proj and v_proj",
            "scenarios": ["1_client_base": single.json, "\(n)_clients_base": base16.json,
                          "\(n)_clients_one_adapter": one16.json, "\(n)_clients_\(n)_adapters": mixed16.json],
            "memory_bandwidth_gb_s": rounded(bandwidth / 1e9, 2),
            "decode_weight_mb": rounded(Double(weightBytes) / 1e6, 1),
            "single_stream_decode_tok_s": rounded(decode, 2),
            "single_stream_decode_in_process_tok_s": rounded(inProcess, 2),
            "batched_decode_in_process_tok_s": rounded(inProcessBatch, 2),
            "bandwidth_bound_tok_s": rounded(bound, 2),
            "ratios": [
                "decode_vs_bandwidth_bound": rounded(decode / bound, 3),
                "mixed_adapters_vs_one_adapter": rounded(mixed16.tokensPerSecond / one16.tokensPerSecond, 3),
                "one_adapter_clients_vs_one_client": rounded(one16.tokensPerSecond / single.tokensPerSecond, 2),
                "base_clients_vs_one_client": rounded(base16.tokensPerSecond / single.tokensPerSecond, 2),
            ],
            "targets": ["decode_vs_bandwidth_bound": 0.8, "mixed_adapters_vs_one_adapter": 0.85, "one_adapter_clients_vs_one_client": 8],
            "prefill_\(command.prefillTokens)_tokens_ms": rounded(prefill, 2),
        ]
    }

    /// Sends every request at once, each from its own thread and connection.
    private func scenario(_ client: LoadClient, requests: [String]) throws -> ScenarioResult {
        let results = ResultSlots<StreamTiming>(count: requests.count)
        let group = DispatchGroup()
        let start = DispatchTime.now()
        for (i, body) in requests.enumerated() {
            group.enter()
            Thread {
                results.set(i, Result { try client.stream(body) })
                group.leave()
            }.start()
        }
        group.wait()
        let wall = seconds(since: start)
        return ScenarioResult(timings: try results.values(), wallSeconds: wall)
    }

    /// Decode steps on the bare model (no engine, no HTTP), `sequences` base sequences per step: what
    /// the server's figures are made of. 64 steps after a 32-token prompt each, best of three.
    private func decodeTokensPerSecond(_ decoder: DecoderModel, sequences: Int) throws -> Double {
        var best = Double.infinity
        for _ in 0..<3 {
            var caches = (0..<sequences).map { _ in decoder.makeCache(capacity: 32 + 64) }
            let prompts = (0..<sequences).map { s in DecoderModel.StepSequence(tokens: (0..<32).map { $0 + s }, overlay: nil, logits: .last) }
            let workspace = ForwardWorkspace()   // as the engine keeps one for every step
            _ = try decoder.forward(step: prompts, caches: &caches, workspace: workspace)
            let start = DispatchTime.now()
            for t in 0..<64 {
                let step = (0..<sequences).map { s in DecoderModel.StepSequence(tokens: [t + s + 100], overlay: nil, logits: .last) }
                _ = try decoder.forward(step: step, caches: &caches, workspace: workspace)
            }
            best = min(best, seconds(since: start))
        }
        return Double(64 * sequences) / best
    }

    /// One request's prefill on the bare model, best of five: the engine's prompt path without HTTP.
    private func prefillMilliseconds(_ decoder: DecoderModel) throws -> Double {
        let prompt = (0..<command.prefillTokens).map { ($0 * 7919) % decoder.config.vocabularySize }
        var best = Double.infinity
        for _ in 0..<6 {
            var cache = decoder.makeCache(capacity: prompt.count)
            let start = DispatchTime.now()
            _ = try decoder.forward(tokens: prompt, cache: &cache, logits: .last)
            best = min(best, seconds(since: start))
        }
        return best * 1000
    }
}

/// What one streamed request saw, in seconds from when it was sent.
struct StreamTiming {
    var tokens: Int
    var firstToken: Double
    var total: Double
}

struct ScenarioResult {
    let timings: [StreamTiming]
    let wallSeconds: Double

    var tokensPerSecond: Double { Double(timings.reduce(0) { $0 + $1.tokens }) / wallSeconds }
    /// Tokens after the first over the time after the first (the single-client scenario's decode speed).
    var decodeTokensPerSecond: Double {
        let t = timings[0]
        return Double(t.tokens - 1) / (t.total - t.firstToken)
    }

    var json: [String: Any] {
        let latencies = timings.map(\.total), first = timings.map(\.firstToken)
        return ["tokens_per_second": rounded(tokensPerSecond, 2), "wall_s": rounded(wallSeconds, 3),
                "latency_p50_s": rounded(percentile(latencies, 0.5), 3), "latency_p95_s": rounded(percentile(latencies, 0.95), 3),
                "ttft_p50_s": rounded(percentile(first, 0.5), 3), "ttft_p95_s": rounded(percentile(first, 0.95), 3),
                "tokens": timings.reduce(0) { $0 + $1.tokens }]
    }
}

/// One result per concurrent request, filled from the clients' threads.
final class ResultSlots<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var slots: [Result<Value, Error>?]

    init(count: Int) { slots = Array(repeating: nil, count: count) }

    func set(_ index: Int, _ result: Result<Value, Error>) { lock.withLock { slots[index] = result } }
    /// Every value, or the first error; a slot never set is a bug in the caller.
    func values() throws -> [Value] { try lock.withLock { slots }.map { try $0!.get() } }
}

/// The value at fraction `p` (0…1) of `values` in ascending order, nearest rank.
func percentile(_ values: [Double], _ p: Double) -> Double {
    let sorted = values.sorted()
    return sorted[min(sorted.count - 1, Int((Double(sorted.count - 1) * p).rounded()))]
}
