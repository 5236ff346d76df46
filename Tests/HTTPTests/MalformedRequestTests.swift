// Each malformed input maps to one error case and status (400/413/431/501/505).

import Testing
@testable import HTTP

struct MalformedCase: CustomTestStringConvertible, Sendable {
    let name: String
    let input: String
    let status: Int
    let code: String
    var limits = ParserLimits()
    var testDescription: String { name }
}

let small = ParserLimits(maxHeaderBytes: 128, maxHeaderCount: 4, maxBodyBytes: 16)
let h = "Host: a\r\n"

let malformedCases: [MalformedCase] = [
    MalformedCase(name: "bare LF line endings", input: "GET / HTTP/1.1\nHost: a\n\n", status: 400, code: "bare_line_feed"),
    MalformedCase(name: "bare LF in headers", input: "GET / HTTP/1.1\r\nHost: a\n\r\n", status: 400, code: "bare_line_feed"),
    MalformedCase(name: "bare CR in value", input: "GET / HTTP/1.1\r\n\(h)X: a\rb\r\n\r\n", status: 400, code: "control_character"),
    MalformedCase(name: "control character in value", input: "GET / HTTP/1.1\r\n\(h)X: a\u{01}b\r\n\r\n", status: 400, code: "control_character"),
    MalformedCase(name: "DEL in value", input: "GET / HTTP/1.1\r\n\(h)X: a\u{7F}\r\n\r\n", status: 400, code: "control_character"),
    MalformedCase(name: "NUL in target", input: "GET /a\u{0}b HTTP/1.1\r\n\(h)\r\n", status: 400, code: "invalid_target"),
    MalformedCase(name: "HTTP/2.0", input: "GET / HTTP/2.0\r\n\(h)\r\n", status: 505, code: "unsupported_http_version"),
    MalformedCase(name: "HTTP/1.2", input: "GET / HTTP/1.2\r\n\(h)\r\n", status: 505, code: "unsupported_http_version"),
    MalformedCase(name: "garbage version", input: "GET / HTTX/1.1\r\n\(h)\r\n", status: 400, code: "invalid_request_line"),
    MalformedCase(name: "HTTP/0.9 style", input: "GET /\r\n\r\n", status: 400, code: "invalid_request_line"),
    MalformedCase(name: "double space", input: "GET  / HTTP/1.1\r\n\(h)\r\n", status: 400, code: "invalid_request_line"),
    MalformedCase(name: "trailing space", input: "GET / HTTP/1.1 \r\n\(h)\r\n", status: 400, code: "invalid_request_line"),
    MalformedCase(name: "not HTTP", input: "HELLO\r\n\r\n", status: 400, code: "invalid_request_line"),
    MalformedCase(name: "bad method", input: "G(T / HTTP/1.1\r\n\(h)\r\n", status: 400, code: "invalid_method"),
    MalformedCase(name: "relative target", input: "GET foo HTTP/1.1\r\n\(h)\r\n", status: 400, code: "invalid_target"),
    MalformedCase(name: "unclosed IPv6 literal", input: "GET http://[::1/ HTTP/1.1\r\n\(h)\r\n", status: 400, code: "invalid_target"),
    MalformedCase(name: "absolute-form without host", input: "GET http:///a HTTP/1.1\r\n\(h)\r\n", status: 400, code: "invalid_target"),
    MalformedCase(name: "absolute-form with userinfo", input: "GET http://u@h/ HTTP/1.1\r\n\(h)\r\n", status: 400, code: "invalid_target"),
    MalformedCase(name: "absolute-form with bad port", input: "GET http://h:8x/ HTTP/1.1\r\n\(h)\r\n", status: 400, code: "invalid_target"),
    MalformedCase(name: "text after IPv6 literal", input: "GET http://[::1]x/ HTTP/1.1\r\n\(h)\r\n", status: 400, code: "invalid_target"),
    MalformedCase(name: "non-ASCII target", input: "GET /é HTTP/1.1\r\n\(h)\r\n", status: 400, code: "invalid_target"),
    MalformedCase(name: "missing Host", input: "GET / HTTP/1.1\r\n\r\n", status: 400, code: "missing_host"),
    MalformedCase(name: "two Hosts", input: "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", status: 400, code: "multiple_host"),
    MalformedCase(name: "space in header name", input: "GET / HTTP/1.1\r\n\(h)Bad Name: x\r\n\r\n", status: 400, code: "invalid_header_name"),
    MalformedCase(name: "space before colon", input: "GET / HTTP/1.1\r\nHost : a\r\n\r\n", status: 400, code: "invalid_header_name"),
    MalformedCase(name: "invalid token char", input: "GET / HTTP/1.1\r\n\(h)X@Y: 1\r\n\r\n", status: 400, code: "invalid_header_name"),
    MalformedCase(name: "no colon", input: "GET / HTTP/1.1\r\n\(h)JustText\r\n\r\n", status: 400, code: "invalid_header_name"),
    MalformedCase(name: "empty name", input: "GET / HTTP/1.1\r\n\(h): v\r\n\r\n", status: 400, code: "invalid_header_name"),
    MalformedCase(name: "obs-fold", input: "GET / HTTP/1.1\r\n\(h)X: a\r\n  continued\r\n\r\n", status: 400, code: "obsolete_line_folding"),
    MalformedCase(name: "CL and TE", input: "POST / HTTP/1.1\r\n\(h)Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
                  status: 400, code: "content_length_with_transfer_encoding"),
    MalformedCase(name: "differing CL", input: "POST / HTTP/1.1\r\n\(h)Content-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
                  status: 400, code: "conflicting_content_length"),
    MalformedCase(name: "differing CL in a list", input: "POST / HTTP/1.1\r\n\(h)Content-Length: 3, 4\r\n\r\n",
                  status: 400, code: "conflicting_content_length"),
    MalformedCase(name: "non-numeric CL", input: "POST / HTTP/1.1\r\n\(h)Content-Length: abc\r\n\r\n", status: 400, code: "invalid_content_length"),
    MalformedCase(name: "negative CL", input: "POST / HTTP/1.1\r\n\(h)Content-Length: -1\r\n\r\n", status: 400, code: "invalid_content_length"),
    MalformedCase(name: "signed CL", input: "POST / HTTP/1.1\r\n\(h)Content-Length: +1\r\n\r\n", status: 400, code: "invalid_content_length"),
    MalformedCase(name: "empty CL", input: "POST / HTTP/1.1\r\n\(h)Content-Length:\r\n\r\n", status: 400, code: "invalid_content_length"),
    MalformedCase(name: "overflowing CL", input: "POST / HTTP/1.1\r\n\(h)Content-Length: 99999999999999999999999\r\n\r\n",
                  status: 400, code: "invalid_content_length"),
    MalformedCase(name: "gzip coding", input: "POST / HTTP/1.1\r\n\(h)Transfer-Encoding: gzip\r\n\r\n", status: 501, code: "unsupported_transfer_encoding"),
    MalformedCase(name: "gzip then chunked", input: "POST / HTTP/1.1\r\n\(h)Transfer-Encoding: gzip, chunked\r\n\r\n",
                  status: 501, code: "unsupported_transfer_encoding"),
    MalformedCase(name: "TE in HTTP/1.0", input: "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", status: 400, code: "transfer_encoding_in_http10"),
    MalformedCase(name: "non-hex chunk size", input: "POST / HTTP/1.1\r\n\(h)Transfer-Encoding: chunked\r\n\r\nzz\r\n", status: 400, code: "invalid_chunk_size"),
    MalformedCase(name: "empty chunk size", input: "POST / HTTP/1.1\r\n\(h)Transfer-Encoding: chunked\r\n\r\n\r\n", status: 400, code: "invalid_chunk_size"),
    MalformedCase(name: "negative chunk size", input: "POST / HTTP/1.1\r\n\(h)Transfer-Encoding: chunked\r\n\r\n-1\r\n", status: 400, code: "invalid_chunk_size"),
    MalformedCase(name: "overflowing chunk size", input: "POST / HTTP/1.1\r\n\(h)Transfer-Encoding: chunked\r\n\r\nfffffffffffffffffffff\r\n",
                  status: 400, code: "invalid_chunk_size"),
    MalformedCase(name: "chunk without CRLF", input: "POST / HTTP/1.1\r\n\(h)Transfer-Encoding: chunked\r\n\r\n3\r\nabcX\r\n", status: 400, code: "invalid_chunk_terminator"),
    MalformedCase(name: "obs-fold in trailer", input: "POST / HTTP/1.1\r\n\(h)Transfer-Encoding: chunked\r\n\r\n0\r\nT: 1\r\n x\r\n\r\n",
                  status: 400, code: "obsolete_line_folding"),
    MalformedCase(name: "headers too large", input: "GET / HTTP/1.1\r\n\(h)X: \(String(repeating: "a", count: 200))\r\n\r\n",
                  status: 431, code: "headers_too_large", limits: small),
    MalformedCase(name: "request line too large, unterminated", input: "GET /\(String(repeating: "a", count: 200))",
                  status: 431, code: "headers_too_large", limits: small),
    MalformedCase(name: "too many headers", input: "GET / HTTP/1.1\r\n\(h)A: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n",
                  status: 431, code: "too_many_headers", limits: small),
    MalformedCase(name: "trailers too large", input: "POST / HTTP/1.1\r\n\(h)Transfer-Encoding: chunked\r\n\r\n0\r\nT: \(String(repeating: "b", count: 200))\r\n\r\n",
                  status: 431, code: "headers_too_large", limits: small),
    MalformedCase(name: "Content-Length over limit", input: "POST / HTTP/1.1\r\n\(h)Content-Length: 17\r\n\r\n",
                  status: 413, code: "body_too_large", limits: small),
    MalformedCase(name: "chunked body over limit", input: "POST / HTTP/1.1\r\n\(h)Transfer-Encoding: chunked\r\n\r\n8\r\n12345678\r\n9\r\n",
                  status: 413, code: "body_too_large", limits: small),
]

