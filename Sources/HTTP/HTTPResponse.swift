// A response with a fixed body. Streaming responses go through `ResponseSink`.

public struct HTTPResponse: Sendable, Hashable {
    public var status: HTTPStatus
    /// Extra header fields. Content-Length, Transfer-Encoding and Connection are
    /// owned by `ResponseWriter` and any given here are replaced.
    public var headers: HTTPHeaders
    public var body: [UInt8]

    public init(status: HTTPStatus = .ok, headers: HTTPHeaders = HTTPHeaders(), body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// A JSON response from already-encoded JSON text.
    public static func json(_ json: String, status: HTTPStatus = .ok, headers: HTTPHeaders = HTTPHeaders()) -> HTTPResponse {
        .json(Array(json.utf8), status: status, headers: headers)
    }

    /// A JSON response from already-encoded JSON bytes.
    public static func json(_ json: [UInt8], status: HTTPStatus = .ok, headers: HTTPHeaders = HTTPHeaders()) -> HTTPResponse {
        var h = headers
        h.replaceOrAdd(name: "Content-Type", value: "application/json")
        return HTTPResponse(status: status, headers: h, body: json)
    }

    /// A plain-text response (UTF-8).
    public static func text(_ text: String, status: HTTPStatus = .ok, headers: HTTPHeaders = HTTPHeaders()) -> HTTPResponse {
        var h = headers
        h.replaceOrAdd(name: "Content-Type", value: "text/plain; charset=utf-8")
        return HTTPResponse(status: status, headers: h, body: Array(text.utf8))
    }
}
