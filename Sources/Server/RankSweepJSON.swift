// The wire form of rank sweeps, allocations and truncations, shared by the server and the CLI.
import Diagnostics
import Foundation
import Formats

private func number(_ x: Double) -> JSONValue { .number(JSONNumber(x)) }
private func integer(_ x: Int) -> JSONValue { .number(JSONNumber(x)) }

/// `{"goal"?, "rank"?, "parameters", "relative_error", "energy_kept", "modules": [...], "probe"?}`.
public func allocationJSON(_ row: RankSweepRow) -> JSONValue {
    let a = row.allocation
    var fields: [(String, JSONValue)] = []
    switch row.goal {
    case .uniform(let k): fields.append(("rank", integer(k)))
    case .budget(let n): fields.append(("goal", .object(["budget_params": integer(n)])))
    case .energy(let tau): fields.append(("goal", .object(["energy": number(tau)])))
    }
    fields += [
        ("parameters", integer(a.parameterCount)),
        ("relative_error", number(a.relativeError)),
        ("energy_kept", number(a.energyKept)),
        ("modules", .array(a.modules.indices.map { i in
            .object(["name": .string(a.modules[i]), "rank": integer(a.ranks[i]),
                     "relative_error": number(a.moduleRelativeErrors[i])])
        })),
    ]
    if let probe = row.probe { fields.append(("probe", probeJSON(probe))) }
    return .object(JSONObject(uniqueKeysWithValues: fields))
}

/// Decoders: mean_kl, max_abs_logit_difference, loss, perplexity; encoders: mean_cosine_similarity.
public func probeJSON(_ metrics: ProbeMetrics) -> JSONValue {
    switch metrics {
    case .decoder(let kl, let difference, let loss, let perplexity):
        return .object(["mean_kl": number(kl), "max_abs_logit_difference": number(difference),
                        "loss": loss.map(number) ?? .null, "perplexity": perplexity.map(number) ?? .null])
    case .encoder(let cosine):
        return .object(["mean_cosine_similarity": number(cosine)])
    }
}

/// The response of POST /diagnostics/rank-sweep and `eckart sweep`: `{"adapter", "dora", "probe"?,
/// "sweep": [...]}` for uniform ranks, or `"allocation": {...}` for one budget / energy goal.
public func rankSweepJSON(_ report: RankSweepReport, adapter id: String, isDoRA: Bool) -> JSONValue {
    var fields: [(String, JSONValue)] = [("adapter", .string(id)), ("dora", .bool(isDoRA))]
    if !report.probeSequences.isEmpty {
        var probe: [(String, JSONValue)] = [("sequences", integer(report.probeSequences.count)),
                                            ("tokens", integer(report.probeSequences.reduce(0) { $0 + $1.count }))]
        if let loss = report.fullLoss {
            probe += [("full_adapter_loss", number(loss)), ("full_adapter_perplexity", number(exp(loss)))]
        }
        fields.append(("probe", .object(JSONObject(uniqueKeysWithValues: probe))))
    }
    if case .uniform? = report.rows.first?.goal {
        fields.append(("sweep", .array(report.rows.map(allocationJSON))))
    } else if let row = report.rows.first {
        fields.append(("allocation", allocationJSON(row)))
    }
    return .object(JSONObject(uniqueKeysWithValues: fields))
}

/// What a truncation cut: `{"from_rank", "ranks": {module: k}, "relative_error", "energy_kept",
/// "parameters_before", "parameters_after"}`.
public func truncationJSON(_ files: TruncatedAdapterFiles) -> JSONValue {
    let a = files.allocation
    return .object([
        "from_rank": integer(files.originalRanks.max() ?? 0),
        "ranks": .object(JSONObject(uniqueKeysWithValues: zip(a.modules, a.ranks).map { ($0, integer($1)) })),
        "relative_error": number(a.relativeError),
        "energy_kept": number(a.energyKept),
        "parameters_before": integer(files.parametersBefore),
        "parameters_after": integer(files.parametersAfter),
    ])
}
