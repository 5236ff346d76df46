// The Eckart HTTP API: routes, authentication, per-request metrics and error mapping.
import Adapters
import Diagnostics
import Dispatch
import Foundation
import HTTP
import LinearAlgebra
import Models
import Tokenizers

/// One server process: the base model, its adapter registry and the HTTP listener.
public final class EckartServer: Sendable {
    public let options: ServerOptions
    let model: BaseModel
    let registry: AdapterRegistry
    let service: InferenceService
    let metrics = Metrics()
    private let http: HTTPServer

    /// Opens the adapter store, registers every stored adapter again (damaged entries are reported
    /// in `startupReport`, never fatal) and prepares the listener.
    /// `tokenizer` (the model directory's tokenizer.json, if any) enables text input; `generation`
    /// (generation_config.json) says what ends a generation, else config.json's EOS ids do;
    /// `chatRenderer` (the model's chat_template) enables /v1/chat/completions.
    ///
    /// With `listener` (bound while the model loaded), `start()` has the routes take over its socket.
    public init(model: BaseModel, tokenizer: Tokenizer? = nil, generation: GenerationConfig? = nil,
                chatRenderer: (any ChatPromptRenderer)? = nil, options: ServerOptions, listener: StartupListener? = nil) throws {
        self.options = options
        self.model = model
        let store = try AdapterStore(root: options.adapterDirectory)
        registry = AdapterRegistry(model: model, store: store, loadedBudget: options.loadedCacheBytes,
                                   mergedBudget: options.mergedCacheBytes, maxRank: options.rankLimit)
        startupReport = registry.start()
        service = InferenceService(model: model, registry: registry,
                                   scheduler: InferenceScheduler(concurrency: options.inferenceConcurrency), metrics: metrics,
                                   generation: generation,
                                   limits: EngineLimits(maxStepTokens: options.maxStepTokens, maxRunning: options.maxRunning,
                                                        maxLoras: options.maxLoras, kvCacheBytes: options.kvCacheBytes,
                                                        maxWaiting: options.maxWaiting))
        var router = Router()
        routeTable = Routes(model: model, tokenizer: tokenizer, registry: registry, service: service, metrics: metrics, options: options,
                            baseSpectra: BaseSpectrumCache(model: model, directory: options.diagnosticsCacheDirectory),
                            chatRenderer: chatRenderer)
            .install(into: &router)
        handler = router.handler
        attached = listener != nil
        http = listener?.http ?? HTTPServer(configuration: Self.httpConfiguration(options), handler: router.handler)
    }

    private let handler: HTTPHandler
    /// Built on a `StartupListener`: `start()` hands its socket to the routes instead of binding.
    private let attached: Bool

    /// The listener's settings from the server options.
    static func httpConfiguration(_ options: ServerOptions) -> HTTPServerConfiguration {
        var configuration = HTTPServerConfiguration(
            host: options.host, port: options.port, maxConnections: options.maxConnections,
            headerReadTimeout: options.headerReadTimeout, idleTimeout: options.idleTimeout,
            limits: ParserLimits(maxHeaderBytes: options.maxHeaderBytes, maxBodyBytes: options.maxUploadBytes))
        configuration.lane = Routes.lane
        configuration.minReceiveRate = options.minReceiveRate
        return configuration
    }

    /// Every route as "METHOD /pattern", in registration order.
    public let routeTable: [String]

    /// What re-registering the store found at start.
    public let startupReport: AdapterScanReport

    /// Binds and starts accepting connections; on a `StartupListener`, starts answering its
    /// connections with the routes (from then on /readyz says ready).
    public func start() throws {
        if attached { http.replaceHandler(handler) } else { try http.start() }
    }

    /// The bound port (useful with port 0).
    public var port: Int { http.port }

    /// Stops accepting, lets in-flight requests finish (up to `timeout` seconds), then closes.
    @discardableResult
    public func shutdown(timeout: Double = 30) -> Bool {
        let clean = http.shutdown(timeout: timeout)
        service.engine?.stop()
        return clean
    }
}
