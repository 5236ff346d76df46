// Exact bytes on the wire for fixed and chunked responses.

import Testing
@testable import HTTP

func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

@Test func fixedResponseBytes() {
    let response = HTTPResponse(status: .ok, headers: ["Content-Type": "text/plain", "X-A": "1"], body: Array("hi".utf8))
    #expect(text(ResponseWriter.serialize(response, close: false))
            == "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nX-A: 1\r\nContent-Length: 2\r\n\r\nhi")
    #expect(text(ResponseWriter.serialize(response, close: true))
            == "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nX-A: 1\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhi")
}

@Test func writerOwnsFramingHeaders() {
    let response = HTTPResponse(status: .notFound,
                                headers: ["content-length": "99", "Transfer-Encoding": "gzip", "Connection": "keep-alive", "X-Evil": "a\r\nInjected: 1"],
                                body: [])
    #expect(text(ResponseWriter.serialize(response, close: false))
            == "HTTP/1.1 404 Not Found\r\nX-Evil: aInjected: 1\r\nContent-Length: 0\r\n\r\n")
}

@Test func headAndBodilessResponses() {
    let response = HTTPResponse.text("hello")
    #expect(text(ResponseWriter.serialize(response, close: false, headOnly: true))
            == "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 5\r\n\r\n")
    #expect(text(ResponseWriter.serialize(HTTPResponse(status: .noContent, body: Array("x".utf8)), close: false))
            == "HTTP/1.1 204 No Content\r\n\r\n")
}

@Test func jsonHelpers() {
    let a = HTTPResponse.json(#"{"ok": true}"#, status: .created)
    #expect(a.status.code == 201)
    #expect(a.headers["Content-Type"] == "application/json")
    #expect(text(a.body) == #"{"ok": true}"#)
    #expect(HTTPResponse.json(Array("[]".utf8)).body == Array("[]".utf8))
}

@Test func chunkedStreamBytes() {
    var wire = ResponseWriter.chunkedHead(status: .ok, headers: ["Content-Type": "text/event-stream"], close: false)
    wire += ResponseWriter.chunk(Array("data: 1\n\n".utf8))
    wire += ResponseWriter.chunk([UInt8]())
    wire += ResponseWriter.chunk([UInt8](repeating: UInt8(ascii: "z"), count: 16))
    wire += ResponseWriter.lastChunk
    #expect(text(wire) == "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
            + "9\r\ndata: 1\n\n\r\n" + "10\r\nzzzzzzzzzzzzzzzz\r\n" + "0\r\n\r\n")
    #expect(text(ResponseWriter.chunkedHead(status: .ok, headers: [:], close: true))
            == "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n")
}

@Test func statusPhrases() {
    #expect(HTTPStatus(code: 431).reasonPhrase == "Request Header Fields Too Large")
    #expect(HTTPStatus.contentTooLarge.description == "413 Content Too Large")
    #expect(HTTPStatus(code: 599).reasonPhrase == "Unknown")
}
