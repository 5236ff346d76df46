// Everything `eckart serve` can be told, with the defaults the README documents.
import Foundation

/// Settings of one Eckart server process.
public struct ServerOptions: Sendable {
    public var host = "127.0.0.1"
    public var port = 8080
    /// Where uploaded adapters are stored, one PEFT directory per id.
    public var adapterDirectory = URL(fileURLWithPath: "data/adapters")
    /// `POST /adapters` with a `path` may only load directories below this root; nil disables it.
    public var adapterRoot: URL? = nil
    /// Where `GET /diagnostics/spectrum?base=true` keeps base singular values, keyed by content.
    public var diagnosticsCacheDirectory = URL(fileURLWithPath: "data/diagnostics-cache")
    /// When set, every route but /healthz, /readyz and /metrics needs `Authorization: Bearer <key>`.
    public var apiKey: String? = nil
    public var loadedCacheBytes = 512 << 20
    public var mergedCacheBytes = 1024 << 20
    /// Uploads are truncated to this rank unless they ask otherwise (`?max_rank=` / `?energy=`); nil
    /// stores them as they are.
    public var maxAdapterRank: Int? = nil
    /// Adapters whose `r` or any `rank_pattern` rank exceeds this are refused outright.
    public var rankLimit = 1024
    /// Largest request body for adapter uploads; JSON endpoints accept at most `maxJSONBodyBytes`.
    public var maxUploadBytes = 512 << 20
    public var maxJSONBodyBytes = 8 << 20
    public var maxHeaderBytes = 16 << 10
    public var headerReadTimeout = 10.0
    public var idleTimeout = 60.0
    public var maxConnections = 256
    /// Bytes a second a request must average once it has been arriving for 2 s (0: no minimum).
    public var minReceiveRate = 500.0
    /// Why the model's tokenizer failed to load, if it did: requests with text are told so.
    public var tokenizerProblem: String? = nil
    /// Diagnostics and encoder jobs run at once (see `InferenceScheduler`); decoders generate on the
    /// batch engine, which batches every request whatever this says.
    public var inferenceConcurrency = 1
    /// The batch engine's budgets (decoders): KV-cache bytes, tokens per step, running sequences,
    /// distinct adapters, waiting requests.
    public var kvCacheBytes = 2048 << 20
    public var maxStepTokens = 512
    public var maxRunning = 64
    public var maxLoras = 16
    public var maxWaiting = 1024
    /// The name `/model` and `/v1/models` report (`--served-model-name`, else the model directory's name).
    public var modelName = "model"
    /// Other names of the base model (its directory's name when `--served-model-name` differs),
    /// also accepted when an adapter's base_model_name_or_path is checked.
    public var modelAliases: [String] = []
    /// The dashboard's files (`GET /`, `GET /ui/{file}`, open without the API key); nil turns it off.
    public var publicDirectory: URL? = nil
    /// Called once per answered request with a one-line summary; the executable logs it.
    public var requestLog: (@Sendable (String) -> Void)? = nil

    public init() {}
}
