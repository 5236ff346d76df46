// Sampling benchmark: top-p / top-k candidate selection on a Qwen2-sized vocabulary, against
// sorting the whole vocabulary (the reference it must equal), timed in the same run.
import Dispatch
import Models

enum SamplingBenchmark {
    /// Fastest of `repetitions` calls, in milliseconds, of `Sampler.distribution` and of the full
    /// sort, for logits that look like a language model's (a few likely tokens, a long tail).
    static func run(vocabulary: Int = 151_936, repetitions: Int = 20) -> [String: Double] {
        var random = SplitMix(seed: 3)
        // A heavy tail: standard-normal-like logits (sum of uniforms) times 2.5, plus a few clear favourites.
        var logits = (0..<vocabulary).map { _ in (random.floats(4, scale: 1).reduce(0, +)) * 2.5 }
        for i in stride(from: 17, to: vocabulary, by: vocabulary / 8) { logits[i] += 12 }
        var report: [String: Double] = [:]
        for (name, parameters) in [("top_p", SamplingParameters(temperature: 0.7, topP: 0.9)),
                                   ("top_k", SamplingParameters(temperature: 0.7, topK: 50))] {
            var fast = Double.infinity, sorted = Double.infinity
            for _ in 0..<repetitions {
                var start = DispatchTime.now()
                _ = Sampler.distribution(logits, parameters)
                fast = min(fast, seconds(since: start))
                start = DispatchTime.now()
                _ = Sampler.distributionBySorting(logits, parameters)
                sorted = min(sorted, seconds(since: start))
            }
            report["sampling_\(name)_ms"] = rounded(fast * 1000, 3)
            report["sampling_\(name)_full_sort_ms"] = rounded(sorted * 1000, 3)
            report["sampling_\(name)_speedup"] = rounded(sorted / fast, 1)
        }
        return report
    }
}
