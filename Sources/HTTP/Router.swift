// Maps (method, path pattern) to a handler. Unknown paths get a 404 JSON error;
// a known path with another method gets 405 with `Allow`. HEAD falls back to GET
// (the connection drops the body).

public struct Router: Sendable {
    struct Route: Sendable {
        let method: String
        let pattern: RoutePattern
        let handler: HTTPHandler
    }

    /// The outcome of matching a request, testable without a server.
    public enum Resolution: Sendable {
        case matched(HTTPHandler, HTTPRequest)
        case notFound
        case methodNotAllowed(allow: [String])
    }

    private var routes: [Route] = []

    public init() {}

    /// Registers `handler` for `method` (case-sensitive, as in HTTP) and `pattern`.
    public mutating func add(_ method: String, _ pattern: String, _ handler: @escaping HTTPHandler) {
        routes.append(Route(method: method, pattern: RoutePattern(pattern), handler: handler))
    }

    public mutating func get(_ pattern: String, _ handler: @escaping HTTPHandler) { add("GET", pattern, handler) }
    public mutating func post(_ pattern: String, _ handler: @escaping HTTPHandler) { add("POST", pattern, handler) }
    public mutating func put(_ pattern: String, _ handler: @escaping HTTPHandler) { add("PUT", pattern, handler) }
    public mutating func delete(_ pattern: String, _ handler: @escaping HTTPHandler) { add("DELETE", pattern, handler) }

    /// Finds the route for `request`; the returned request carries `pathParameters`.
    public func resolve(_ request: HTTPRequest) -> Resolution {
        let path = request.pathSegments
        let matches = routes.compactMap { route in route.pattern.match(path).map { (route, $0) } }
        guard !matches.isEmpty else { return .notFound }
        let wanted = request.method == "HEAD" && !matches.contains { $0.0.method == "HEAD" } ? "GET" : request.method
        let best = matches.filter { $0.0.method == wanted }
            .enumerated()
            .max { a, b in
                // Most literal segments first; earlier registration breaks ties.
                (a.element.0.pattern.literalCount, b.offset) < (b.element.0.pattern.literalCount, a.offset)
            }?.element
        guard let (route, parameters) = best else {
            var allow = Set(matches.map { $0.0.method })
            if allow.contains("GET") { allow.insert("HEAD") }
            return .methodNotAllowed(allow: allow.sorted())
        }
        var routed = request
        routed.pathParameters = parameters
        return .matched(route.handler, routed)
    }

    /// Dispatches `request`, answering 404/405 itself.
    public func handle(_ request: HTTPRequest, _ sink: any ResponseSink) {
        switch resolve(request) {
        case .matched(let handler, let routed):
            handler(routed, sink)
        case .notFound:
            sink.send(HTTPError(.notFound, code: "not_found", message: "No route for \(request.method) \(request.path)"))
        case .methodNotAllowed(let allow):
            sink.send(HTTPError(.methodNotAllowed, code: "method_not_allowed",
                                message: "\(request.method) is not allowed on \(request.path); allowed: \(allow.joined(separator: ", "))",
                                headers: ["Allow": allow.joined(separator: ", ")]))
        }
    }

    /// The router as a server handler.
    public var handler: HTTPHandler {
        let router = self
        return { request, sink in router.handle(request, sink) }
    }
}
