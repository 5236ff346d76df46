// Sampling over HTTP, stop strings, server-sent event streams (/infer and /v1/completions) and
// cancellation when the client disconnects mid-stream.
import FixtureSupport
import Foundation
import Glibc
import Testing

/// The `data:` payloads (and `event:` names) of a text/event-stream body.
private func events(_ body: String) -> [(name: String?, data: String)] {
    body.components(separatedBy: "\n\n").compactMap { block in
        var name: String? = nil, data: String? = nil
        for line in block.split(separator: "\n", omittingEmptySubsequences: true) {
            if line.hasPrefix("event: ") { name = String(line.dropFirst(7)) }
            if line.hasPrefix("data: ") { data = String(line.dropFirst(6)) }
        }
        return data.map { (name, $0) }
    }
}

private func object(_ json: String) -> [String: Any] {
    (try? JSONSerialization.jsonObject(with: Data(json.utf8))) as? [String: Any] ?? [:]
}

private func body(_ fields: [String: Any]) throws -> Data { try JSONSerialization.data(withJSONObject: fields) }

// Both tokenizer kinds: byte-level BPE (incomplete characters at the end) and SentencePiece byte
// fallback (a run of <0x..> tokens that turns out invalid makes all its bytes U+FFFD, even the
// ones that looked like a character on their own), with and without the adapter.
@Test(arguments: GenerationFixtures.models)
func streamedInferEqualsTheWholeResponse(modelName: String) throws {
    let live = try GenerationFixtures.server(modelName)
    defer { live.stop() }
    #expect(try live.post("/v1/load_lora_adapter", json: #"{"lora_name": "\#(modelName)-lora", "lora_path": "\#(modelName)-lora"}"#).status == 200)
    for c in try GenerationFixtures.cases(modelName) {
        var fields: [String: Any] = ["prompt": c.prompt, "max_tokens": 16]
        if let adapter = c.adapter { fields["adapter"] = adapter }
        // The same request whole, on the same server: same code, same data, so the same tokens.
        let whole = try live.request("POST", "/infer", body: try body(fields)).json
        let wholeTokens = try #require(whole["tokens"] as? [Int]), wholeText = try #require(whole["text"] as? String)
        fields["stream"] = true
        let reply = try live.request("POST", "/infer", body: try body(fields))
        #expect(reply.status == 200)
        let all = events(reply.text)
        let tokens = all.filter { $0.name == "token" }.map { object($0.data) }
        let done = all.last.map { object($0.data) } ?? [:]
        #expect(all.last?.name == "done")
        #expect(tokens.compactMap { $0["token"] as? Int } == wholeTokens)
        // Deltas never split a character: each is valid text on its own and they add up to the text.
        #expect(tokens.map { $0["text"] as? String ?? "" }.joined() == wholeText, "\(c)")
        #expect(done["tokens"] as? [Int] == wholeTokens && done["text"] as? String == wholeText)
        #expect((done["usage"] as? [String: Any])?["completion_tokens"] as? Int == wholeTokens.count)
    }
}

