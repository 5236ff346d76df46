// The API's shared state and the routes every server has (probes, metrics, the model). Each area's
// routes live in their own file (AdapterRoutes, InferenceRoutes, DiagnosticsRoutes) and register
// through `RouteRegistrar`, the one wrapper for API keys, body limits, errors and metrics.
import Adapters
import Diagnostics
import Dispatch
import Formats
import Foundation
import HTTP
import Models
import Tokenizers

struct Routes: Sendable {
    let model: BaseModel
    let tokenizer: Tokenizer?
    let registry: AdapterRegistry
    let service: InferenceService
    let metrics: Metrics
    let options: ServerOptions
    /// The base weights' SVDs, cached by content (GET /diagnostics/spectrum?base=true, /diagnostics/alignment).
    let baseSpectra: BaseSpectrumCache
    /// Renders chat prompts with the model's chat_template; nil when the model has none.
    var chatRenderer: (any ChatPromptRenderer)? = nil

    /// Quick routes answer from the shared handler pool; everything else (generation, embeddings,
    /// diagnostics, uploads: work that may wait its turn for long) runs on a thread of its own, so a
    /// probe or a scrape never waits behind it (`HandlerLane`).
    static let quickGETs: Set<String> = ["/healthz", "/readyz", "/metrics", "/model", "/adapters", "/v1/models", "/"]

    @Sendable static func lane(_ request: HTTPRequest) -> HandlerLane {
        let path = request.path
        let quick = (request.method == "GET" || request.method == "HEAD") && (quickGETs.contains(path) || path.hasPrefix("/ui/"))
        return quick ? .pool : .ownThread
    }

    /// Routes that answer without the API key (probes and scraping).
    static let open: Set<String> = ["/healthz", "/readyz", "/metrics", "/", "/ui/{file}"]

    /// Registers every route; returns them as "METHOD /pattern" lines (what openapi.yaml must list).
    func install(into router: inout Router) -> [String] {
        let routes = RouteRegistrar(router: router, options: options, metrics: metrics)
        routes.add("GET", "/healthz") { _ in .json(#"{"status": "ok"}"#) }
        routes.add("GET", "/readyz") { _ in .json(#"{"status": "ready"}"#) }
        routes.add("GET", "/metrics") { _ in
            .text(metrics.render(registry: registry) + service.serving.render(),
                  headers: ["Content-Type": "text/plain; version=0.0.4; charset=utf-8"])
        }
        routes.add("GET", "/model") { _ in json(modelDescription()) }
        installDashboardRoutes(routes)
        installAdapterRoutes(routes)
        installInferenceRoutes(routes)
        installDiagnosticsRoutes(routes)
        installTruncationRoutes(routes)
        installOpenAIRoutes(routes)
        router = routes.router
        return routes.table
    }

    func id(_ request: HTTPRequest) throws -> String {
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

/// The model's tokenizer, or a 400 saying why there is none: the model has no tokenizer, or
/// `problem`, the reason the one it has failed to load.
func requireTokenizer(_ tokenizer: Tokenizer?, problem: String?) throws -> Tokenizer {
    if let tokenizer { return tokenizer }
    if let problem {
        throw HTTPError.badRequest("text input is off because the model's tokenizer failed to load: \(problem); send token ids",
                                   code: "tokenizer_failed")
    }
    throw HTTPError.badRequest("the model has no tokenizer (tokenizer.json); send token ids", code: "no_tokenizer")
}

extension Routes {
    /// The model's tokenizer, or a 400 saying why there is none.
    func requireTokenizer() throws -> Tokenizer { try Server.requireTokenizer(tokenizer, problem: options.tokenizerProblem) }
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
