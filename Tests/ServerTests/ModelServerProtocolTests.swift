// The model-server protocol of the Kubernetes Gateway API Inference Extension
// (kubernetes-sigs/gateway-api-inference-extension, docs/proposals/003-model-server-protocol, as of
// v1.6.0): the endpoint picker scrapes /metrics for
//   TotalQueuedRequests   gauge  vllm:num_requests_waiting
//   TotalRunningRequests  gauge  vllm:num_requests_running
//   KVCacheUtilization    gauge  vllm:kv_cache_usage_perc (0-1)
//   LoRA affinity         gauge  vllm:lora_requests_info{running_lora_adapters, waiting_lora_adapters,
//                                max_lora}, value = the last update time
// The exposition is parsed by prometheus_client's parser (metrics_protocol_check.py), not by hand.
import FixtureSupport
import Foundation
import Glibc
import Testing

/// One metric family as prometheus_client parsed it.
private struct Family {
    let name: String
    let type: String
    let samples: [(name: String, labels: [String: String], value: Double)]
}

/// Scrapes `live`'s /metrics and parses it with prometheus_client.
private func scrape(_ live: LiveServer, python: String) throws -> [String: Family] {
    let text = try live.request("GET", "/metrics").text
    let file = FileManager.default.temporaryDirectory.appendingPathComponent("eckart-metrics-\(UUID().uuidString).txt")
    try Data(text.utf8).write(to: file)
    defer { try? FileManager.default.removeItem(at: file) }
    let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("metrics_protocol_check.py")
    let run = try runProcess(URL(fileURLWithPath: python), [script.path, file.path])
    guard run.status == 0, let parsed = try JSONSerialization.jsonObject(with: run.stdout) as? [[String: Any]] else {
        throw ProtocolCheckFailure(message: "prometheus_client could not parse /metrics: \(run.combinedText)\n\(text)")
    }
    var families: [String: Family] = [:]
    for family in parsed {
        let samples = (family["samples"] as? [[String: Any]] ?? []).map {
            (name: $0["name"] as? String ?? "", labels: $0["labels"] as? [String: String] ?? [:],
             value: ($0["value"] as? NSNumber)?.doubleValue ?? .nan)
        }
        families[family["name"] as! String] = Family(name: family["name"] as! String, type: family["type"] as! String, samples: samples)
    }
    return families
}

private struct ProtocolCheckFailure: Error, CustomStringConvertible { let message: String; var description: String { message } }

/// The single sample of the gauge `name`, after checking its type and label names.
private func gauge(_ families: [String: Family], _ name: String, labels: Set<String> = []) throws -> (labels: [String: String], value: Double) {
    let family = try #require(families[name], "\(name) is missing")
    #expect(family.type == "gauge", "\(name) is a \(family.type)")
    try #require(family.samples.count == 1, "\(name) has \(family.samples.count) samples")
    #expect(Set(family.samples[0].labels.keys) == labels, "\(name) labels \(family.samples[0].labels)")
    return (family.samples[0].labels, family.samples[0].value)
}

/// The value of the unlabelled sample `name` in an exposition (a quick look while polling; the checks
/// use the parsed families).
private func value(_ text: String, _ name: String) -> Double? {
    text.split(separator: "\n").first { $0.hasPrefix(name + " ") }.flatMap { Double($0.split(separator: " ").last!) }
}

/// Generations the engine has seen: waiting, running, or finished (any reason).
private func arrived(_ text: String) -> Int {
    let finished = text.split(separator: "\n").filter { $0.hasPrefix("eckart_generations_total{") }
        .compactMap { Double($0.split(separator: " ").last!) }.reduce(0, +)
    return Int((value(text, "vllm:num_requests_waiting") ?? 0) + (value(text, "vllm:num_requests_running") ?? 0) + finished)
}

/// The ids of a comma-separated adapter label (the endpoint picker splits on "," without trimming).
private func adapters(_ label: String?) -> Set<String> {
    Set((label ?? "").split(separator: ",", omittingEmptySubsequences: true).map(String.init))
}

