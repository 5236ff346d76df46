// The port, bound before the model loads: a port conflict shows at once, and while the model loads
// /healthz says the process is alive, /readyz answers 503 (so Kubernetes sends no traffic yet) and
// every other route 503 with Retry-After. `EckartServer(..., listener:)` then takes the socket over.
import HTTP

/// A bound listener answering "still loading" until the server's routes replace it.
public final class StartupListener: Sendable {
    let http: HTTPServer

    /// Binds `options.host:options.port` (0 picks a free port) and starts answering.
    public init(options: ServerOptions) throws {
        http = HTTPServer(configuration: EckartServer.httpConfiguration(options), handler: Self.loading)
        try http.start()
    }

    /// The bound port.
    public var port: Int { http.port }

    /// Stops the listener (when loading failed).
    public func shutdown() { http.shutdown(timeout: 1) }

    private static let loading: HTTPHandler = { request, sink in
        switch request.path {
        case "/healthz": sink.send(.json(#"{"status": "ok"}"#))
        case "/readyz": sink.send(.json(#"{"status": "loading"}"#, status: .serviceUnavailable))
        default:
            sink.send(HTTPError(.serviceUnavailable, code: "loading", message: "the model is still loading; retry shortly",
                                headers: ["Retry-After": "5"]).response)
        }
    }
}
