// How a sentence-transformers model turns token states into one sentence embedding:
// `modules.json` lists a Pooling module (its `config.json` names the mode) and optionally a
// Normalize module. Follows sentence_transformers.models.Pooling / Normalize.
import Foundation
import LinearAlgebra

/// The sentence embedding recipe of an encoder model directory.
public struct SentencePooling: Sendable, Equatable {
    public enum Mode: String, Sendable { case mean, cls, max, meanSqrtLength = "mean_sqrt_len" }

    public let mode: Mode
    public let normalize: Bool

    public init(mode: Mode, normalize: Bool) {
        self.mode = mode
        self.normalize = normalize
    }

    /// Reads `modules.json` and the Pooling module's config. A directory without `modules.json` is
    /// a plain transformers model; sentence-transformers then uses mean pooling and no normalisation.
    public init(directory: URL) throws {
        let modulesURL = directory.appendingPathComponent("modules.json")
        guard let data = try? Data(contentsOf: modulesURL) else {
            self.init(mode: .mean, normalize: false)
            return
        }
        guard let modules = try? JSONSerialization.jsonObject(with: data) as? [[String: Any]] else {
            throw ModelError.invalidConfig("modules.json is not a list of modules")
        }
        let types = modules.compactMap { $0["type"] as? String }
        var mode = Mode.mean
        if let pooling = modules.first(where: { ($0["type"] as? String)?.hasSuffix("models.Pooling") == true }) {
            let path = pooling["path"] as? String ?? ""
            let configURL = directory.appendingPathComponent(path).appendingPathComponent("config.json")
            guard let poolingData = try? Data(contentsOf: configURL),
                  let poolingConfig = try? JSONSerialization.jsonObject(with: poolingData) as? [String: Any] else {
                throw ModelError.invalidConfig("pooling config \(configURL.path) is missing or not a JSON object")
            }
            let enabled = poolingConfig.filter { $0.key.hasPrefix("pooling_mode_") && ($0.value as? Bool) == true }.map(\.key)
            switch Set(enabled) {
            case ["pooling_mode_mean_tokens"]: mode = .mean
            case ["pooling_mode_cls_token"]: mode = .cls
            case ["pooling_mode_max_tokens"]: mode = .max
            case ["pooling_mode_mean_sqrt_len_tokens"]: mode = .meanSqrtLength
            default:
                throw ModelError.invalidConfig("pooling modes \(enabled.sorted()) are not supported; use exactly one of mean, cls, max, mean_sqrt_len")
            }
        }
        self.init(mode: mode, normalize: types.contains { $0.hasSuffix("models.Normalize") })
    }

    /// Pools `states` (tokens × d) over positions whose mask is true.
    public func pool(_ states: Matrix, mask: [Bool]) -> [Float] {
        let d = states.cols
        var out = [Float](repeating: 0, count: d)
        let kept = (0..<states.rows).filter { mask[$0] }
        switch mode {
        case .cls:
            out = states.row(0)
        case .max:
            out = [Float](repeating: -.infinity, count: d)
            for t in kept { for j in 0..<d { out[j] = max(out[j], states[t, j]) } }
        case .mean, .meanSqrtLength:
            for t in kept { for j in 0..<d { out[j] += states[t, j] } }
            // sentence-transformers clamps the count at 1e-9 before dividing.
            let count = max(Float(kept.count), 1e-9)
            let divisor = mode == .mean ? count : count.squareRoot()
            for j in 0..<d { out[j] /= divisor }
        }
        if normalize {
            // torch.nn.functional.normalize: x / max(‖x‖₂, 1e-12)
            let norm = max(out.reduce(0) { $0 + $1 * $1 }.squareRoot(), 1e-12)
            for j in 0..<d { out[j] /= norm }
        }
        return out
    }
}