/// A streamed generation on its own socket, read until its first token (so it is admitted or queued).
private func startStream(_ live: LiveServer, adapter: String?) throws -> Int32 {
    let fd = try live.connectedSocket()
    let model = adapter.map { #""adapter": "\#($0)", "# } ?? ""
    let json = #"{\#(model)"prompt": "Once", "max_tokens": 4096, "ignore_eos": true, "stream": true}"#
    let request = "POST /infer HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: \(json.utf8.count)\r\n\r\n\(json)"
    _ = request.withCString { send(fd, $0, strlen($0), 0) }
    return fd
}

@Test(.enabled(if: ProcessInfo.processInfo.environment["ECKART_PYTHON"] != nil, "needs ECKART_PYTHON with prometheus_client (make test sets it)"))
func metricsFollowTheInferenceGatewaysModelServerProtocol() throws {
    let python = ProcessInfo.processInfo.environment["ECKART_PYTHON"]!
    let started = Date()
    // A long context so generations run for seconds (4096 tokens, the most a request may ask for);
    // two running sequences at most and two distinct adapters per batch, so a small load queues.
    let directory = try Fixtures.scratchCopy(of: GenerationFixtures.model("qwen2-bl"))
    defer { try? FileManager.default.removeItem(at: directory) }
    try Fixtures.editJSON(directory.appendingPathComponent("config.json")) { $0["max_position_embeddings"] = 8192 }
    let live = try LiveServer(model: "qwen2-bl", modelDirectory: directory, tokenizer: try GenerationFixtures.tokenizer("qwen2-bl")) {
        $0.adapterRoot = GenerationFixtures.directory.appendingPathComponent("adapters")
        $0.maxRunning = 2
        $0.maxLoras = 2
    }
    defer { live.stop() }
    for id in ["t0", "t1", "t2", "t3"] {
        #expect(try live.post("/v1/load_lora_adapter", json: #"{"lora_name": "\#(id)", "lora_path": "qwen2-bl-lora"}"#).status == 200)
    }

    // Idle: every protocol metric is there, with its type and labels, and nothing queues.
    let idle = try scrape(live, python: python)
    #expect(try gauge(idle, "vllm:num_requests_waiting").value == 0)
    #expect(try gauge(idle, "vllm:num_requests_running").value == 0)
    #expect(try gauge(idle, "vllm:kv_cache_usage_perc").value == 0)
    let loraLabels: Set<String> = ["running_lora_adapters", "waiting_lora_adapters", "max_lora"]
    let idleLoRA = try gauge(idle, "vllm:lora_requests_info", labels: loraLabels)
    #expect(idleLoRA.labels["max_lora"] == "2")
    #expect(adapters(idleLoRA.labels["running_lora_adapters"]).isEmpty && adapters(idleLoRA.labels["waiting_lora_adapters"]).isEmpty)

    // Load: eight generations, one at a time so their arrival order is known; the engine admits them
    // in that order, two at a time. (The first may finish before the last arrives: the checks below
    // use the counts the same scrape reports, never a fixed moment.)
    let plan: [String?] = ["t0", "t1", "t2", "t3", "t0", nil, "t2", "t1"]
    var sockets: [Int32] = []
    defer { for fd in sockets { close(fd) } }
    let arrival = Date()
    for (i, adapter) in plan.enumerated() {
        sockets.append(try startStream(live, adapter: adapter))
        // Wait until the engine has it (running, waiting or finished), by a plain text lookup: fast.
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline, arrived(try live.request("GET", "/metrics").text) < i + 1 {
            Thread.sleep(forTimeInterval: 0.005)
        }
    }
    let busy = try scrape(live, python: python)
    let submitted = Date().timeIntervalSince(arrival)
    let running = Int(try gauge(busy, "vllm:num_requests_running").value)
    let waiting = Int(try gauge(busy, "vllm:num_requests_waiting").value)
    #expect(running == 2, "running \(running) after \(submitted) s")
    #expect(waiting >= 3, "the waiting count did not rise under load: \(waiting) after \(submitted) s")
    let usage = try gauge(busy, "vllm:kv_cache_usage_perc").value
    #expect(usage > 0 && usage <= 1, "KV-cache utilisation \(usage)")
    // The last `waiting` requests wait, the `running` before them run: the labels list exactly their adapters.
    let waitingPlan = plan.suffix(waiting), runningPlan = plan.dropLast(waiting).suffix(running)
    let busyLoRA = try gauge(busy, "vllm:lora_requests_info", labels: loraLabels)
    #expect(adapters(busyLoRA.labels["running_lora_adapters"]) == Set(runningPlan.compactMap { $0 }), "\(busyLoRA.labels), \(running) running")
    #expect(adapters(busyLoRA.labels["waiting_lora_adapters"]) == Set(waitingPlan.compactMap { $0 }), "\(busyLoRA.labels), \(waiting) waiting")
    #expect(busyLoRA.labels["max_lora"] == "2")
    // The value is the last update time: after the test started, not in the future.
    #expect(busyLoRA.value >= started.timeIntervalSince1970 - 1 && busyLoRA.value <= Date().timeIntervalSince1970 + 1,
            "lora_requests_info value \(busyLoRA.value)")

    // Every client hangs up: the queue drains to 0 and the adapter lists empty.
    for fd in sockets { close(fd) }
    sockets = []
    let deadline = Date().addingTimeInterval(60)
    var drained: [String: Family] = [:]
    repeat {
        drained = try scrape(live, python: python)
        if try gauge(drained, "vllm:num_requests_waiting").value == 0 && gauge(drained, "vllm:num_requests_running").value == 0 { break }
        Thread.sleep(forTimeInterval: 0.05)
    } while Date() < deadline
    #expect(try gauge(drained, "vllm:num_requests_waiting").value == 0, "the waiting count did not return to 0")
    #expect(try gauge(drained, "vllm:num_requests_running").value == 0)
    #expect(try gauge(drained, "vllm:kv_cache_usage_perc").value == 0)
    let drainedLoRA = try gauge(drained, "vllm:lora_requests_info", labels: loraLabels)
    #expect(adapters(drainedLoRA.labels["running_lora_adapters"]).isEmpty && adapters(drainedLoRA.labels["waiting_lora_adapters"]).isEmpty)
    #expect(drainedLoRA.value >= busyLoRA.value && drainedLoRA.value <= Date().timeIntervalSince1970 + 1)
}
