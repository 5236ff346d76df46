// Every way a request can be rejected while parsing, each with its status.
// Strictness decisions (RFC 9112 leaves several as MAY):
// - Lines must end in CRLF; a bare LF is rejected (400), as is a bare CR.
// - obs-fold (a header line starting with SP/HT) is rejected (400).
// - Content-Length together with Transfer-Encoding is rejected (400), not
//   resolved in favour of chunked: that ambiguity is how requests get smuggled.
// - Transfer-Encoding in an HTTP/1.0 request is faulty framing (400).
// - The only transfer coding accepted is exactly `chunked` (else 501).
// - Repeated Content-Length is accepted only when every value is identical.

public enum RequestParseError: Error, Sendable, Hashable, CustomStringConvertible {
    case invalidRequestLine(String)
    case invalidMethod(String)
    case invalidTarget(String)
    case unsupportedVersion(String)
    case bareLineFeed
    case controlCharacter(field: String)
    case invalidHeaderName(String)
    case obsoleteLineFolding
    case missingHost
    case multipleHost
    case contentLengthWithTransferEncoding
    case invalidContentLength(String)
    case conflictingContentLength([String])
    case transferEncodingInHTTP10
    case unsupportedTransferEncoding(String)
    case invalidChunkSize(String)
    case invalidChunkTerminator
    case headersTooLarge(limit: Int)
    case tooManyHeaders(limit: Int)
    case bodyTooLarge(length: Int?, limit: Int)
    /// More empty lines before the request line than `RequestParser.maxLeadingEmptyLines`.
    case tooManyEmptyLines(limit: Int)

    /// The status the connection answers with before closing.
    public var status: HTTPStatus {
        switch self {
        case .unsupportedVersion: return .httpVersionNotSupported
        case .unsupportedTransferEncoding: return .notImplemented
        case .headersTooLarge, .tooManyHeaders: return .requestHeaderFieldsTooLarge
        case .bodyTooLarge: return .contentTooLarge
        default: return .badRequest
        }
    }

    /// A stable snake_case code for the JSON error body.
    public var code: String {
        switch self {
        case .invalidRequestLine: return "invalid_request_line"
        case .invalidMethod: return "invalid_method"
        case .invalidTarget: return "invalid_target"
        case .unsupportedVersion: return "unsupported_http_version"
        case .bareLineFeed: return "bare_line_feed"
        case .controlCharacter: return "control_character"
        case .invalidHeaderName: return "invalid_header_name"
        case .obsoleteLineFolding: return "obsolete_line_folding"
        case .missingHost: return "missing_host"
        case .multipleHost: return "multiple_host"
        case .contentLengthWithTransferEncoding: return "content_length_with_transfer_encoding"
        case .invalidContentLength: return "invalid_content_length"
        case .conflictingContentLength: return "conflicting_content_length"
        case .transferEncodingInHTTP10: return "transfer_encoding_in_http10"
        case .unsupportedTransferEncoding: return "unsupported_transfer_encoding"
        case .invalidChunkSize: return "invalid_chunk_size"
        case .invalidChunkTerminator: return "invalid_chunk_terminator"
        case .headersTooLarge: return "headers_too_large"
        case .tooManyHeaders: return "too_many_headers"
        case .bodyTooLarge: return "body_too_large"
        case .tooManyEmptyLines: return "too_many_empty_lines"
        }
    }

    public var message: String {
        switch self {
        case .invalidRequestLine(let l): return "Malformed request line: \(Self.clip(l))"
        case .invalidMethod(let m): return "Invalid method: \(Self.clip(m))"
        case .invalidTarget(let t): return "Invalid request target: \(Self.clip(t))"
        case .unsupportedVersion(let v): return "HTTP version \(Self.clip(v)) is not supported; use HTTP/1.1 or HTTP/1.0"
        case .bareLineFeed: return "Lines must end with CRLF; found a bare LF"
        case .controlCharacter(let f): return "Control character in \(Self.clip(f))"
        case .invalidHeaderName(let n): return "Invalid header field name: \(Self.clip(n))"
        case .obsoleteLineFolding: return "Obsolete line folding in header fields is not accepted"
        case .missingHost: return "HTTP/1.1 requests must carry a Host header"
        case .multipleHost: return "More than one Host header"
        case .contentLengthWithTransferEncoding: return "Content-Length and Transfer-Encoding must not both be present"
        case .invalidContentLength(let v): return "Invalid Content-Length: \(Self.clip(v))"
        case .conflictingContentLength(let vs): return "Conflicting Content-Length values: \(Self.clip(vs.joined(separator: ", ")))"
        case .transferEncodingInHTTP10: return "Transfer-Encoding is not allowed in HTTP/1.0 requests"
        case .unsupportedTransferEncoding(let te): return "Unsupported Transfer-Encoding: \(Self.clip(te)); only chunked is supported"
        case .invalidChunkSize(let s): return "Invalid chunk size line: \(Self.clip(s))"
        case .invalidChunkTerminator: return "Chunk data must be followed by CRLF"
        case .headersTooLarge(let limit): return "Request line and headers exceed \(limit) bytes"
        case .tooManyHeaders(let limit): return "More than \(limit) header fields"
        case .bodyTooLarge(let length, let limit):
            if let length { return "Body of \(length) bytes exceeds the limit of \(limit) bytes" }
            return "Body exceeds the limit of \(limit) bytes"
        case .tooManyEmptyLines(let limit): return "More than \(limit) empty lines before the request line"
        }
    }

    public var description: String { "\(status.code) \(code): \(message)" }

    /// The error as the JSON-rendered `HTTPError`.
    public var httpError: HTTPError { HTTPError(status, code: code, message: message) }

    /// Keeps echoed client input short.
    private static func clip(_ s: String) -> String {
        s.count > 64 ? String(s.prefix(64)) + "…" : s
    }
}
