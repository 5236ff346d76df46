// The wire forms of the base-weight diagnostics: GET /diagnostics/spectrum?base=true and
// GET /diagnostics/alignment. Module entries share their metric fields with SpectrumJSON.swift.
import Diagnostics
import Formats
import Foundation

/// `{"base": true, "model", "cached", "modules", "table", "summary"}` (see openapi.yaml, BaseSpectrum).
func baseSpectrumJSON(_ spectrum: BaseSpectrum, model: String) -> JSONValue {
    func int(_ i: Int) -> JSONValue { .number(JSONNumber(i)) }
    func number(_ x: Double) -> JSONValue { .number(JSONNumber(x)) }
    let modules: [JSONValue] = spectrum.modules.map { module in
        .object(JSONObject(uniqueKeysWithValues: [
            ("name", .string(module.name)),
            ("shape", .array(module.shape.map(int))),
        ] + metricFields(module.metrics)))
    }
    let table: [JSONValue] = spectrum.table.map { row in
        .object([
            "projection": .string(row.projection),
            "modules": int(row.moduleCount),
            "full_rank": int(row.fullRank),
            "mean_energy_rank": thresholdsJSON(row.meanEnergyRank),
            "mean_energy_rank_fraction": thresholdsJSON(row.meanEnergyRankFraction),
        ])
    }
    return .object([
        "base": .bool(true),
        "model": .string(model),
        "cached": .bool(spectrum.allCached),
        "modules": .array(modules),
        "table": .array(table),
        "summary": .object([
            "modules": int(spectrum.modules.count),
            "mean_energy_rank": thresholdsJSON(spectrum.meanEnergyRank),
            "mean_entropy_rank": number(spectrum.mean(\.metrics.entropyRank)),
            "mean_stable_rank": number(spectrum.mean(\.metrics.stableRank)),
        ]),
    ])
}

/// `{"adapter", "top", "modules", "summary"}` (see openapi.yaml, Alignment). `top` is the requested K;
/// by default each module uses its adapter rank, reported when they all agree and null otherwise.
func alignmentJSON(_ modules: [ModuleAlignment], adapter id: String, top: Int?) -> JSONValue {
    func int(_ i: Int) -> JSONValue { .number(JSONNumber(i)) }
    func number(_ x: Double) -> JSONValue { .number(JSONNumber(x)) }
    func mean(_ value: (ModuleAlignment) -> Double) -> Double {
        modules.isEmpty ? 0 : modules.reduce(0) { $0 + value($1) } / Double(modules.count)
    }
    let entries: [JSONValue] = modules.map { m in
        .object([
            "name": .string(m.name),
            "shape": .array(m.shape.map(int)),
            "top": int(m.top),
            "update_rank": int(m.updateRank),
            "subspace_overlap": .object(["left": number(m.leftOverlap), "right": number(m.rightOverlap)]),
            "random_overlap": .object(["left": number(m.randomLeftOverlap), "right": number(m.randomRightOverlap)]),
            "intruder_dimensions": int(m.intruderDimensions),
            "intruder_cosines": .array(m.intruderCosines.map(number)),
            "fine_tuned_singular_values": .array(m.fineTunedSingularValues.map { .number(JSONNumber($0)) }),
            "krylov": .object(["basis": int(m.krylovBasis), "relative_residual": .number(JSONNumber(m.krylovResidual))]),
        ])
    }
    return .object([
        "adapter": .string(id),
        "top": (top ?? (Set(modules.map(\.top)).count == 1 ? modules[0].top : nil)).map(int) ?? .null,
        "modules": .array(entries),
        "summary": .object([
            "modules": int(modules.count),
            "mean_left_overlap": number(mean(\.leftOverlap)),
            "mean_right_overlap": number(mean(\.rightOverlap)),
            "total_intruder_dimensions": int(modules.reduce(0) { $0 + $1.intruderDimensions }),
        ]),
    ])
}
