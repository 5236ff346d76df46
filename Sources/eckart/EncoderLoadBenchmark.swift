// `eckart bench-serve --model ENCODER_DIR`: an encoder under load, over real HTTP on loopback. Each
// client sends `requestsPerClient` /v1/embeddings requests one after another (one sequence of
// `promptTokens` token ids each); one client, then `clients` at once on the base, on one adapter and
// on as many different adapters. Ratios are against baselines of the same run: one client against
// many, one adapter against many, and the bare model's batched encode (no HTTP, no engine).
import Dispatch
import Foundation
import Models
import Server

struct EncoderLoadBenchmark {
    let command: ServeBenchCommand
    let base: BaseModel
    let threads: Int

    func run() throws -> [String: Any] {
        guard case .encoder(let encoder) = base else { throw ModelError.unsupportedArchitecture(base.architecture) }
        let name = URL(fileURLWithPath: command.model ?? "encoder").lastPathComponent
        let served = try BenchServer(base: base, modelName: name, adapters: command.adapters, projections: ["query", "value"])
        defer { served.stop() }
        let client = served.client
        let vocabulary = encoder.config.vocabularySize
        func body(_ index: Int, model: String) -> String {
            // Token ids past the first thousand (BERT's special and unused ones), different for every request.
            let first = vocabulary > 2000 ? 1000 : 0
            let ids = (0..<command.promptTokens).map { String(first + (index * 7919 + $0 * 104_729) % (vocabulary - first)) }
            return #"{"model": "\#(model)", "input": [[\#(ids.joined(separator: ", "))]]}"#
        }
        // Warm-up: every adapter once (they load from the store on first use).
        for i in 0..<command.adapters { _ = try client.post("/v1/embeddings", body(i, model: "a\(i)")) }

        let n = command.clients, perClient = command.requestsPerClient
        /// Each client's requests, in the order it sends them.
        func bodies(clients: Int, model: (Int) -> String) -> [[String]] {
            (0..<clients).map { c in (0..<perClient).map { r in body(c * perClient + r, model: model(c)) } }
        }
        _ = try scenario(client, bodies(clients: n) { _ in name })
        let single = try scenario(client, bodies(clients: 1) { _ in name })
        let base16 = try scenario(client, bodies(clients: n) { _ in name })
        let one16 = try scenario(client, bodies(clients: n) { _ in "a0" })
        let mixed16 = try scenario(client, bodies(clients: n) { "a\($0)" })

        let bare1 = try bareSequencesPerSecond(encoder, batch: 1), bareN = try bareSequencesPerSecond(encoder, batch: n)
        return [
            "model": command.model ?? name, "threads": threads, "clients": n, "requests_per_client": perClient,
            "tokens_per_sequence": command.promptTokens, "adapters": "\(command.adapters) random, rank 8 on query and value",
            "scenarios": ["1_client_base": single.json, "\(n)_clients_base": base16.json,
                          "\(n)_clients_one_adapter": one16.json, "\(n)_clients_\(n)_adapters": mixed16.json],
            "bare_model_sequences_per_second": ["batch_1": rounded(bare1, 1), "batch_\(n)": rounded(bareN, 1)],
            "ratios": [
                "base_clients_vs_one_client": rounded(base16.perSecond / single.perSecond, 2),
                "one_adapter_clients_vs_one_client": rounded(one16.perSecond / single.perSecond, 2),
                "mixed_adapters_vs_one_adapter": rounded(mixed16.perSecond / one16.perSecond, 3),
                "server_vs_bare_batched_model": rounded(base16.perSecond / bareN, 3),
            ],
        ]
    }

    /// One thread per client, each sending its requests (`bodies[client]`) one after another.
    private func scenario(_ client: LoadClient, _ bodies: [[String]]) throws -> EncoderScenario {
        let clients = bodies.count, perClient = command.requestsPerClient
        let latencies = ResultSlots<Double>(count: clients * perClient)
        let group = DispatchGroup()
        let start = DispatchTime.now()
        for c in 0..<clients {
            group.enter()
            Thread {
                defer { group.leave() }
                for r in 0..<perClient {
                    let sent = DispatchTime.now()
                    let reply = Result { try client.post("/v1/embeddings", bodies[c][r]) }
                    latencies.set(c * perClient + r, reply.flatMap { reply in
                        reply.status == 200 ? .success(seconds(since: sent))
                            : .failure(LoadClient.Failure(description: "HTTP \(reply.status): \(reply.body.prefix(200))"))
                    })
                }
            }.start()
        }
        group.wait()
        let wall = seconds(since: start)
        return EncoderScenario(latencies: try latencies.values(), wallSeconds: wall)
    }

    /// Sequences per second of `EncoderModel.encode(batch:)` on `batch` sequences at once, best of five.
    private func bareSequencesPerSecond(_ encoder: EncoderModel, batch: Int) throws -> Double {
        let vocabulary = encoder.config.vocabularySize, first = vocabulary > 2000 ? 1000 : 0
        let inputs = (0..<batch).map { s in
            EncoderInput(tokens: (0..<command.promptTokens).map { first + (s * 7919 + $0 * 104_729) % (vocabulary - first) })
        }
        var best = Double.infinity
        for _ in 0..<6 {
            let start = DispatchTime.now()
            _ = try encoder.encode(batch: inputs)
            best = min(best, seconds(since: start))
        }
        return Double(batch) / best
    }
}

struct EncoderScenario {
    let latencies: [Double]
    let wallSeconds: Double

    var perSecond: Double { Double(latencies.count) / wallSeconds }

    var json: [String: Any] {
        ["sequences_per_second": rounded(perSecond, 1), "wall_s": rounded(wallSeconds, 3), "requests": latencies.count,
         "latency_p50_ms": rounded(percentile(latencies, 0.5) * 1000, 2), "latency_p95_ms": rounded(percentile(latencies, 0.95) * 1000, 2)]
    }
}