@Test("malformed requests are rejected with their status", arguments: malformedCases)
func malformedRequest(_ c: MalformedCase) throws {
    for byteByByte in [false, true] {
        let events = parse(c.input, limits: c.limits, byteByByte: byteByByte)
        #expect(requests(events).isEmpty)
        let error = try #require(firstError(events), "\(byteByByte ? "byte-by-byte" : "one chunk")")
        #expect(error.status.code == c.status)
        #expect(error.code == c.code)
        #expect(!error.message.isEmpty)
    }
}

@Test func errorsRenderAsJSON() {
    let e = RequestParseError.invalidHeaderName("a\"b\u{1}").httpError
    #expect(e.status == .badRequest)
    #expect(String(decoding: renderJSONError(e), as: UTF8.self)
            == #"{"error": {"code": "invalid_header_name", "message": "Invalid header field name: a\"b\u0001"}}"#)
    #expect(e.response.headers["content-type"] == "application/json")
}

/// Deterministic garbage and mutated requests, fed in random splits: the parser must
/// terminate on every input without trapping (the fuzzer does this at scale).
@Test func randomInputNeverTraps() {
    var state: UInt64 = 0x9E37_79B9_7F4A_7C15
    func next() -> UInt64 {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return state >> 33
    }
    let seeds = validCases.map { Array($0.input.utf8) } + malformedCases.map { Array($0.input.utf8) }
    let alphabet = Array("\r\n :;0123456789abcdefGET/HTTP/1.1Content-LengthTransfer-Encodingchunked\t\u{0}\u{7F}".utf8)
    for round in 0..<2000 {
        var input = seeds[Int(next() % UInt64(seeds.count))]
        for _ in 0..<Int(next() % 6) {
            let at = Int(next() % UInt64(input.count + 1))
            if round % 2 == 0, at < input.count { input.remove(at: at) }
            input.insert(alphabet[Int(next() % UInt64(alphabet.count))], at: min(at, input.count))
        }
        var parser = RequestParser(limits: ParserLimits(maxHeaderBytes: 256, maxHeaderCount: 8, maxBodyBytes: 64))
        var offset = 0
        while offset < input.count {
            let n = 1 + Int(next() % 7)
            _ = parser.feed(input[offset..<min(offset + n, input.count)])
            offset += n
        }
    }
}
