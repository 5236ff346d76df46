// RequestParser without sockets: valid requests, malformed requests with the
// status each maps to, incremental feeding, pipelining and 100-continue.

import Testing
@testable import HTTP

/// Feeds `input` in one chunk, or one byte at a time.
func parse(_ input: String, limits: ParserLimits = ParserLimits(), byteByByte: Bool = false) -> [ParserEvent] {
    var parser = RequestParser(limits: limits)
    let bytes = Array(input.utf8)
    if !byteByByte { return parser.feed(bytes) }
    return bytes.flatMap { parser.feed([$0]) }
}

func requests(_ events: [ParserEvent]) -> [HTTPRequest] {
    events.compactMap { if case .request(let r) = $0 { return r } else { return nil } }
}

func firstError(_ events: [ParserEvent]) -> RequestParseError? {
    events.lazy.compactMap { if case .error(let e) = $0 { return e } else { return nil } }.first
}

struct ValidCase: CustomTestStringConvertible, Sendable {
    let name: String
    let input: String
    let method: String
    let path: String
    let body: String
    var testDescription: String { name }
}

let validCases: [ValidCase] = [
    ValidCase(name: "simple GET", input: "GET /v1/models HTTP/1.1\r\nHost: localhost\r\nAccept: */*\r\n\r\n",
              method: "GET", path: "/v1/models", body: ""),
    ValidCase(name: "POST with Content-Length", input: "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello",
              method: "POST", path: "/echo", body: "hello"),
    ValidCase(name: "chunked with extensions and trailers",
              input: "POST /up HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5;name=val\r\nhello\r\n6 ; x\r\n world\r\nA\r\n0123456789\r\n0\r\nX-Checksum: abc\r\nX-Other: 1\r\n\r\n",
              method: "POST", path: "/up", body: "hello world0123456789"),
    ValidCase(name: "HTTP/1.0 without Host", input: "GET /old HTTP/1.0\r\n\r\n", method: "GET", path: "/old", body: ""),
    ValidCase(name: "absolute-form target", input: "GET http://example.com/a/b?q=1 HTTP/1.1\r\nHost: example.com\r\n\r\n",
              method: "GET", path: "/a/b", body: ""),
    ValidCase(name: "absolute-form IPv6 host and port", input: "GET http://[::1]:8080?x=1 HTTP/1.1\r\nHost: a\r\n\r\n",
              method: "GET", path: "/", body: ""),
    ValidCase(name: "absolute-form bare host", input: "GET HTTP://h.example:80 HTTP/1.1\r\nHost: a\r\n\r\n",
              method: "GET", path: "/", body: ""),
    ValidCase(name: "leading empty line", input: "\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", method: "GET", path: "/", body: ""),
    ValidCase(name: "repeated identical Content-Length", input: "PUT /x HTTP/1.1\r\nHost: a\r\nContent-Length: 3, 3\r\nContent-Length: 3\r\n\r\nabc",
              method: "PUT", path: "/x", body: "abc"),
    ValidCase(name: "Content-Length zero", input: "POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n",
              method: "POST", path: "/x", body: ""),
    ValidCase(name: "chunked coding is case-insensitive", input: "POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: Chunked\r\n\r\n0\r\n\r\n",
              method: "POST", path: "/x", body: ""),
]

@Test("valid requests parse", arguments: validCases)
func validRequest(_ c: ValidCase) throws {
    for byteByByte in [false, true] {
        let events = parse(c.input, byteByByte: byteByByte)
        #expect(firstError(events) == nil, "\(byteByByte ? "byte-by-byte" : "one chunk")")
        let reqs = requests(events)
        try #require(reqs.count == 1)
        #expect(reqs[0].method == c.method)
        #expect(reqs[0].path == c.path)
        #expect(reqs[0].bodyString == c.body)
    }
    // Byte-by-byte feeding yields exactly the same events as one chunk.
    #expect(parse(c.input) == parse(c.input, byteByByte: true))
}

@Test func requestFieldsAreDecoded() throws {
    let input = "GET /a/b%20c?x=1&name=hello%20world&plus=a+b&flag HTTP/1.1\r\nHost: h\r\nX-Spaced:   v  a  \r\nx-dup: 1\r\nX-Dup: 2\r\n\r\n"
    let r = try #require(requests(parse(input)).first)
    #expect(r.version == .http1_1)
    #expect(r.target == "/a/b%20c?x=1&name=hello%20world&plus=a+b&flag")
    #expect(r.pathSegments == ["a", "b c"])
    #expect(r.query("name") == "hello world")
    #expect(r.query("plus") == "a b")
    #expect(r.query("flag") == "")
    #expect(r.headers["x-spaced"] == "v  a")
    #expect(r.headers.values(for: "X-DUP") == ["1", "2"])
    #expect(r.headers.fields.map(\.name) == ["Host", "X-Spaced", "x-dup", "X-Dup"])
    #expect(r.keepAlive)
}

@Test func pipelinedRequestsBothParse() {
    let pair = "POST /a HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\nokGET /b HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n"
    for byteByByte in [false, true] {
        let reqs = requests(parse(pair, byteByByte: byteByByte))
        #expect(reqs.map(\.path) == ["/a", "/b"])
        #expect(reqs.first?.bodyString == "ok")
        #expect(reqs.last?.keepAlive == false)
    }
}

@Test func partialInputWaitsAndReportsPhase() {
    var parser = RequestParser()
    #expect(parser.phase == .idle)
    #expect(parser.feed(Array("GET / HT".utf8)).isEmpty)
    #expect(parser.phase == .head)
    #expect(parser.feed(Array("TP/1.1\r\nHost: a\r\nContent-Length: 4\r\n\r\nab".utf8)).isEmpty)
    #expect(parser.phase == .body)
    #expect(requests(parser.feed(Array("cd".utf8))).first?.bodyString == "abcd")
    #expect(parser.phase == .idle)
}

@Test func expectContinueIsReportedBeforeTheBody() {
    var parser = RequestParser()
    let head = "POST /u HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n"
    #expect(parser.feed(Array(head.utf8)) == [.expectContinue])
    #expect(requests(parser.feed(Array("xyz".utf8))).first?.bodyString == "xyz")
    // No body, no interim response.
    #expect(parse("GET / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\n\r\n").count == 1)
    // A declared body over the limit is refused (413) instead of being invited.
    let big = parse("POST /u HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 999\r\n\r\n",
                    limits: ParserLimits(maxBodyBytes: 100))
    #expect(!big.contains(.expectContinue))
    #expect(firstError(big)?.status == .contentTooLarge)
}

@Test func parserIgnoresInputAfterAnError() {
    var parser = RequestParser()
    #expect(firstError(parser.feed(Array("BAD\r\n".utf8))) != nil)
    #expect(parser.phase == .failed)
    #expect(parser.feed(Array("GET / HTTP/1.1\r\nHost: a\r\n\r\n".utf8)).isEmpty)
}
