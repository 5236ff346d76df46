// 32 clients at once over real sockets, on random adapters in every mode, get the greedy tokens the
// same requests get one by one (compared with their margins); /metrics follows requests as they
// arrive and leave; vLLM's ignore_eos and min_tokens fix the output length.
import Adapters
import FixtureSupport
import Formats
import Foundation
import Glibc
import LinearAlgebra
import Models
import Testing

/// A random LoRA on the qwen2-bl fixture: its config and tensor layout, new values.
private func randomAdapter(seed: UInt64) throws -> (config: Data, weights: Data) {
    let directory = GenerationFixtures.adapter("qwen2-bl-lora")
    let file = try SafetensorsFile(contentsOf: directory.appendingPathComponent("adapter_model.safetensors"))
    var seeded = SeededMatrices(state: seed)
    let tensors = file.tensorNames.map { name -> (String, [Int], [Float]) in
        let shape = file.info(name)!.shape
        let count = shape.reduce(1, *)
        return (name, shape, seeded.matrix(1, count).storage.map { $0 * 0.3 })
    }
    return (try Data(contentsOf: directory.appendingPathComponent("adapter_config.json")),
            Data(try SafetensorsWriter.serialize(tensors: tensors)))
}

@Test func concurrentClientsOnRandomAdaptersGetWhatTheyGetOneByOne() throws {
    let live = try GenerationFixtures.server("qwen2-bl")
    defer { live.stop() }
    let base = try BaseModel.load(directory: GenerationFixtures.model("qwen2-bl"))
    guard case .decoder(let decoder) = base else { throw ModelError.unsupportedArchitecture("qwen2-bl") }
    let tokenizer = try GenerationFixtures.tokenizer("qwen2-bl")
    var adapters: [String: LoRAAdapter] = [:]
    for i in 0..<6 {
        let (config, weights) = try randomAdapter(seed: UInt64(100 + i))
        #expect(try live.upload(id: "r\(i)", adapter: "qwen2-lora", weights: weights, config: config).status == 201)
        adapters["r\(i)"] = try LoRAAdapter(config: AdapterConfig(jsonData: config), weights: SafetensorsFile(data: weights), model: base)
    }
    let prompts = ["The quick brown fox", "Once upon a time", "Numbers: 12, 345", "Grüße aus Zürich", "日本語", "A", "Servers answer requests"]
    let requests: [(prompt: String, adapter: String?, mode: String)] = (0..<32).map { i in
        let adapter = i % 7 == 0 ? nil : "r\(i % 6)"
        return (prompts[i % prompts.count] + (i >= 16 ? " and more" : ""), adapter, ["unmerged", "merged", "auto"][i % 3])
    }
    func body(_ r: (prompt: String, adapter: String?, mode: String)) -> String {
        let adapter = r.adapter.map { #""adapter": "\#($0)", "mode": "\#(r.mode)", "# } ?? ""
        return #"{\#(adapter)"prompt": \#(String(decoding: try! JSONSerialization.data(withJSONObject: r.prompt, options: .fragmentsAllowed), as: UTF8.self)), "max_tokens": 12}"#
    }

    // All at once, each on its own connection.
    nonisolated(unsafe) var concurrent = [[Int]?](repeating: nil, count: requests.count)
    let lock = NSLock()
    let group = DispatchGroup()
    for (i, r) in requests.enumerated() {
        let json = body(r)
        group.enter()
        Thread {
            let reply = try? live.postOverSocket("/infer", json: json)
            lock.withLock { concurrent[i] = reply?.json["tokens"] as? [Int] }
            group.leave()
        }.start()
    }
    #expect(group.wait(timeout: .now() + 120) == .success)

    // Then one by one, each compared with margins from Eckart's own logits on the one-by-one tokens.
    var identical = 0
    for (i, r) in requests.enumerated() {
        let alone = try #require(try live.postOverSocket("/infer", json: body(r)).json["tokens"] as? [Int], "request \(i)")
        let batched = try #require(lock.withLock { concurrent[i] }, "request \(i) got no tokens")
        let prompt = tokenizer.encode(r.prompt)
        let overlay: (any LinearOverlay)? = r.adapter.map { UnmergedAdapter(adapters[$0]!) }
        let logits = try decoder.logits(tokens: prompt + alone.dropLast(), overlay: overlay)
        let margins = GreedyAgreement.margins(logitRows: alone.indices.map { logits.row(prompt.count - 1 + $0) }, chosen: alone)
        let agreement = GreedyAgreement(ours: batched, reference: alone, margins: margins)
        #expect(agreement.isAcceptable, "request \(i) \(r): \(agreement)")
        if agreement == .identical { identical += 1 }
    }
    #expect(identical >= 28, "only \(identical) of 32 identical")
}

@Test func ignoreEosAndMinTokensFixTheLength() throws {
    let live = try GenerationFixtures.server("qwen2-bl")
    defer { live.stop() }
    // A case that stops on EOS early.
    let c = try #require(try GenerationFixtures.cases("qwen2-bl").first { $0.finishedByEos && $0.adapter == nil })
    let prompt = String(decoding: try JSONSerialization.data(withJSONObject: c.prompt, options: .fragmentsAllowed), as: UTF8.self)
    let plain = try live.post("/infer", json: #"{"prompt": \#(prompt), "max_tokens": 16}"#).json
    #expect(plain["finish_reason"] as? String == "eos")
    let ignoring = try live.post("/infer", json: #"{"prompt": \#(prompt), "max_tokens": 16, "ignore_eos": true}"#).json
    #expect(ignoring["finish_reason"] as? String == "length" && (ignoring["tokens"] as? [Int])?.count == 16)
    let generated = (plain["tokens"] as? [Int])?.count ?? 0
    let minimum = try live.post("/infer", json: #"{"prompt": \#(prompt), "max_tokens": 16, "min_tokens": \#(generated + 1)}"#).json
    #expect(((minimum["tokens"] as? [Int])?.count ?? 0) > generated, "\(minimum)")
    let completion = try live.post("/v1/completions", json: #"{"model": "qwen2-bl", "prompt": \#(prompt), "max_tokens": 16, "ignore_eos": true, "temperature": 0}"#).json
    #expect((completion["usage"] as? [String: Any])?["completion_tokens"] as? Int == 16, "\(completion)")
    #expect(try live.post("/infer", json: #"{"prompt": "x", "max_tokens": 4, "min_tokens": 5}"#).status == 400)
}

/// The value of the first sample line of `name` (with any labels), and its label text.
private func sample(_ text: String, _ name: String) -> (labels: String, value: Double)? {
    for line in text.split(separator: "\n") where line.hasPrefix(name + " ") || line.hasPrefix(name + "{") {
        let parts = line.split(separator: " ")
        let labels = line.hasPrefix(name + "{") ? String(line[line.index(line.startIndex, offsetBy: name.count)...].prefix { $0 != " " }) : ""
        return (labels, Double(parts.last!) ?? .nan)
    }
    return nil
}

@Test func servingMetricsFollowRequestsAsTheyComeAndGo() throws {
    // A long context, so one generation runs until the client hangs up.
    let directory = try Fixtures.scratchCopy(of: GenerationFixtures.model("qwen2-bl"))
    defer { try? FileManager.default.removeItem(at: directory) }
    try Fixtures.editJSON(directory.appendingPathComponent("config.json")) { $0["max_position_embeddings"] = 8192 }
    let live = try LiveServer(model: "qwen2-bl", modelDirectory: directory, tokenizer: try GenerationFixtures.tokenizer("qwen2-bl")) {
        $0.adapterRoot = GenerationFixtures.directory.appendingPathComponent("adapters")
    }
    defer { live.stop() }
    #expect(try live.post("/v1/load_lora_adapter", json: #"{"lora_name": "tone", "lora_path": "qwen2-bl-lora"}"#).status == 200)
    let idle = try live.request("GET", "/metrics").text
    #expect(sample(idle, "vllm:num_requests_running")?.value == 0 && sample(idle, "vllm:num_requests_waiting")?.value == 0)

    // A streamed generation on the adapter, read a little and then abandoned.
    let fd = try live.connectedSocket()
    let json = #"{"adapter": "tone", "prompt": "Once", "max_tokens": 4096, "ignore_eos": true, "stream": true}"#
    let request = "POST /infer HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: \(json.utf8.count)\r\n\r\n\(json)"
    _ = request.withCString { send(fd, $0, strlen($0), 0) }
    // Read until the first token event: the request is then admitted and decoding (for seconds).
    var buffer = [UInt8](repeating: 0, count: 4096)
    var head = ""
    while !head.contains("event: token") {
        let received = recv(fd, &buffer, buffer.count, 0)
        guard received > 0 else { break }
        head += String(decoding: buffer[0..<received], as: UTF8.self)
    }
    #expect(head.hasPrefix("HTTP/1.1 200") && head.contains("event: token"), "\(head)")

    let busy = try live.request("GET", "/metrics").text
    #expect(sample(busy, "vllm:num_requests_running")?.value == 1, "\(busy)")
    let usage = sample(busy, "vllm:kv_cache_usage_perc")?.value ?? -1
    #expect(usage > 0 && usage <= 1)
    let lora = try #require(sample(busy, "vllm:lora_requests_info"))
    #expect(lora.labels.contains(#"running_lora_adapters="tone""#) && lora.labels.contains(#"waiting_lora_adapters="""#), "\(lora)")
    #expect(abs(lora.value - Date().timeIntervalSince1970) < 600)
    close(fd)

    // The hang-up ends it; the gauges return to 0.
    let deadline = Date().addingTimeInterval(60)
    var running = 1.0
    while running != 0 && Date() < deadline {
        running = sample(try live.request("GET", "/metrics").text, "vllm:num_requests_running")?.value ?? -1
        if running != 0 { Thread.sleep(forTimeInterval: 0.02) }
    }
    let after = try live.request("GET", "/metrics").text
    #expect(running == 0 && sample(after, "vllm:kv_cache_usage_perc")?.value == 0)
    #expect(sample(after, "vllm:lora_requests_info")?.labels.contains(#"running_lora_adapters="""#) == true)
}
