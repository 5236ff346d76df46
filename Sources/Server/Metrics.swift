// Counters and latency histograms, rendered in the Prometheus text exposition format (0.0.4).
import Adapters
import Foundation

/// Process-wide request metrics. Thread-safe.
final class Metrics: @unchecked Sendable {
    /// Upper bounds of the latency histogram buckets, in seconds.
    static let buckets: [Double] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

    private struct RouteKey: Hashable { let method: String; let route: String; let status: Int }
    private struct Histogram {
        var counts = [Int](repeating: 0, count: Metrics.buckets.count)
        var sum = 0.0
        var count = 0
    }

    private let lock = NSLock()
    private var requests: [RouteKey: Int] = [:]
    private var latency: [String: Histogram] = [:]
    private var adapterRequests: [String: Int] = [:]

    /// Records one answered request. `route` is the matched pattern (e.g. `/adapters/{id}`), never
    /// the raw path, so ids cannot blow up the label set.
    func record(method: String, route: String, status: Int, seconds: Double) {
        lock.withLock {
            requests[RouteKey(method: method, route: route, status: status), default: 0] += 1
            var h = latency[route] ?? Histogram()
            for (i, bound) in Self.buckets.enumerated() where seconds <= bound { h.counts[i] += 1 }
            h.sum += seconds
            h.count += 1
            latency[route] = h
        }
    }

    func countAdapterRequest(_ id: String) {
        lock.withLock { adapterRequests[id, default: 0] += 1 }
    }

    /// The exposition text, with the registry's cache gauges.
    func render(registry: AdapterRegistry) -> String {
        var out = ""
        func metric(_ name: String, _ type: String, _ help: String) {
            out += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
        }
        lock.withLock {
            metric("eckart_http_requests_total", "counter", "HTTP requests answered, by method, route and status.")
            for (key, value) in requests.sorted(by: { ($0.key.route, $0.key.method, $0.key.status) < ($1.key.route, $1.key.method, $1.key.status) }) {
                out += "eckart_http_requests_total{method=\"\(key.method)\",route=\"\(escape(key.route))\",status=\"\(key.status)\"} \(value)\n"
            }
            metric("eckart_http_request_duration_seconds", "histogram", "Time from a parsed request to its response, by route.")
            for (route, h) in latency.sorted(by: { $0.key < $1.key }) {
                let label = "route=\"\(escape(route))\""
                for (i, bound) in Self.buckets.enumerated() {
                    out += "eckart_http_request_duration_seconds_bucket{\(label),le=\"\(bound)\"} \(h.counts[i])\n"
                }
                out += "eckart_http_request_duration_seconds_bucket{\(label),le=\"+Inf\"} \(h.count)\n"
                out += "eckart_http_request_duration_seconds_sum{\(label)} \(h.sum)\n"
                out += "eckart_http_request_duration_seconds_count{\(label)} \(h.count)\n"
            }
            metric("eckart_adapter_requests_total", "counter", "Inference requests per adapter.")
            for (id, value) in adapterRequests.sorted(by: { $0.key < $1.key }) {
                out += "eckart_adapter_requests_total{adapter=\"\(escape(id))\"} \(value)\n"
            }
        }
        metric("eckart_adapters_stored", "gauge", "Adapters registered in the store.")
        out += "eckart_adapters_stored \(registry.list().count)\n"
        for (cache, stats) in [("loaded", registry.loaded.statistics), ("merged", registry.merged.statistics)] {
            metric("eckart_\(cache)_cache_entries", "gauge", "Adapters in the \(cache) cache.")
            out += "eckart_\(cache)_cache_entries \(stats.count)\n"
            metric("eckart_\(cache)_cache_bytes", "gauge", "Bytes held by the \(cache) cache.")
            out += "eckart_\(cache)_cache_bytes \(stats.bytes)\n"
            metric("eckart_\(cache)_cache_budget_bytes", "gauge", "Byte budget of the \(cache) cache.")
            out += "eckart_\(cache)_cache_budget_bytes \(stats.budget)\n"
            metric("eckart_\(cache)_cache_hits_total", "counter", "Lookups that found the entry in the \(cache) cache.")
            out += "eckart_\(cache)_cache_hits_total \(stats.hits)\n"
            metric("eckart_\(cache)_cache_misses_total", "counter", "Lookups that missed the \(cache) cache.")
            out += "eckart_\(cache)_cache_misses_total \(stats.misses)\n"
            let lookups = stats.hits + stats.misses
            metric("eckart_\(cache)_cache_hit_ratio", "gauge", "Hits over lookups of the \(cache) cache since start (0 before any lookup).")
            out += "eckart_\(cache)_cache_hit_ratio \(lookups == 0 ? 0 : Double(stats.hits) / Double(lookups))\n"
            metric("eckart_\(cache)_cache_evictions_total", "counter", "Entries evicted from the \(cache) cache.")
            out += "eckart_\(cache)_cache_evictions_total \(stats.evictions)\n"
        }
        return out
    }

    private func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n")
    }
}
