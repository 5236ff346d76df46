// Wire shapes of the OpenAI-compatible routes: the error object vLLM and OpenAI answer with,
// response ids, and usage. Eckart's own routes keep their own error shape.
import Foundation
import Formats
import HTTP
import Models

enum OpenAI {
    /// `{"error": {"message", "type", "param", "code"}}` as vLLM writes it: `type` names the HTTP
    /// status class (e.g. NotFoundError) unless the error carries a vLLM type of its own (see
    /// `invalidUserInput`), and `code` is the status number.
    static func errorResponse(_ error: HTTPError, param: String? = nil) -> HTTPResponse {
        let type = error.code == invalidUserInput ? invalidUserInput : errorType(error.status.code)
        let body: JSONValue = .object(["error": .object([
            "message": .string(error.message), "type": .string(type),
            "param": param.map(JSONValue.string) ?? .null, "code": .number(JSONNumber(error.status.code)),
        ])])
        return .json(body.serializedBytes(), status: error.status, headers: error.headers)
    }

    /// vLLM's error type for refused adapter loads and unloads (missing fields, name taken).
    static let invalidUserInput = "InvalidUserInput"

    static func errorType(_ status: Int) -> String {
        switch status {
        case 401: "AuthenticationError"
        case 403: "PermissionDeniedError"
        case 404: "NotFoundError"
        case 409: "ConflictError"
        case 413: "RequestTooLargeError"
        case 415: "UnsupportedMediaTypeError"
        case 400..<500: "BadRequestError"
        default: "InternalServerError"
        }
    }

    /// Runs `body`; any error it throws becomes an OpenAI error response (unexpected ones are logged).
    static func answering(_ log: (@Sendable (String) -> Void)?, _ body: () throws -> HTTPResponse?) -> HTTPResponse? {
        do {
            return try body()
        } catch {
            let (mapped, unexpected) = httpError(for: error)
            if unexpected { log?("error: \(error)") }
            return errorResponse(mapped)
        }
    }

    /// A fresh response id such as `cmpl-3f2a…`.
    static func id(_ prefix: String) -> String {
        prefix + "-" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
    }

    static func now() -> JSONValue { .number(JSONNumber(Int(Date().timeIntervalSince1970))) }

    static func usage(prompt: Int, completion: Int) -> JSONValue {
        .object(["prompt_tokens": .number(JSONNumber(prompt)), "completion_tokens": .number(JSONNumber(completion)),
                 "total_tokens": .number(JSONNumber(prompt + completion))])
    }

    /// OpenAI's finish reasons: an EOS id or a stop string is "stop", the token budget "length".
    static func finishReason(_ reason: Models.FinishReason) -> JSONValue {
        switch reason {
        case .eos, .stop: "stop"
        case .length: "length"
        case .cancelled: "abort"
        }
    }

    /// 400 for a field Eckart knows from OpenAI's API but does not implement.
    static func unsupported(_ field: String, _ why: String) -> HTTPError {
        HTTPError.badRequest("field \(field) is not supported: \(why)", code: "unsupported_field")
    }
}
