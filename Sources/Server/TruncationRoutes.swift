// Rank-reduced adapters: POST /adapters/{id}/truncate, truncation on upload, and the request
// parsing shared with POST /diagnostics/rank-sweep (goals and probe tokens).
import Adapters
import Diagnostics
import Formats
import Foundation
import HTTP
import Models

/// Probes may hold at most this many tokens in all: each sweep row runs them through the model once
/// more, on the engine queue other requests share.
let maxProbeTokens = 4096
/// A sweep evaluates at most this many ranks.
let maxSweepRanks = 64

extension Routes {
    func installTruncationRoutes(_ routes: RouteRegistrar) {
        routes.add("POST", "/adapters/{id}/truncate") { request in try truncate(request) }
    }

    /// `POST /adapters/{id}/truncate {"new_id", "rank" | "energy" | "budget_params", "replace"?}`:
    /// stores and registers the truncated adapter under `new_id`, in PEFT's format.
    func truncate(_ request: HTTPRequest) throws -> HTTPResponse {
        let source = try id(request)
        let body = try JSONBody(request)
        try body.allowOnly(["new_id", "rank", "energy", "budget_params", "replace"])
        guard let newID = try body.string("new_id") else { throw HTTPError.badRequest("field new_id is required", code: "invalid_field") }
        try AdapterStore.validate(id: newID)
        let rank = try body.int("rank")
        if let rank, rank < 1 { throw HTTPError.badRequest("field rank must be at least 1, got \(rank)", code: "invalid_field") }
        guard let goal = try allocationGoal(body, uniform: rank.map { .uniform($0) }) else {
            throw HTTPError.badRequest("give one of rank, energy and budget_params", code: "invalid_field")
        }
        let replace = try body.bool("replace") ?? false
        if !replace, registry.contains(newID) { throw StoreError.exists(newID) }
        let stored = try registry.store.contents(of: source)
        let lease = try registry.lease(id: source, mode: .unmerged)
        defer { lease.release() }
        let files = try service.scheduler.run {
            try truncatedFiles(lease.adapter, configData: stored.configData, weightsData: stored.weightsData, goal: goal)
        }.result
        let description = try registry.put(id: newID, configData: files.configData, weightsData: Data(files.weightsData), replace: replace)
        return json(withTruncation(describe(description), truncationJSON(files), source: source), status: .created)
    }

    /// The truncated files of `adapter` (whose stored files are `configData` / `weightsData`).
    func truncatedFiles(_ adapter: LoRAAdapter, configData: Data, weightsData: Data, goal: RankAllocation.Goal) throws
        -> TruncatedAdapterFiles
    {
        let weights = try SafetensorsFile(data: weightsData, name: AdapterStore.weightsFileName)
        return try TruncatedAdapterFiles(adapter: adapter, spectrum: try AdapterSpectrum(adapter: adapter, model: model, effectiveUpdates: false),
                                         configData: configData, weights: weights, goal: goal)
    }

    /// At most one of `uniform` (already parsed), "energy" and "budget_params", validated.
    func allocationGoal(_ body: JSONBody, uniform: RankAllocation.Goal?) throws -> RankAllocation.Goal? {
        let energy = try number(body, "energy")
        let budget = try body.int("budget_params")
        let given = [uniform != nil, energy != nil, budget != nil].filter { $0 }.count
        guard given <= 1 else {
            throw HTTPError.badRequest("give only one of \(uniform == nil ? "" : "rank(s), ")energy and budget_params", code: "invalid_field")
        }
        if let energy {
            guard energy > 0, energy <= 1 else { throw HTTPError.badRequest("field energy must be in (0, 1], got \(energy)", code: "invalid_field") }
            return .energy(energy)
        }
        if let budget {
            guard budget >= 0 else { throw HTTPError.badRequest("field budget_params must be ≥ 0, got \(budget)", code: "invalid_field") }
            return .budget(budget)
        }
        return uniform
    }

    private func number(_ body: JSONBody, _ field: String) throws -> Double? {
        guard let value = body.object[field], !value.isNull else { return nil }
        guard let n = value.doubleValue else {
            throw HTTPError.badRequest("field \(field) must be a number, got \(value.typeName)", code: "invalid_field")
        }
        return n
    }