@Test func stopStringsCutTheTextAndAreNeverStreamed() throws {
    let live = try GenerationFixtures.server("llama-sp")
    defer { live.stop() }
    // Base greedy text for this prompt: "e to Servers answer requests; encoders embed sentences; …"
    // (transformers' too). The stop string is cut from this server's own greedy text, so the test
    // does not rest on a near-tie elsewhere.
    let c = try #require(try GenerationFixtures.cases("llama-sp").first { $0.adapter == nil && $0.prompt.hasPrefix("Numbers") })
    let greedy = try live.request("POST", "/infer", body: try body(["prompt": c.prompt, "max_tokens": 16])).json
    let text = try #require(greedy["text"] as? String), generated = try #require(greedy["tokens"] as? [Int])
    #expect(text.contains("answer requests"))
    for stream in [false, true] {
        let fields: [String: Any] = ["prompt": c.prompt, "max_tokens": 16, "stop": ["zzz", "answer req"], "stream": stream]
        let reply = try live.request("POST", "/infer", body: try body(fields))
        let result = stream ? object(events(reply.text).last!.data) : reply.json
        let cut = try #require(text.range(of: "answer req"))
        let expected = String(text[..<cut.lowerBound])
        #expect(result["text"] as? String == expected)
        #expect(result["finish_reason"] as? String == "stop")
        let tokens = try #require(result["tokens"] as? [Int])
        #expect(tokens.count < generated.count && tokens == Array(generated.prefix(tokens.count)))
        if stream {
            let deltas = events(reply.text).filter { $0.name == "token" }.map { object($0.data)["text"] as? String ?? "" }
            #expect(deltas.joined() == expected)
            #expect(!deltas.contains { $0.contains("ans") })
        }
    }
    // OpenAI completions: the same cut, finish_reason "stop".
    let completion = try live.request("POST", "/v1/completions", body: try body(
        ["model": "llama-sp", "prompt": c.prompt, "max_tokens": 16, "temperature": 0, "stop": "answer req"]))
    let choice = (completion.json["choices"] as? [[String: Any]])?.first ?? [:]
    #expect(choice["text"] as? String == String(text[..<text.range(of: "answer req")!.lowerBound]))
    #expect(choice["finish_reason"] as? String == "stop")
}

