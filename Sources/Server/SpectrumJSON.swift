// The wire form of an adapter's spectrum, shared by GET /diagnostics/spectrum and `eckart spectrum`.
import Diagnostics
import Formats
import Foundation

/// `{"adapter", "dora", "modules": [...], "summary": {...}}` for the modules whose names match `filter`.
public func spectrumJSON(_ spectrum: AdapterSpectrum, adapter id: String, filter: NSRegularExpression? = nil) -> JSONValue {
    let modules = spectrum.modules.filter { m in
        filter.map { $0.firstMatch(in: m.name, range: NSRange(m.name.startIndex..., in: m.name)) != nil } ?? true
    }
    func number(_ x: Double) -> JSONValue { .number(JSONNumber(x)) }
    func floats(_ xs: [Float]) -> JSONValue { .array(xs.map { .number(JSONNumber($0)) }) }
    func energyRanks(_ m: SpectrumMetrics) -> JSONValue {
        .object(["0.90": .number(JSONNumber(m.energyRank(0.90))), "0.95": .number(JSONNumber(m.energyRank(0.95))),
                 "0.99": .number(JSONNumber(m.energyRank(0.99)))])
    }
    let entries: [JSONValue] = modules.map { module in
        let m = module.metrics
        var fields: [(String, JSONValue)] = [
            ("name", .string(module.name)),
            ("shape", .array(module.shape.map { .number(JSONNumber($0)) })),
            ("rank", .number(JSONNumber(module.rank))),
            ("scaling", .number(JSONNumber(module.scaling))),
            ("singular_values", floats(m.singularValues)),
            ("energy", .array(m.energy.map(number))),
            ("energy_rank", energyRanks(m)),
            ("entropy_rank", number(m.entropyRank)),
            ("stable_rank", number(m.stableRank)),
            ("spectral_norm", number(m.spectralNorm)),
            ("frobenius_norm", number(m.frobeniusNorm)),
        ]
        if let effective = module.effectiveSingularValues {
            let e = SpectrumMetrics(singularValues: effective)
            fields.append(("effective_update", .object(JSONObject(uniqueKeysWithValues: [
                ("singular_values", floats(effective)), ("energy_rank", energyRanks(e)),
                ("stable_rank", number(e.stableRank)), ("frobenius_norm", number(e.frobeniusNorm)),
            ]))))
        }
        return .object(JSONObject(uniqueKeysWithValues: fields))
    }
    func mean(_ value: (SpectrumMetrics) -> Double) -> JSONValue {
        number(modules.isEmpty ? 0 : modules.reduce(0) { $0 + value($1.metrics) } / Double(modules.count))
    }
    let summary: JSONValue = .object([
        "modules": .number(JSONNumber(modules.count)),
        "mean_energy_rank": .object(["0.90": mean { Double($0.energyRank(0.90)) }, "0.95": mean { Double($0.energyRank(0.95)) },
                                     "0.99": mean { Double($0.energyRank(0.99)) }]),
        "mean_entropy_rank": mean(\.entropyRank),
        "mean_stable_rank": mean(\.stableRank),
        "total_rank": .number(JSONNumber(modules.reduce(0) { $0 + $1.rank })),
        "total_parameters": .number(JSONNumber(modules.reduce(0) { $0 + $1.rank * ($1.shape[0] + $1.shape[1]) })),
    ])
    return .object([
        "adapter": .string(id),
        // For DoRA, singular_values describe s·BA; effective_update describes the full W' − W.
        "dora": .bool(spectrum.isDoRA),
        "modules": .array(entries),
        "summary": summary,
    ])
}
