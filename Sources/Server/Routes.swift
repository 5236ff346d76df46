// Every route of the API and its handler. Handlers return a response or throw; one wrapper turns
// errors into JSON error bodies, checks the API key and records metrics.
import Adapters
import Diagnostics
import Dispatch
import Formats
import Foundation
import HTTP
import Models
import Tokenizers

/// A handler that answers with a full response or throws.
typealias Handler = @Sendable (HTTPRequest) throws -> HTTPResponse

struct Routes: Sendable {
    let model: BaseModel
    let tokenizer: Tokenizer?
    let registry: AdapterRegistry
    let service: InferenceService
    let metrics: Metrics
    let options: ServerOptions

    /// Routes that answer without the API key (probes and scraping).
    static let open: Set<String> = ["/healthz", "/readyz", "/metrics"]

    /// Registers every route; returns them as "METHOD /pattern" lines (what openapi.yaml must list).
    func install(into router: inout Router) -> [String] {
        var table: [String] = []
        func add(_ router: inout Router, _ method: String, _ pattern: String, upload: Bool = false, _ handler: @escaping Handler) {
            table.append("\(method) \(pattern)")
            self.add(&router, method, pattern, upload: upload, handler)
        }
        add(&router, "GET", "/healthz") { _ in .json(#"{"status": "ok"}"#) }
        add(&router, "GET", "/readyz") { _ in .json(#"{"status": "ready"}"#) }
        add(&router, "GET", "/metrics") { _ in
            .text(metrics.render(registry: registry), headers: ["Content-Type": "text/plain; version=0.0.4; charset=utf-8"])
        }
        add(&router, "GET", "/model") { _ in json(modelDescription()) }
        add(&router, "GET", "/adapters") { _ in
            json(.object(["adapters": .array(registry.list().map(describe))]))
        }
        add(&router, "GET", "/adapters/{id}") { request in
            json(describe(try registry.description(of: try id(request))))
        }
        add(&router, "DELETE", "/adapters/{id}") { request in
            try registry.delete(id: try id(request))
            return HTTPResponse(status: .noContent)
        }
        add(&router, "GET", "/adapters/{id}/files/{file}") { request in
            // A stored adapter's PEFT files, byte for byte, so `peft` can load what Eckart serves.
            let files = try registry.store.files(of: try id(request))
            let (url, type): (URL, String) = switch request.pathParameters["file"] ?? "" {
            case AdapterStore.configFileName: (files.config, "application/json")
            case AdapterStore.weightsFileName: (files.weights, "application/octet-stream")
            case let other: throw HTTPError.notFound("no file \(other); adapters have \(AdapterStore.configFileName) and \(AdapterStore.weightsFileName)")
            }
            let body = try Data(contentsOf: url, options: .alwaysMapped)
            return HTTPResponse(status: .ok, headers: ["Content-Type": type,
                                                       "Content-Disposition": "attachment; filename=\"\(url.lastPathComponent)\""],
                                body: Array(body))
        }
        add(&router, "POST", "/adapters", upload: true) { request in try upload(request) }
        add(&router, "POST", "/infer") { request in
            let body = try JSONBody(request)
            let inference = try InferRequest(body, encoder: { if case .encoder = model { true } else { false } }(),
                                             tokenizer: tokenizer)
            return json(try service.infer(inference, tokenizer: tokenizer))
        }
        add(&router, "GET", "/diagnostics/spectrum") { request in try spectrum(request) }
        add(&router, "POST", "/diagnostics/rank-sweep") { request in try rankSweep(request) }
        add(&router, "POST", "/tokenize") { request in
            let body = try JSONBody(request)
            try body.allowOnly(["text", "add_special_tokens"])
            guard let text = try body.string("text") else { throw HTTPError.badRequest("field text is required", code: "invalid_field") }
            let ids = try requireTokenizer(tokenizer).encode(text, addSpecialTokens: try body.bool("add_special_tokens") ?? true)
            return json(.object(["tokens": .array(ids.map { .number(JSONNumber($0)) })]))
        }
        add(&router, "POST", "/detokenize") { request in
            let body = try JSONBody(request)
            try body.allowOnly(["tokens", "skip_special_tokens"])
            guard let ids = try body.ints("tokens") else { throw HTTPError.badRequest("field tokens is required", code: "invalid_field") }
            let tokenizer = try requireTokenizer(tokenizer)
            if let bad = ids.first(where: { tokenizer.token(of: $0) == nil }) {
                throw HTTPError.badRequest("token id \(bad) is not in the vocabulary", code: "invalid_field")
            }
            return json(.object(["text": .string(tokenizer.decode(ids, skipSpecialTokens: try body.bool("skip_special_tokens") ?? true))]))
        }
        return table
    }

    /// Registers `handler` behind the shared wrapper.
    private func add(_ router: inout Router, _ method: String, _ pattern: String, upload: Bool = false, _ handler: @escaping Handler) {
        let options = self.options, metrics = self.metrics
        router.add(method, pattern) { request, sink in
            let start = DispatchTime.now()
            var response: HTTPResponse
            do {
                if let key = options.apiKey, !Routes.open.contains(pattern) { try authorize(request, key: key) }
                if !upload && request.body.count > options.maxJSONBodyBytes {
                    throw HTTPError(.contentTooLarge, code: "body_too_large",
                                    message: "request body of \(request.body.count) bytes exceeds \(options.maxJSONBodyBytes)")
                }
                response = try handler(request)
            } catch {
                let (mapped, unexpected) = httpError(for: error)
                if unexpected { options.requestLog?("error: \(method) \(request.path): \(error)") }
                response = mapped.response
            }
            // Record before answering: a client that reads /metrics right after its response must
            // already find that request counted.
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
            metrics.record(method: method, route: pattern, status: response.status.code, seconds: seconds)
            sink.send(response)
            options.requestLog?("\(method) \(request.target) \(response.status.code) \(String(format: "%.1f", seconds * 1000))ms")
        }
    }

    // MARK: - Handlers

    /// `POST /adapters`: multipart (`id`, `config`, `weights`) or JSON `{"id", "path"}` under --adapter-root.
    private func upload(_ request: HTTPRequest) throws -> HTTPResponse {
        let replace = request.query("replace") == "true"
        let contentType = request.headers["Content-Type"] ?? ""
        let id: String, configData: Data, weightsData: Data
        if contentType.lowercased().hasPrefix("multipart/form-data") {
            let parts: [FormPart]
            do {
                parts = try parseMultipart(request.body, contentType: contentType)
            } catch let error as MultipartError {
                throw HTTPError.badRequest(error.description, code: "invalid_multipart")
            }
            func field(_ name: String) throws -> [UInt8] {
                let matching = parts.filter { $0.name == name }
                guard matching.count == 1 else {
                    throw HTTPError.badRequest(matching.isEmpty ? "multipart field \(name) is missing" : "multipart field \(name) appears more than once",
                                               code: "invalid_multipart")
                }
                return matching[0].body
            }
            id = String(decoding: try field("id"), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            configData = Data(try field("config"))
            weightsData = Data(try field("weights"))
        } else {
            let body = try JSONBody(request)
            try body.allowOnly(["id", "path"])
            guard let givenID = try body.string("id") else { throw HTTPError.badRequest("field id is required", code: "invalid_field") }
            guard let path = try body.string("path") else { throw HTTPError.badRequest("field path is required", code: "invalid_field") }
            let directory = try confinedDirectory(path)
            id = givenID
            do {
                configData = try Data(contentsOf: directory.appendingPathComponent("adapter_config.json"))
                weightsData = try Data(contentsOf: directory.appendingPathComponent("adapter_model.safetensors"), options: .alwaysMapped)
            } catch {
                if FileManager.default.fileExists(atPath: directory.appendingPathComponent("adapter_model.bin").path) {
                    throw AdapterError.legacyPickleWeights(directory.appendingPathComponent("adapter_model.bin").path)
                }
                throw HTTPError.badRequest("\(path) must hold adapter_config.json and adapter_model.safetensors", code: "invalid_adapter")
            }
        }
        try AdapterStore.validate(id: id)
        let description = try registry.put(id: id, configData: configData, weightsData: weightsData, replace: replace)
        return json(describe(description), status: .created)
    }

    /// `GET /diagnostics/spectrum?adapter=ID[&module=REGEX]`: σ of each ΔW = s·BA via QR of the factors.
    private func spectrum(_ request: HTTPRequest) throws -> HTTPResponse {
        for item in request.queryItems where !["adapter", "module"].contains(item.name) {
            throw HTTPError.badRequest("unknown query parameter \(item.name); expected adapter and optionally module", code: "invalid_field")
        }
        guard let id = request.query("adapter") else {
            throw HTTPError.badRequest("query parameter adapter is required", code: "invalid_field")
        }
        var filter: NSRegularExpression? = nil
        if let pattern = request.query("module") {
            do { filter = try NSRegularExpression(pattern: pattern) } catch {
                throw HTTPError.badRequest("query parameter module is not a valid regular expression: \(pattern)", code: "invalid_field")
            }
        }
        let lease = try registry.lease(id: id, mode: .unmerged)
        defer { lease.release() }
        let spectrum = try service.scheduler.run { try AdapterSpectrum(adapter: lease.adapter, model: model) }.result
        return json(spectrumJSON(spectrum, adapter: id, filter: filter))
    }

    /// `POST /diagnostics/rank-sweep {"adapter", "ranks"}`: Eckart–Young truncation error and parameter
    /// count of every update truncated to each rank (closed form from σ).
    private func rankSweep(_ request: HTTPRequest) throws -> HTTPResponse {
        let body = try JSONBody(request)
        try body.allowOnly(["adapter", "ranks"])
        guard let id = try body.string("adapter") else { throw HTTPError.badRequest("field adapter is required", code: "invalid_field") }
        let requested = try body.ints("ranks")
        if let requested, requested.isEmpty || requested.contains(where: { $0 < 0 }) {
            throw HTTPError.badRequest("field ranks must be a non-empty list of ranks ≥ 0", code: "invalid_field")
        }
        let lease = try registry.lease(id: id, mode: .unmerged)
        defer { lease.release() }
        let spectrum = try service.scheduler.run { try AdapterSpectrum(adapter: lease.adapter, model: model) }.result
        let points = spectrum.sweep(ranks: requested ?? spectrum.defaultSweepRanks)
        let rows: [JSONValue] = points.map { point in
            .object([
                "rank": .number(JSONNumber(point.rank)),
                "parameters": .number(JSONNumber(point.parameterCount)),
                "relative_error": .number(JSONNumber(point.relativeError)),
                "modules": .array(zip(spectrum.modules, point.moduleRelativeErrors).map { module, error in
                    .object(["name": .string(module.name), "relative_error": .number(JSONNumber(error))])
                }),
            ])
        }
        return json(.object(["adapter": .string(id), "sweep": .array(rows)]))
    }

    /// Resolves `path` and refuses anything outside --adapter-root (after resolving symlinks).
    private func confinedDirectory(_ path: String) throws -> URL {
        guard let root = options.adapterRoot else {
            throw HTTPError(.forbidden, code: "path_loading_disabled", message: "loading adapters by path needs the server's --adapter-root")
        }
        let resolvedRoot = root.standardizedFileURL.resolvingSymlinksInPath().path
        let candidate = (path.hasPrefix("/") ? URL(fileURLWithPath: path) : root.appendingPathComponent(path))
            .standardizedFileURL.resolvingSymlinksInPath()
        guard candidate.path == resolvedRoot || candidate.path.hasPrefix(resolvedRoot + "/") else {
            throw HTTPError(.forbidden, code: "path_outside_root", message: "\(path) is outside the adapter root")
        }
        return candidate
    }

    private func id(_ request: HTTPRequest) throws -> String {
        let id = request.pathParameters["id"] ?? ""
        try AdapterStore.validate(id: id)
        return id
    }

    private func modelDescription() -> JSONValue {
        var fields: [(String, JSONValue)] = [
            ("name", .string(options.modelName)),
            ("architecture", .string(model.architecture)),
            ("parameters", .number(JSONNumber(model.parameterCount))),
        ]
        switch model {
        case .decoder(let m):
            let c = m.config
            fields += [("kind", "decoder"), ("hidden_size", int(c.hiddenSize)), ("intermediate_size", int(c.intermediateSize)),
                       ("layers", int(c.layerCount)), ("attention_heads", int(c.headCount)), ("kv_heads", int(c.kvHeadCount)),
                       ("head_dim", int(c.headDim)), ("vocab_size", int(c.vocabularySize)), ("max_positions", int(c.maxPositions))]
        case .encoder(let m):
            let c = m.config
            fields += [("kind", "encoder"), ("hidden_size", int(c.hiddenSize)), ("intermediate_size", int(c.intermediateSize)),
                       ("layers", int(c.layerCount)), ("attention_heads", int(c.headCount)), ("vocab_size", int(c.vocabularySize)),
                       ("max_positions", int(c.maxPositions)),
                       ("pooling", .string(m.pooling.mode.rawValue)), ("normalize", .bool(m.pooling.normalize))]
        }
        let modules = model.linearModules.map { m in
            JSONValue.object(["name": .string(m.name), "shape": .array([int(m.outFeatures), int(m.inFeatures)])])
        }
        fields.append(("target_modules", .array(modules)))
        return .object(JSONObject(uniqueKeysWithValues: fields))
    }
}

/// The model's tokenizer, or a 400 saying the model directory has none.
func requireTokenizer(_ tokenizer: Tokenizer?) throws -> Tokenizer {
    guard let tokenizer else {
        throw HTTPError.badRequest("the model directory has no tokenizer.json; send token ids", code: "no_tokenizer")
    }
    return tokenizer
}

/// Constant-time comparison of the bearer token with the key.
private func authorize(_ request: HTTPRequest, key: String) throws {
    let given = Array((request.headers["Authorization"] ?? "").utf8)
    let expected = Array("Bearer \(key)".utf8)
    var difference = UInt8(given.count == expected.count ? 0 : 1)
    for i in 0..<expected.count { difference |= expected[i] ^ (i < given.count ? given[i] : 0) }
    guard difference == 0 else {
        throw HTTPError(.unauthorized, code: "unauthorized", message: "missing or wrong API key: send Authorization: Bearer <key>",
                        headers: ["WWW-Authenticate": "Bearer"])
    }
}

func describe(_ d: AdapterDescription) -> JSONValue {
    .object([
        "id": .string(d.id), "rank": int(d.rank), "alpha": .number(JSONNumber(d.alpha)),
        "scaling": .number(JSONNumber(d.scaling)), "use_rslora": .bool(d.useRSLoRA), "variant": .string(d.variant.rawValue),
        "targets": .array(d.targets.map(JSONValue.string)), "parameters": int(d.parameterCount),
        "bytes": int(d.bytes), "merged_bytes": int(d.mergedBytes),
        "created": .string(ISO8601DateFormatter().string(from: d.created)),
    ])
}

private func int(_ i: Int) -> JSONValue { .number(JSONNumber(i)) }

func json(_ value: JSONValue, status: HTTPStatus = .ok) -> HTTPResponse {
    .json(value.serializedBytes(), status: status)
}
