// The one error shape that reaches the wire:
//   {"error": {"code": "not_found", "message": "No route for GET /x"}}

/// An error that maps to an HTTP response with a JSON body.
public struct HTTPError: Error, Sendable, Hashable, CustomStringConvertible {
    public var status: HTTPStatus
    /// A stable machine-readable code in snake_case.
    public var code: String
    public var message: String
    /// Extra header fields for the response (for example `Allow` on 405).
    public var headers: HTTPHeaders

    public init(_ status: HTTPStatus, code: String, message: String, headers: HTTPHeaders = HTTPHeaders()) {
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers
    }

    public var description: String { "\(status.code) \(code): \(message)" }

    /// The response carrying `renderJSONError(self)`.
    public var response: HTTPResponse {
        .json(renderJSONError(self), status: status, headers: headers)
    }
}

/// Renders `{"error": {"code": ..., "message": ...}}` as UTF-8 bytes.
public func renderJSONError(_ error: HTTPError) -> [UInt8] {
    Array("{\"error\": {\"code\": \(jsonString(error.code)), \"message\": \(jsonString(error.message))}}".utf8)
}

/// A JSON string literal for `s`, with the escapes RFC 8259 §7 requires.
func jsonString(_ s: String) -> String {
    var out = "\""
    for scalar in s.unicodeScalars {
        switch scalar {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        case _ where scalar.value < 0x20:
            let hex = String(scalar.value, radix: 16)
            out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
        default: out.unicodeScalars.append(scalar)
        }
    }
    return out + "\""
}
