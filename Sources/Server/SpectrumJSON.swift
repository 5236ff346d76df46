// The wire form of an adapter's spectrum, shared by GET /diagnostics/spectrum and `eckart spectrum`.
import Diagnostics
import Formats
import Foundation

/// `{"adapter", "dora", "modules": [...], "summary": {...}}` for the modules whose names match `filter`.
public func spectrumJSON(_ spectrum: AdapterSpectrum, adapter id: String, filter: NSRegularExpression? = nil) -> JSONValue {
    let spectrum = spectrum.filter { m in
        filter.map { $0.firstMatch(in: m.name, range: NSRange(m.name.startIndex..., in: m.name)) != nil } ?? true
    }
    let modules = spectrum.modules
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
    let totals = spectrum.summary
    let summary: JSONValue = .object([
        "modules": .number(JSONNumber(totals.moduleCount)),
        "mean_energy_rank": .object(["0.90": number(totals.meanEnergyRank[0.90] ?? 0), "0.95": number(totals.meanEnergyRank[0.95] ?? 0),
                                     "0.99": number(totals.meanEnergyRank[0.99] ?? 0)]),
        "mean_entropy_rank": number(totals.meanEntropyRank),
        "mean_stable_rank": number(totals.meanStableRank),
        "total_rank": .number(JSONNumber(totals.totalRank)),
        "total_parameters": .number(JSONNumber(totals.totalParameters)),
    ])
    return .object([
        "adapter": .string(id),
        // For DoRA, singular_values describe s·BA; effective_update describes the full W' − W.
        "dora": .bool(spectrum.isDoRA),
        "modules": .array(entries),
        "summary": summary,
    ])
}
