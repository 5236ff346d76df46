// Diagnostics routes: spectra of adapter updates and rank sweeps.
import Adapters
import Diagnostics
import Formats
import Foundation
import HTTP

extension Routes {
    func installDiagnosticsRoutes(_ routes: RouteRegistrar) {
        routes.addStreaming("GET", "/diagnostics/spectrum") { request, sink in   // base=… → BaseDiagnosticsRoutes
            request.query("base") != nil ? try baseSpectrum(request, sink: sink) : try spectrum(request)
        }
        routes.add("GET", "/diagnostics/alignment") { request in try alignment(request) }
        routes.add("GET", "/diagnostics/quantization") { request in try quantization(request) }
        routes.add("POST", "/diagnostics/rank-sweep") { request in try rankSweep(request) }
    }

    /// `GET /diagnostics/spectrum?adapter=ID[&module=REGEX]`: σ of each ΔW = s·BA via QR of the factors.
    func spectrum(_ request: HTTPRequest) throws -> HTTPResponse {
        for item in request.queryItems where !["adapter", "module"].contains(item.name) {
            throw HTTPError.badRequest("unknown query parameter \(item.name); expected adapter and optionally module", code: "invalid_field")
        }
        guard let id = request.query("adapter") else {
            throw HTTPError.badRequest("query parameter adapter is required", code: "invalid_field")
        }
        let filter = try moduleFilter(request)
        let lease = try registry.lease(id: id, mode: .unmerged)
        defer { lease.release() }
        let spectrum = try service.scheduler.run { try AdapterSpectrum(adapter: lease.adapter, model: model) }.result
        return json(spectrumJSON(spectrum, adapter: id, filter: filter))
    }

    /// `POST /diagnostics/rank-sweep {"adapter", "ranks"? | "budget_params"? | "energy"?, "probe"?}`:
    /// Eckart–Young truncation error and parameter count of every update truncated to each rank
    /// (closed form from σ), or of one greedy allocation; with `probe.tokens`, the output-level effect
    /// of each truncation against the full adapter (see `ProbeEvaluation`).
    func rankSweep(_ request: HTTPRequest) throws -> HTTPResponse {
        let body = try JSONBody(request)
        try body.allowOnly(["adapter", "ranks", "budget_params", "energy", "probe"])
        guard let id = try body.string("adapter") else { throw HTTPError.badRequest("field adapter is required", code: "invalid_field") }
        let requested = try body.ints("ranks")
        if let requested, requested.isEmpty || requested.contains(where: { $0 < 0 }) {
            throw HTTPError.badRequest("field ranks must be a non-empty list of ranks ≥ 0", code: "invalid_field")
        }
        if let requested, requested.count > maxSweepRanks {
            throw HTTPError.badRequest("field ranks lists \(requested.count) ranks; at most \(maxSweepRanks) are allowed", code: "invalid_field")
        }
        // ranks excludes energy / budget_params; the placeholder only tells allocationGoal they were given.
        let allocation = try allocationGoal(body, uniform: requested.map { _ in .uniform(0) })
        let probe = try probeSequences(body)
        let lease = try registry.lease(id: id, mode: .unmerged)
        defer { lease.release() }
        let report = try service.scheduler.run { () throws -> RankSweepReport in
            let spectrum = try AdapterSpectrum(adapter: lease.adapter, model: model, effectiveUpdates: false)
            let goals: [RankAllocation.Goal]
            if let allocation, requested == nil {
                goals = [allocation]
            } else {
                goals = (requested ?? spectrum.defaultSweepRanks).map { .uniform($0) }
            }
            return try RankSweepReport(adapter: lease.adapter, model: model, spectrum: spectrum, goals: goals, probe: probe)
        }.result
        return json(rankSweepJSON(report, adapter: id, isDoRA: lease.adapter.isDoRA))
    }

}
