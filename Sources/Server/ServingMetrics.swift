// What the batch engine is doing, for operators and for the Kubernetes inference gateway's
// endpoint picker: queue depth, KV-cache use, adapters running and waiting, step sizes, time to
// first token and between tokens. Exported under Eckart's names and under vLLM's, which the
// gateway's model-server protocol reads (vllm:num_requests_waiting, vllm:num_requests_running,
// vllm:kv_cache_usage_perc, vllm:lora_requests_info).
import Foundation

/// Serving gauges and histograms of one engine. Thread-safe.
final class ServingMetrics: @unchecked Sendable {
    /// Latency buckets in seconds (time to first token, inter-token latency, step time).
    static let latencyBuckets: [Double] = [0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30]
    /// Tokens-per-step buckets.
    static let tokenBuckets: [Double] = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048]

    struct Histogram {
        let bounds: [Double]
        var counts: [Int]
        var sum = 0.0
        var count = 0

        init(_ bounds: [Double]) {
            self.bounds = bounds
            counts = Array(repeating: 0, count: bounds.count)
        }

        mutating func observe(_ value: Double) {
            for (i, bound) in bounds.enumerated() where value <= bound { counts[i] += 1 }
            sum += value
            count += 1
        }
    }

    private let lock = NSLock()
    private let now: @Sendable () -> Date
    private var waitingAdapters: [String] = []   // distinct ids, sorted
    private var runningAdapters: [String] = []
    private var waitingCount = 0
    private var runningCount = 0
    private var queueUpdated: Date
    private var reservedBytes = 0
    private var kvCacheBytes = 1
    private var maxLoras = 0
    private var stepTokens = Histogram(ServingMetrics.tokenBuckets)
    private var stepSeconds = Histogram(ServingMetrics.latencyBuckets)
    private var stepSequences = 0
    private var timeToFirstToken = Histogram(ServingMetrics.latencyBuckets)
    private var interTokenLatency = Histogram(ServingMetrics.latencyBuckets)

    init(now: @escaping @Sendable () -> Date = { Date() }) {
        self.now = now
        queueUpdated = now()
    }

    func configure(kvCacheBytes: Int, maxLoras: Int) {
        lock.withLock {
            self.kvCacheBytes = max(1, kvCacheBytes)
            self.maxLoras = maxLoras
        }
    }

    /// How many requests wait and run, the adapter ids among them, and the KV-cache bytes the
    /// running ones reserve: set together, so a scrape never sees an empty queue holding cache.
    func setQueue(waiting: [String], running: [String], waitingCount: Int, runningCount: Int, reservedBytes: Int) {
        lock.withLock {
            let waitingSet = Array(Set(waiting)).sorted(), runningSet = Array(Set(running)).sorted()
            if waitingSet != waitingAdapters || runningSet != runningAdapters { queueUpdated = now() }
            waitingAdapters = waitingSet
            runningAdapters = runningSet
            self.waitingCount = waitingCount
            self.runningCount = runningCount
            self.reservedBytes = reservedBytes
        }
    }

    func recordStep(tokens: Int, sequences: Int, seconds: Double) {
        lock.withLock {
            stepTokens.observe(Double(tokens))
            stepSeconds.observe(seconds)
            stepSequences += sequences
        }
    }

    func recordTimeToFirstToken(_ seconds: Double) { lock.withLock { timeToFirstToken.observe(seconds) } }
    func recordInterTokenLatency(_ seconds: Double) { lock.withLock { interTokenLatency.observe(seconds) } }

    /// The Prometheus exposition text of every serving metric.
    func render() -> String {
        lock.withLock {
            var out = ""
            func metric(_ name: String, _ type: String, _ help: String) { out += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n" }
            func histogram(_ name: String, _ h: Histogram) {
                for (i, bound) in h.bounds.enumerated() { out += "\(name)_bucket{le=\"\(bound)\"} \(h.counts[i])\n" }
                out += "\(name)_bucket{le=\"+Inf\"} \(h.count)\n\(name)_sum \(h.sum)\n\(name)_count \(h.count)\n"
            }
            let usage = Double(reservedBytes) / Double(kvCacheBytes)
            for (name, help, value) in [
                ("requests_waiting", "Generation requests waiting for admission to the engine.", "\(waitingCount)"),
                ("requests_running", "Generation requests the engine is running.", "\(runningCount)"),
                ("kv_cache_usage", "Fraction of the KV-cache budget reserved by running requests (0-1).", "\(usage)"),
            ] {
                metric("eckart_\(name)", "gauge", help)
                out += "eckart_\(name) \(value)\n"
            }
            for (name, help, value) in [
                ("vllm:num_requests_waiting", "Requests waiting (vLLM name, read by the inference gateway).", "\(waitingCount)"),
                ("vllm:num_requests_running", "Requests running (vLLM name, read by the inference gateway).", "\(runningCount)"),
                ("vllm:kv_cache_usage_perc", "KV-cache usage, 0-1 (vLLM name, read by the inference gateway).", "\(usage)"),
            ] {
                metric(name, "gauge", help)
                out += "\(name) \(value)\n"
            }
            let running = runningAdapters.joined(separator: ","), waiting = waitingAdapters.joined(separator: ",")
            let labels = "running_lora_adapters=\"\(escape(running))\",waiting_lora_adapters=\"\(escape(waiting))\",max_lora=\"\(maxLoras)\""
            for name in ["eckart_lora_requests_info", "vllm:lora_requests_info"] {
                metric(name, "gauge", "Adapters of the running and waiting requests; the value is when that last changed (Unix seconds).")
                out += "\(name){\(labels)} \(queueUpdated.timeIntervalSince1970)\n"
            }
            metric("eckart_step_tokens", "histogram", "Tokens (prompt chunks and decode tokens) per engine step.")
            histogram("eckart_step_tokens", stepTokens)
            metric("eckart_step_duration_seconds", "histogram", "Time of one engine step (forward pass and sampling).")
            histogram("eckart_step_duration_seconds", stepSeconds)
            metric("eckart_step_sequences_total", "counter", "Sequences summed over engine steps (divide by the step count for the mean batch).")
            out += "eckart_step_sequences_total \(stepSequences)\n"
            for (name, h) in [("time_to_first_token_seconds", timeToFirstToken), ("inter_token_latency_seconds", interTokenLatency)] {
                for prefix in ["eckart", "vllm"] {
                    let full = prefix == "eckart" ? "eckart_\(name)" : "vllm:\(name)"
                    metric(full, "histogram", name == "time_to_first_token_seconds"
                        ? "From a request's arrival to its first generated token." : "Between consecutive tokens of one request.")
                    histogram(full, h)
                }
            }
            return out
        }
    }

    private func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
    }
}
