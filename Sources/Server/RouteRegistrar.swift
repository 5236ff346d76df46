// The one wrapper every route goes through: API key, JSON body limit, error mapping, metrics and
// the request log. Handlers either return a full response or stream through the sink.
import Dispatch
import Formats
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
            let requestID = RequestID.of(request)
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
                if unexpected { options.requestLog?("error: \(method) \(request.path) [\(requestID)]: \(error)") }
                // The OpenAI routes answer every refusal in OpenAI's shape, this wrapper's own (a 401
                // for the API key, a 413 for the JSON limit) included: the SDKs parse nothing else.
                response = pattern.hasPrefix("/v1/") ? OpenAI.errorResponse(mapped) : mapped.response
                status = mapped.status.code
            }
            response?.headers.replaceOrAdd(name: RequestID.header, value: requestID)
            // Record before answering: a client that reads /metrics right after its response must
            // already find that request counted.
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
            metrics.record(method: method, route: pattern, status: status, seconds: seconds)
            if let response {
                sink.send(response)   // ignored if the handler had started a stream
            }
            sink.finish()             // ends a stream the handler left open (after an error); no-op otherwise
            var line = "\(method) \(request.target) \(status) \(String(format: "%.1f", seconds * 1000))ms [\(requestID)]"
            if status >= 400, let response, let reason = errorSummary(response.body) { line += " \(reason)" }
            options.requestLog?(line)
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

/// Each request's id: the client's `X-Request-Id` when it is a plain token (`[A-Za-z0-9._-]{1,64}`,
/// so it cannot forge log lines), else a fresh random one. It is echoed in the response header
/// (full responses; a stream's headers are written by its handler) and ends each request-log line.
enum RequestID {
    static let header = "X-Request-Id"

    static func of(_ request: HTTPRequest) -> String {
        if let given = request.headers[header], (1...64).contains(given.utf8.count),
           given.utf8.allSatisfy({ isTokenByte($0) }) {
            return given
        }
        return String(UInt64.random(in: 0...UInt64.max), radix: 16).leftPadded(to: 16)
    }
}

/// `[A-Za-z0-9._-]`
private func isTokenByte(_ byte: UInt8) -> Bool {
    switch byte {
    case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
         UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "-"): true
    default: false
    }
}

private extension String {
    func leftPadded(to width: Int) -> String { String(repeating: "0", count: max(0, width - count)) + self }
}

/// "code: message" from an error body in Eckart's shape or OpenAI's (whose `code` is the status, so
/// its `type` is used), for the request log; nil for anything else.
func errorSummary(_ body: [UInt8]) -> String? {
    guard body.count <= 64 << 10, let error = (try? JSONValue.parse(body))?["error"],
          let message = error["message"]?.stringValue else { return nil }
    return "\(error["code"]?.stringValue ?? error["type"]?.stringValue ?? "error"): \(message)"
}
