// Router resolution and its 404/405 answers, through a recording sink (no sockets).

import Foundation
import Testing
@testable import HTTP

/// Records what a handler sends.
final class RecordingSink: ResponseSink, @unchecked Sendable {
    private let lock = NSLock()
    private var _responses: [HTTPResponse] = []
    var responses: [HTTPResponse] { lock.withLock { _responses } }

    func send(_ response: HTTPResponse) { lock.withLock { _responses.append(response) } }
    func startStream(status: HTTPStatus, headers: HTTPHeaders) -> Bool { true }
    func write(_ bytes: [UInt8]) -> Bool { true }
    func finish() {}
    var isConnected: Bool { true }
    func onDisconnect(_ callback: @escaping @Sendable () -> Void) {}
}

func request(_ method: String, _ target: String) -> HTTPRequest {
    HTTPRequest(method: method, target: target, headers: ["Host": "t"])
}

func makeRouter() -> Router {
    var router = Router()
    router.get("/v1/adapters") { _, sink in sink.send(.text("list")) }
    router.get("/v1/adapters/{name}") { r, sink in sink.send(.text("get \(r.pathParameters["name"] ?? "?")")) }
    router.delete("/v1/adapters/{name}") { r, sink in sink.send(.text("delete \(r.pathParameters["name"] ?? "?")")) }
    router.get("/v1/adapters/default") { _, sink in sink.send(.text("the default")) }
    router.post("/v1/adapters/{name}/merge/{base}") { r, sink in
        sink.send(.text("\(r.pathParameters["name"] ?? "") into \(r.pathParameters["base"] ?? "")"))
    }
    return router
}

func answer(_ router: Router, _ method: String, _ target: String) -> HTTPResponse? {
    let sink = RecordingSink()
    router.handle(request(method, target), sink)
    return sink.responses.first
}

@Test func routesMatchLiteralsAndParameters() {
    let router = makeRouter()
    #expect(answer(router, "GET", "/v1/adapters").map { text($0.body) } == "list")
    #expect(answer(router, "GET", "/v1/adapters/").map { text($0.body) } == "list")
    #expect(answer(router, "GET", "/v1/adapters/sql%20lora?x=1").map { text($0.body) } == "get sql lora")
    #expect(answer(router, "DELETE", "/v1/adapters/a").map { text($0.body) } == "delete a")
    #expect(answer(router, "GET", "/v1/adapters/default").map { text($0.body) } == "the default")
    #expect(answer(router, "POST", "/v1/adapters/a/merge/b").map { text($0.body) } == "a into b")
    #expect(answer(router, "HEAD", "/v1/adapters").map { text($0.body) } == "list")
}

@Test func unknownPathIs404JSON() throws {
    let response = try #require(answer(makeRouter(), "GET", "/nope"))
    #expect(response.status == .notFound)
    #expect(response.headers["content-type"] == "application/json")
    #expect(text(response.body) == #"{"error": {"code": "not_found", "message": "No route for GET /nope"}}"#)
}

@Test func wrongMethodIs405WithAllow() throws {
    let response = try #require(answer(makeRouter(), "PUT", "/v1/adapters/x"))
    #expect(response.status == .methodNotAllowed)
    #expect(response.headers["Allow"] == "DELETE, GET, HEAD")
    #expect(text(response.body).contains("method_not_allowed"))
}
