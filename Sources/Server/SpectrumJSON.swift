// The wire form of an adapter's spectrum, shared by GET /diagnostics/spectrum and `eckart spectrum`,
// and the per-module metric fields the base-weight spectrum (BaseSpectrumJSON.swift) shares with it.
import Diagnostics
import Formats
import Foundation

/// `{"adapter", "dora", "modules": [...], "summary": {...}}` for the modules whose names match `filter` (`re.search`).
public func spectrumJSON(_ spectrum: AdapterSpectrum, adapter id: String, filter: BoundedRegex? = nil) -> JSONValue {
    let spectrum = spectrum.filter { m in
        filter.map { $0.search(m.name) } ?? true
    }
    let modules = spectrum.modules
    func number(_ x: Double) -> JSONValue { .number(JSONNumber(x)) }
    func floats(_ xs: [Float]) -> JSONValue { .array(xs.map { .number(JSONNumber($0)) }) }
    let entries: [JSONValue] = modules.map { module in
        let m = module.metrics
        var fields: [(String, JSONValue)] = [
            ("name", .string(module.name)),
            ("shape", .array(module.shape.map { .number(JSONNumber($0)) })),
            ("rank", .number(JSONNumber(module.rank))),
            ("scaling", .number(JSONNumber(module.scaling))),
        ] + metricFields(m)
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
        "mean_energy_rank": thresholdsJSON(totals.meanEnergyRank),
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

/// The fields every spectrum entry carries (adapter updates and base weights alike): σ, the energy
/// curve, energy ranks, entropy and stable rank, spectral and Frobenius norms.
func metricFields(_ m: SpectrumMetrics) -> [(String, JSONValue)] {
    [
        ("singular_values", .array(m.singularValues.map { .number(JSONNumber($0)) })),
        ("energy", .array(m.energy.map { .number(JSONNumber($0)) })),
        ("energy_rank", energyRanks(m)),
        ("entropy_rank", .number(JSONNumber(m.entropyRank))),
        ("stable_rank", .number(JSONNumber(m.stableRank))),
        ("spectral_norm", .number(JSONNumber(m.spectralNorm))),
        ("frobenius_norm", .number(JSONNumber(m.frobeniusNorm))),
    ]
}

/// `{"0.90": k, "0.95": k, "0.99": k}`: the smallest ranks reaching each energy threshold.
func energyRanks(_ m: SpectrumMetrics) -> JSONValue {
    .object(["0.90": .number(JSONNumber(m.energyRank(0.90))), "0.95": .number(JSONNumber(m.energyRank(0.95))),
             "0.99": .number(JSONNumber(m.energyRank(0.99)))])
}

/// `{"0.90": x, "0.95": x, "0.99": x}` from values keyed by energy threshold (0 where missing).
func thresholdsJSON(_ values: [Double: Double]) -> JSONValue {
    .object(["0.90": .number(JSONNumber(values[0.90] ?? 0)), "0.95": .number(JSONNumber(values[0.95] ?? 0)),
             "0.99": .number(JSONNumber(values[0.99] ?? 0))])
}
