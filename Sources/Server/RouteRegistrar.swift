// The one wrapper every route goes through: API key, JSON body limit, error mapping, metrics and
// the request log. Handlers either return a full response or stream through the sink.
import Dispatch
import HTTP

/// A handler that answers with a full response or throws.
typealias Handler = @Sendable (HTTPRequest) throws -> HTTPResponse

/// A handler that may stream (server-sent events): it either returns a full response, or starts a
/// stream on the sink, writes it, finishes it and returns nil. Errors thrown before the stream
/// starts become JSON error responses; after it started, the stream is ended.
typealias StreamingHandler = @Sendable (HTTPRequest, ResponseSink) throws -> HTTPResponse?

/// Collects routes into a router behind the shared wrapper, and the route table openapi.yaml must match.
final class RouteRegistrar {
    private(set) var router: Router
    /// "METHOD /pattern" for every route, in registration order.
    private(set) var table: [String] = []
    private let options: ServerOptions
    private let metrics: Metrics

    init(router: Router, options: ServerOptions, metrics: Metrics) {
        self.router = router
        self.options = options
        self.metrics = metrics
    }

    /// Registers a handler that answers with one response. `upload` routes may take bodies up to
    /// the upload limit; all others are JSON endpoints limited to `maxJSONBodyBytes`.
    func add(_ method: String, _ pattern: String, upload: Bool = false, _ handler: @escaping Handler) {
        addStreaming(method, pattern, upload: upload) { request, _ in try handler(request) }
    }

    /// Registers a handler that may stream its answer.
    func addStreaming(_ method: String, _ pattern: String, upload: Bool = false, _ handler: @escaping StreamingHandler) {
        table.append("\(method) \(pattern)")
        let options = self.options, metrics = self.metrics
        router.add(method, pattern) { request, sink in
            let start = DispatchTime.now()
            var status: Int
            var response: HTTPResponse? = nil
            do {
                if let key = options.apiKey, !Routes.open.contains(pattern) { try authorize(request, key: key) }
                if !upload && request.body.count > options.maxJSONBodyBytes {
                    throw HTTPError(.contentTooLarge, code: "body_too_large",
                                    message: "request body of \(request.body.count) bytes exceeds \(options.maxJSONBodyBytes)")
                }
                response = try handler(request, sink)
                status = response?.status.code ?? 200
            } catch {
                let (mapped, unexpected) = httpError(for: error)
                if unexpected { options.requestLog?("error: \(method) \(request.path): \(error)") }
                response = mapped.response
                status = mapped.status.code
            }
            // Record before answering: a client that reads /metrics right after its response must
            // already find that request counted.
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
            metrics.record(method: method, route: pattern, status: status, seconds: seconds)
            if let response {
                sink.send(response)   // ignored if the handler had started a stream
            }
            sink.finish()             // ends a stream the handler left open (after an error); no-op otherwise
            options.requestLog?("\(method) \(request.target) \(status) \(String(format: "%.1f", seconds * 1000))ms")
        }
    }
}

/// Checks `Authorization: Bearer <key>`: the scheme is case-insensitive (RFC 7235 §2.1) and may be
/// followed by several spaces; the token is compared with the key in constant time.
private func authorize(_ request: HTTPRequest, key: String) throws {
    let header = Array((request.headers["Authorization"] ?? "").utf8)
    let space = header.firstIndex(of: UInt8(ascii: " ")) ?? header.endIndex
    let scheme = String(decoding: header[..<space], as: UTF8.self)
    let given = Array(header[space...].drop { $0 == UInt8(ascii: " ") })
    let expected = Array(key.utf8)
    var difference = UInt8(given.count == expected.count && scheme.lowercased() == "bearer" ? 0 : 1)
    for i in 0..<expected.count { difference |= expected[i] ^ (i < given.count ? given[i] : 0) }
    guard difference == 0 else {
        throw HTTPError(.unauthorized, code: "unauthorized", message: "missing or wrong API key: send Authorization: Bearer <key>",
                        headers: ["WWW-Authenticate": "Bearer"])
    }
}