@Test func seedsMakeSamplingRepeatable() throws {
    let live = try GenerationFixtures.server("qwen2-bl")
    defer { live.stop() }
    func sample(_ seed: Int, _ extra: [String: Any] = [:]) throws -> [Int] {
        var fields: [String: Any] = ["prompt": "Once upon a time", "max_tokens": 16, "temperature": 1.0, "seed": seed]
        fields.merge(extra) { $1 }
        let reply = try live.request("POST", "/infer", body: try body(fields))
        #expect(reply.status == 200, "\(reply.text)")
        return reply.json["tokens"] as? [Int] ?? []
    }
    #expect(try sample(1) == sample(1))
    #expect(try sample(1) != sample(2))
    let greedy = try live.post("/infer", json: #"{"prompt": "Once upon a time", "max_tokens": 16}"#).json["tokens"] as? [Int]
    #expect(try sample(3, ["top_k": 1]) == greedy)
    #expect(try sample(4, ["top_p": 0.0]) == greedy)
    #expect(try live.post("/infer", json: #"{"prompt": "x", "temperature": -1}"#).status == 400)
    #expect(try live.post("/infer", json: #"{"prompt": "x", "stop": [1]}"#).status == 400)
}

/// A decoder asked for text without `max_tokens` generates (16 tokens, OpenAI's default); asked for
/// logits, or for `"max_tokens": 0`, it scores the prompt only.
@Test func decodersGenerateWithoutMaxTokensAndScoreWhenAskedForLogits() throws {
    let live = try GenerationFixtures.server("qwen2-bl")
    defer { live.stop() }
    let generated = try live.post("/infer", json: #"{"prompt": "Once upon a time", "ignore_eos": true}"#)
    #expect(generated.status == 200, "\(generated.text)")
    #expect((generated.json["tokens"] as? [Int])?.count == 16)
    #expect(generated.json["finish_reason"] as? String == "length")
    #expect(!((generated.json["text"] as? String) ?? "").isEmpty)
    for body in [#"{"prompt": "Once upon a time", "return_logits": "last"}"#, #"{"prompt": "Once upon a time", "max_tokens": 0}"#] {
        let scored = try live.post("/infer", json: body)
        #expect(scored.status == 200, "\(scored.text)")
        #expect((scored.json["tokens"] as? [Int])?.isEmpty == true, "\(body)")
    }
}

@Test func streamedCompletionChunksAddUpToTheText() throws {
    let live = try GenerationFixtures.server("qwen2-bl")
    defer { live.stop() }
    let request: [String: Any] = ["model": "qwen2-bl", "prompt": "Numbers: 12, 345 and 6789.", "max_tokens": 12, "temperature": 0.9, "seed": 11]
    let whole = try live.request("POST", "/v1/completions", body: try body(request))
    var streaming = request
    streaming["stream"] = true
    streaming["stream_options"] = ["include_usage": true]
    let streamed = try live.request("POST", "/v1/completions", body: try body(streaming))
    let all = events(streamed.text)
    #expect(all.last?.data == "[DONE]")
    let chunks = all.dropLast().map { object($0.data) }
    let text = chunks.compactMap { ($0["choices"] as? [[String: Any]])?.first?["text"] as? String }.joined()
    let choice = (whole.json["choices"] as? [[String: Any]])?.first ?? [:]
    #expect(text == choice["text"] as? String)
    #expect((chunks.last?["usage"] as? [String: Any])?["completion_tokens"] as? Int == 12)
    #expect(chunks.dropLast().last.flatMap { ($0["choices"] as? [[String: Any]])?.first?["finish_reason"] as? String } == "length")
}

/// Reads /metrics and returns the value of the sample line starting with `prefix`.
private func metric(_ live: LiveServer, _ prefix: String) throws -> Int {
    let text = try live.request("GET", "/metrics").text
    let line = text.split(separator: "\n").first { $0.hasPrefix(prefix + " ") }
    return line.flatMap { Int($0.split(separator: " ").last!) } ?? 0
}

@Test func disconnectingStopsTheGeneration() throws {
    // A copy of the fixture with a long context, so the most a request may ask for (4096 tokens)
    // could really be generated. That takes seconds here; the server sees the hang-up within
    // milliseconds of the client's close (about 500 tokens in when measured), a margin no
    // scheduling noise crosses.
    let maxTokens = 4096
    let directory = try Fixtures.scratchCopy(of: GenerationFixtures.model("qwen2-bl"))
    defer { try? FileManager.default.removeItem(at: directory) }
    try Fixtures.editJSON(directory.appendingPathComponent("config.json")) { $0["max_position_embeddings"] = 2 * maxTokens }
    // No EOS ids at all: only max_tokens or the disconnect can end this generation.
    try Fixtures.editJSON(directory.appendingPathComponent("generation_config.json")) { $0["eos_token_id"] = [Int]() }
    let live = try LiveServer(model: "qwen2-bl", modelDirectory: directory, tokenizer: try GenerationFixtures.tokenizer("qwen2-bl"))
    defer { live.stop() }

    let fd = try connectedSocket(port: live.server.port, receiveTimeout: 5)
    let json = #"{"model": "qwen2-bl", "prompt": "Once upon a time", "max_tokens": \#(maxTokens), "stream": true, "seed": 1, "stop": null}"#
    let request = "POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: \(json.utf8.count)\r\n\r\n\(json)"
    _ = request.withCString { send(fd, $0, strlen($0), 0) }
    var buffer = [UInt8](repeating: 0, count: 4096)
    let received = recv(fd, &buffer, buffer.count, 0)
    #expect(received > 0 && String(decoding: buffer[0..<max(received, 0)], as: UTF8.self).contains("200 OK"))
    close(fd)

    // The generation ends as cancelled well before its max_tokens. The deadline only bounds a
    // failing run; a passing one returns as soon as the metric moves.
    let deadline = Date().addingTimeInterval(60)
    while try metric(live, #"eckart_generations_total{finish_reason="cancelled"}"#) == 0 && Date() < deadline {
        Thread.sleep(forTimeInterval: 0.02)
    }
    let generations = try live.request("GET", "/metrics").text.split(separator: "\n")
        .filter { $0.hasPrefix("eckart_generat") || $0.hasPrefix("vllm:num_requests") }.joined(separator: "; ")
    #expect(try metric(live, #"eckart_generations_total{finish_reason="cancelled"}"#) == 1, "\(generations)")
    #expect(try metric(live, "eckart_generated_tokens_total") < maxTokens)
}
