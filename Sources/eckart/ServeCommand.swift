// `eckart serve`: load the base model once and serve adapters over HTTP until SIGINT/SIGTERM.
import ArgumentParser
import ChatTemplates
import Dispatch
import Foundation
import LinearAlgebra
import Logging
import Models
import Server
import Tokenizers

struct ServeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve", abstract: "Serve a base model and its LoRA adapters over HTTP/1.1 + JSON.")

    @Option(help: "A Hugging Face model directory (config.json + *.safetensors) or a llama.cpp .gguf file.") var model: String
    @Option(help: "Address to bind.") var host = "127.0.0.1"
    @Option(help: "Port to bind (0 picks a free one).") var port = 8080
    @Option(help: "The model's name in /model and /v1/models (vLLM's flag); default: the model directory's name (a Hub snapshot's repository name).")
    var servedModelName: String?
    @Option(help: "Where uploaded adapters are stored; default: data/adapters/<served model name>, one store per model.")
    var adapterDir: String?
    @Option(help: "Directory under which POST /adapters may load adapters by path (off when unset).") var adapterRoot: String?
    @Option(help: "Where base-weight spectra are cached, keyed by the weights' content.") var diagnosticsCacheDir = "data/diagnostics-cache"
    @Option(help: "Require Authorization: Bearer KEY (or set ECKART_API_KEY).") var apiKey: String?
    @Option(help: "Memory budget of loaded adapters, MiB.") var adapterCacheMb = 512
    @Option(help: "Memory budget of merged weights, MiB.") var mergedCacheMb = 1024
    @Option(help: "Truncate uploaded adapters above this rank to it (unless an upload asks for ?max_rank= or ?energy=).")
    var maxAdapterRank: Int?
    @Option(help: "Refuse adapters whose rank exceeds this.") var rankLimit = 1024
    @Option(help: "Largest upload body, MiB.") var maxUploadMb = 512
    @Option(help: "Largest JSON request body, MiB.") var maxJsonMb = 8
    @Option(help: "Largest request header section, KiB.") var maxHeaderKb = 16
    @Option(help: "Seconds to read a request's headers.") var headerTimeout = 10.0
    @Option(help: "Seconds a keep-alive connection may idle.") var idleTimeout = 60.0
    @Option(help: "Open connections; near the limit an idle or slow one gives its slot to a new one, else new ones get 503.")
    var maxConnections = 256
    @Option(help: "Bytes a second a request's head and body must average after their first 2 s, else 408; 0 turns it off.")
    var minReceiveRate = 500.0
    @Option(help: "Diagnostics and encoder jobs at once; 1 lets OpenBLAS use every core for each job.") var inferenceConcurrency = 1
    @Option(help: "KV-cache budget of running generations, MiB; a request reserves prompt + max_tokens positions.") var kvCacheMb = 2048
    @Option(help: "Tokens one engine step runs (decode tokens plus prompt chunks).") var maxNumBatchedTokens = 512
    @Option(help: "Generations running at once.") var maxNumSeqs = 64
    @Option(help: "Distinct adapters among running generations.") var maxLoras = 16
    @Option(help: "Generations waiting for admission beyond which new ones get 503 with Retry-After.") var maxWaiting = 1024
    @Option(help: "The dashboard's directory, served at / and /ui/.") var publicDir = "Public"
    @Option(help: "Quantize a safetensors base's linear weights at load (q8_0, q4_0 or q4_1), QLoRA-style; adapters stay float32.")
    var quantize: QuantizationType?
    @Option(parsing: .upToNextOption,
            help: "Adapters to store and register at start (vLLM's flag): name=path or {\"name\": ..., \"path\": ...}, several after one flag.")
    var loraModules: [String] = []

    func validate() throws {
        for (name, value) in [("--adapter-cache-mb", adapterCacheMb), ("--merged-cache-mb", mergedCacheMb),
                              ("--max-upload-mb", maxUploadMb), ("--max-json-mb", maxJsonMb), ("--max-header-kb", maxHeaderKb),
                              ("--max-connections", maxConnections), ("--inference-concurrency", inferenceConcurrency),
                              ("--kv-cache-mb", kvCacheMb), ("--max-num-batched-tokens", maxNumBatchedTokens), ("--max-num-seqs", maxNumSeqs),
                              ("--max-loras", maxLoras), ("--max-waiting", maxWaiting),
                              ("--max-adapter-rank", maxAdapterRank ?? 1), ("--rank-limit", rankLimit)] where value < 1 {
            throw ValidationError("\(name) must be at least 1")
        }
        if let maxAdapterRank, maxAdapterRank > rankLimit {
            throw ValidationError("--max-adapter-rank \(maxAdapterRank) exceeds --rank-limit \(rankLimit)")
        }
        guard minReceiveRate >= 0 else { throw ValidationError("--min-receive-rate must not be negative") }
        guard (0...65535).contains(port) else { throw ValidationError("--port must be in 0...65535") }
        for module in loraModules {
            do { _ = try LoRAModule(parsing: module) } catch { throw ValidationError("\(error)") }
        }
        if let servedModelName, !ModelName.isValid(servedModelName) {
            throw ValidationError("--served-model-name must be 1 to 128 characters without '/' or control characters")
        }
    }

    /// The served model's name: --served-model-name, else resolved from the directory.
    var resolvedModelName: String { servedModelName ?? ModelName.resolve(directory: model) }

    /// --adapter-dir, else one store per served model under data/adapters (an adapter is only valid on
    /// the base it was trained on).
    var resolvedAdapterDir: String { adapterDir ?? "data/adapters/\(resolvedModelName)" }

    func run() throws {
        LoggingSystem.bootstrap { StreamLogHandler.standardError(label: $0) }
        var logger = Logger(label: "eckart")
        logger.logLevel = .info
        // One job at a time gets every core through OpenBLAS; several jobs get one thread each.
        let cores = ProcessInfo.processInfo.activeProcessorCount
        BLAS.setThreadCount(inferenceConcurrency == 1 ? cores : 1)

        let dashboardURL = URL(fileURLWithPath: publicDir, isDirectory: true)
        let dashboard = FileManager.default.fileExists(atPath: dashboardURL.appendingPathComponent("index.html").path) ? dashboardURL : nil
        var options = ServerOptions()
        options.host = host
        options.port = port
        options.adapterDirectory = URL(fileURLWithPath: resolvedAdapterDir)
        options.adapterRoot = adapterRoot.map { URL(fileURLWithPath: $0) }
        options.diagnosticsCacheDirectory = URL(fileURLWithPath: diagnosticsCacheDir)
        options.apiKey = apiKey ?? ProcessInfo.processInfo.environment["ECKART_API_KEY"].flatMap { $0.isEmpty ? nil : $0 }
        options.loadedCacheBytes = adapterCacheMb << 20
        options.mergedCacheBytes = mergedCacheMb << 20
        options.maxAdapterRank = maxAdapterRank
        options.rankLimit = rankLimit
        options.maxUploadBytes = maxUploadMb << 20
        options.maxJSONBodyBytes = maxJsonMb << 20
        options.maxHeaderBytes = maxHeaderKb << 10
        options.headerReadTimeout = headerTimeout
        options.idleTimeout = idleTimeout
        options.maxConnections = maxConnections
        options.minReceiveRate = minReceiveRate
        options.inferenceConcurrency = inferenceConcurrency
        options.kvCacheBytes = kvCacheMb << 20
        options.maxStepTokens = maxNumBatchedTokens
        options.maxRunning = maxNumSeqs
        options.maxLoras = maxLoras
        options.maxWaiting = maxWaiting
        options.modelName = resolvedModelName
        options.modelAliases = [ModelName.resolve(directory: model)].filter { $0 != resolvedModelName }
        options.publicDirectory = dashboard
        let requestLogger = logger
        options.requestLog = { @Sendable line in requestLogger.info("\(line)") }
        // Bind before loading: a port conflict shows at once, and /readyz answers 503 until the model is ready.
        let listener = try failing { try StartupListener(options: options) }
        logger.info("listening on http://\(host):\(listener.port) (loading \(model); /readyz answers 503 until ready)")
        let server = try failing { () throws -> EckartServer in
            let start = DispatchTime.now()
            let base = try BaseModel.load(path: URL(fileURLWithPath: model), quantization: quantize)
            logger.info("loaded \(base.architecture) from \(model) in \(Int(seconds(since: start) * 1000)) ms")
            let text = try ModelText.load(path: URL(fileURLWithPath: model), base: base, logger: logger)
            options.tokenizerProblem = text.tokenizerProblem
            let server = try EckartServer(model: base, tokenizer: text.tokenizer, generation: text.generation, chatRenderer: text.chatTemplate,
                                          options: options, listener: listener)
            let report = server.startupReport
            logger.info("adapters: \(report.valid.count) registered from \(resolvedAdapterDir)")
            for damaged in report.damaged { logger.warning("skipped damaged adapter \(damaged.id): \(damaged.reason)") }
            // --lora-modules: a refused adapter stops the start, as in vLLM (the operator asked for it).
            for module in try loraModules.map(LoRAModule.init(parsing:)) {
                do {
                    try server.preload(module)
                } catch {
                    throw ValidationError("--lora-modules \(module.name)=\(module.path): \(error)")
                }
                logger.info("adapter \(module.name) loaded from \(module.path)")
            }
            try server.start()
            return server
        }
        logger.info("ready on http://\(host):\(server.port) as \(resolvedModelName)")
        if dashboard != nil {
            logger.info("dashboard at http://\(host):\(server.port)/ from \(publicDir)")
        } else {
            logger.warning("dashboard off: \(publicDir)/index.html not found (run from the repository root, or pass --public-dir)")
        }
        waitForTermination()
        logger.info("shutting down: finishing in-flight requests")
        server.shutdown(timeout: 30)
    }
}

/// Blocks until SIGINT or SIGTERM arrives.
private func waitForTermination() {
    let done = DispatchSemaphore(value: 0)
    var sources: [DispatchSourceSignal] = []
    for signalNumber in [SIGINT, SIGTERM] {
        signal(signalNumber, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
        source.setEventHandler { @Sendable in done.signal() }
        source.resume()
        sources.append(source)
    }
    done.wait()
    withExtendedLifetime(sources) {}
}
