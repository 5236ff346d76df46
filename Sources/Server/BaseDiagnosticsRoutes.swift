// Diagnostics of the frozen base weights: GET /diagnostics/spectrum?base=true (per-module σ(W), the
// energy-rank table, cached by content, with SSE progress) and GET /diagnostics/alignment (how an
// adapter's update sits in W's singular subspaces, and intruder dimensions).
import Adapters
import Diagnostics
import Formats
import Foundation
import HTTP

extension Routes {
    /// `GET /diagnostics/spectrum?base=true[&module=REGEX]`. With `Accept: text/event-stream` it
    /// streams `progress` events (one per module) and then one `result` event; otherwise it blocks and
    /// returns the JSON. Each SVD is one scheduler job, so inference requests interleave between
    /// modules; a client that disconnects stops the computation before the next module.
    func baseSpectrum(_ request: HTTPRequest, sink: ResponseSink) throws -> HTTPResponse? {
        if request.query("adapter") != nil {
            throw HTTPError.badRequest("base=true describes the base weights and takes no adapter; drop one of base and adapter",
                                       code: "invalid_field")
        }
        for item in request.queryItems where !["base", "module"].contains(item.name) {
            throw HTTPError.badRequest("unknown query parameter \(item.name); base=true takes only module", code: "invalid_field")
        }
        guard request.query("base") == "true" else {
            throw HTTPError.badRequest("query parameter base must be true (omit it and give adapter for an adapter's spectrum)",
                                       code: "invalid_field")
        }
        let filter = try moduleFilter(request)
        let names = model.linearModules.map(\.name).filter { name in filter.map { $0.search(name) } ?? true }

        guard acceptsEventStream(request) else {
            let spectrum = try BaseSpectrum.compute(modules: names, cache: baseSpectra, run: { job in try service.scheduler.run(job).result })!
            return json(baseSpectrumJSON(spectrum, model: options.modelName))
        }
        sink.startStream(status: .ok, headers: ["Content-Type": "text/event-stream", "Cache-Control": "no-cache"])
        do {
            let spectrum = try BaseSpectrum.compute(
                modules: names, cache: baseSpectra, run: { job in try service.scheduler.run(job).result },
                shouldContinue: { sink.isConnected },
                progress: { done, total, module in
                    let data: JSONValue = .object(["done": .number(JSONNumber(done)), "total": .number(JSONNumber(total)),
                                                   "module": .string(module.name), "cached": .bool(module.cached)])
                    sink.write(serverSentEvent("progress", data))
                })
            if let spectrum { sink.write(serverSentEvent("result", baseSpectrumJSON(spectrum, model: options.modelName))) }
        } catch {
            // The 200 head is out: report the failure as an event, then end the stream.
            let (mapped, _) = httpError(for: error)
            sink.write(serverSentEvent("error", .object(["code": .string(mapped.code), "message": .string(mapped.message)])))
        }
        sink.finish()
        return nil
    }

    /// `GET /diagnostics/alignment?adapter=ID[&module=REGEX][&top=K]`: subspace overlap of each update
    /// with W's top-K singular subspaces and the intruder dimensions of W + ΔW (see SubspaceAlignment).
    func alignment(_ request: HTTPRequest) throws -> HTTPResponse {
        for item in request.queryItems where !["adapter", "module", "top"].contains(item.name) {
            throw HTTPError.badRequest("unknown query parameter \(item.name); expected adapter, module and top", code: "invalid_field")
        }
        guard let id = request.query("adapter") else {
            throw HTTPError.badRequest("query parameter adapter is required", code: "invalid_field")
        }
        var top: Int? = nil
        if let text = request.query("top") {
            guard let k = Int(text), k >= 1 else {
                throw HTTPError.badRequest("query parameter top must be an integer ≥ 1, got \(text)", code: "invalid_field")
            }
            top = k
        }
        let filter = try moduleFilter(request)
        let lease = try registry.lease(id: id, mode: .unmerged)
        defer { lease.release() }
        let adapter = lease.adapter
        let modules = try adapter.moduleNames.filter { name in filter.map { $0.search(name) } ?? true }.map { name in
            // One scheduler job per module: the base SVD (cached) and the Krylov iteration.
            try service.scheduler.run { () throws -> ModuleAlignment in
                guard let base = model.linear(named: name) else { throw DiagnosticsError.missingBaseWeight(module: name) }
                return try SubspaceAlignment.module(name: name, weight: base.weight, base: try baseSpectra.decomposition(of: name),
                                                    update: adapter.updates[name]!, top: top)
            }.result
        }
        return json(alignmentJSON(modules, adapter: id, top: top))
    }

    /// The `module` query parameter as a regular expression (nil when absent); shared by the diagnostics routes.
    /// Python `re` syntax, matched as `re.search` by `BoundedRegex`, so no pattern can make a handler spin.
    func moduleFilter(_ request: HTTPRequest) throws -> BoundedRegex? {
        guard let pattern = request.query("module") else { return nil }
        do { return try BoundedRegex(pattern) } catch {
            // A pattern refused for its length is not echoed back.
            let shown = if case .tooLong = error { "" } else { " \(pattern)" }
            throw HTTPError.badRequest("query parameter module\(shown) is not a valid regular expression: \(error)",
                                       code: "invalid_field")
        }
    }
}

/// Whether the client asked for server-sent events (`Accept` lists text/event-stream).
private func acceptsEventStream(_ request: HTTPRequest) -> Bool {
    request.headers.values(for: "Accept").contains { $0.lowercased().contains("text/event-stream") }
}

/// One SSE message: `event: NAME` and the JSON on one `data:` line (compact JSON has no newlines).
private func serverSentEvent(_ name: String, _ data: JSONValue) -> [UInt8] {
    Array("event: \(name)\ndata: ".utf8) + data.serializedBytes() + Array("\n\n".utf8)
}