    /// `{"tokens": [[Int]]}`: non-empty sequences of ids the model accepts, within `maxProbeTokens`.
    func probeSequences(_ body: JSONBody) throws -> [[Int]]? {
        guard let value = body.object["probe"], !value.isNull else { return nil }
        guard let probe = value.objectValue else { throw HTTPError.badRequest("field probe must be an object {\"tokens\": [[...]]}", code: "invalid_field") }
        for key in probe.keys where key != "tokens" {
            throw HTTPError.badRequest("unknown field probe.\(key); expected probe.tokens", code: "invalid_field")
        }
        guard let tokens = probe["tokens"], let rows = tokens.arrayValue else {
            throw HTTPError.badRequest("field probe.tokens must be an array of arrays of token ids", code: "invalid_field")
        }
        let sequences = try rows.enumerated().map { try JSONBody.ints($0.element, field: "probe.tokens[\($0.offset)]") }
        let (vocabulary, positions): (Int, Int) = switch model {
        case .decoder(let m): (m.config.vocabularySize, m.config.maxPositions)
        case .encoder(let m): (m.config.vocabularySize, m.config.maxPositions)
        }
        guard !sequences.isEmpty else { throw HTTPError.badRequest("field probe.tokens must hold at least one sequence", code: "invalid_field") }
        let total = sequences.reduce(0) { $0 + $1.count }
        guard total <= maxProbeTokens else {
            throw HTTPError.badRequest("probe.tokens holds \(total) tokens; at most \(maxProbeTokens) are allowed", code: "invalid_field")
        }
        for (i, sequence) in sequences.enumerated() {
            guard !sequence.isEmpty else { throw HTTPError.badRequest("probe.tokens[\(i)] is empty", code: "invalid_field") }
            guard sequence.count <= positions else {
                throw HTTPError.badRequest("probe.tokens[\(i)] has \(sequence.count) tokens; the model takes at most \(positions)", code: "invalid_field")
            }
            if let bad = sequence.first(where: { $0 < 0 || $0 >= vocabulary }) {
                throw HTTPError.badRequest("probe.tokens[\(i)] holds token \(bad), outside the vocabulary 0..<\(vocabulary)", code: "invalid_field")
            }
        }
        return sequences
    }

    // MARK: Upload

    /// The truncation an upload asks for: `?max_rank=k` or `?energy=τ`, else the server's
    /// --max-adapter-rank default; nil for none.
    func uploadTruncationGoal(_ request: HTTPRequest) throws -> (goal: RankAllocation.Goal, maxRank: Int?)? {
        let maxRank = try request.query("max_rank").map { text -> Int in
            guard let k = Int(text), k >= 1 else {
                throw HTTPError.badRequest("query parameter max_rank must be an integer ≥ 1, got \(text)", code: "invalid_field")
            }
            return k
        }
        let energy = try request.query("energy").map { text -> Double in
            guard let tau = Double(text), tau > 0, tau <= 1 else {
                throw HTTPError.badRequest("query parameter energy must be a number in (0, 1], got \(text)", code: "invalid_field")
            }
            return tau
        }
        if maxRank != nil, energy != nil {
            throw HTTPError.badRequest("give only one of the query parameters max_rank and energy", code: "invalid_field")
        }
        if let energy { return (.energy(energy), nil) }
        if let k = maxRank ?? options.maxAdapterRank { return (.uniform(k), k) }
        return nil
    }

    /// Truncates an upload's files when its goal removes anything; returns the files to store and the
    /// `truncation` object of the response (with `"applied": false` when nothing was cut).
    func truncateUpload(id: String, configData: Data, weightsData: Data,
                        goal: RankAllocation.Goal) throws -> (config: Data, weights: Data, report: JSONValue) {
        let adapter = try registry.validatedAdapter(id: id, configData: configData, weightsData: weightsData)
        let files = try service.scheduler.run {
            try truncatedFiles(adapter, configData: configData, weightsData: weightsData, goal: goal)
        }.result
        let applied = zip(files.allocation.ranks, files.originalRanks).contains { $0 < $1 }
        guard case .object(var report) = truncationJSON(files) else { preconditionFailure("truncationJSON returns an object") }
        report["applied"] = .bool(applied)
        switch goal {
        case .uniform(let k): report["max_rank"] = .number(JSONNumber(k))
        case .energy(let tau): report["energy"] = .number(JSONNumber(tau))
        case .budget(let n): report["budget_params"] = .number(JSONNumber(n))
        }
        guard applied else { return (configData, weightsData, .object(report)) }
        return (files.configData, Data(files.weightsData), .object(report))
    }

    /// An adapter description with a `truncation` member (and the source adapter's id, if any).
    func withTruncation(_ description: JSONValue, _ truncation: JSONValue, source: String? = nil) -> JSONValue {
        guard case .object(var object) = description, case .object(var report) = truncation else { return description }
        if let source { report["source"] = .string(source) }
        object["truncation"] = .object(report)
        return .object(object)
    }
}
