// Serialises responses to bytes (RFC 9112 §4, §6, §7.1). Pure functions:
// the connection decides when to close and passes that in.
//
// Fixed body:  HTTP/1.1 200 OK\r\n <headers> Content-Length: n\r\n\r\n <body>
// Streamed:    HTTP/1.1 200 OK\r\n <headers> Transfer-Encoding: chunked\r\n\r\n
//              then  <hex size>\r\n <data>\r\n  per chunk, and  0\r\n\r\n  to end.

public enum ResponseWriter {
    /// Fields the writer owns; values supplied by handlers are dropped.
    static let framingFields = ["content-length", "transfer-encoding", "connection"]

    /// The interim response sent before reading a body announced with `Expect: 100-continue`.
    public static let continueResponse: [UInt8] = Array("HTTP/1.1 100 Continue\r\n\r\n".utf8)

    /// The terminating zero-size chunk (with no trailers).
    public static let lastChunk: [UInt8] = Array("0\r\n\r\n".utf8)

    /// A complete response with `Content-Length`.
    /// - Parameters:
    ///   - close: add `Connection: close` (the connection closes after writing).
    ///   - headOnly: omit the body (responses to HEAD) but keep its length.
    public static func serialize(_ response: HTTPResponse, close: Bool, headOnly: Bool = false) -> [UInt8] {
        // 1xx, 204 and 304 responses carry no body and no Content-Length (RFC 9110 §8.6).
        let bodiless = response.status.code < 200 || response.status.code == 204 || response.status.code == 304
        var out = head(status: response.status, headers: response.headers,
                       framing: bodiless ? .none : .contentLength(response.body.count), close: close)
        if !headOnly && !bodiless { out.append(contentsOf: response.body) }
        return out
    }

    public enum Framing: Sendable, Hashable {
        case none
        case contentLength(Int)
        case chunked
    }

    /// Status line and header section, ending with the empty line.
    public static func head(status: HTTPStatus, headers: HTTPHeaders, framing: Framing, close: Bool) -> [UInt8] {
        var text = "HTTP/1.1 \(status.code) \(status.reasonPhrase)\r\n"
        for field in headers where !framingFields.contains(field.name.lowercased()) {
            // Never let a handler's value split the header section.
            let value = String(field.value.unicodeScalars.filter { $0 != "\r" && $0 != "\n" })
            text += "\(field.name): \(value)\r\n"
        }
        switch framing {
        case .none: break
        case .contentLength(let n): text += "Content-Length: \(n)\r\n"
        case .chunked: text += "Transfer-Encoding: chunked\r\n"
        }
        if close { text += "Connection: close\r\n" }
        text += "\r\n"
        return Array(text.utf8)
    }

    /// The head of a chunked (streamed) response.
    public static func chunkedHead(status: HTTPStatus, headers: HTTPHeaders, close: Bool) -> [UInt8] {
        head(status: status, headers: headers, framing: .chunked, close: close)
    }

    /// One chunk. An empty input yields no bytes, since a zero-size chunk would end the stream.
    public static func chunk(_ data: some Collection<UInt8>) -> [UInt8] {
        guard !data.isEmpty else { return [] }
        var out = Array((String(data.count, radix: 16) + "\r\n").utf8)
        out.reserveCapacity(out.count + data.count + 2)
        out.append(contentsOf: data)
        out.append(contentsOf: [0x0D, 0x0A])
        return out
    }
}
