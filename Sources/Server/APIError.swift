// The one place where errors of every module become HTTP statuses and JSON error bodies.
import Adapters
import Formats
import HTTP
import Models

extension HTTPError {
    /// 400 with a code naming what was wrong with the request.
    static func badRequest(_ message: String, code: String = "invalid_request") -> HTTPError {
        HTTPError(.badRequest, code: code, message: message)
    }

    static func notFound(_ message: String) -> HTTPError {
        HTTPError(.notFound, code: "not_found", message: message)
    }
}

/// Maps any error a handler met to the response the client gets. Anything unmapped is a 500;
/// the caller logs it.
func httpError(for error: any Error) -> (HTTPError, unexpected: Bool) {
    switch error {
    case let error as HTTPError:
        return (error, false)
    case let error as StoreError:
        switch error {
        case .invalidID: return (.badRequest(error.description, code: "invalid_adapter_id"), false)
        case .exists: return (HTTPError(.conflict, code: "adapter_exists", message: error.description), false)
        case .notFound: return (HTTPError(.notFound, code: "adapter_not_found", message: error.description), false)
        case .damaged, .io: return (HTTPError(.internalServerError, code: "store_error", message: error.description), true)
        }
    case let error as AdapterError:
        return (.badRequest(error.description, code: "invalid_adapter"), false)
    case let error as AdapterConfigError:
        return (.badRequest(error.description, code: "invalid_adapter"), false)
    case let error as SafetensorsError:
        return (.badRequest(error.description, code: "invalid_safetensors"), false)
    case let error as ModelError:
        return (.badRequest(error.description, code: "invalid_input"), false)
    case let error as JSONError:
        return (.badRequest("request body is not valid JSON: \(error)", code: "invalid_json"), false)
    default:
        return (HTTPError(.internalServerError, code: "internal_error", message: "internal error"), true)
    }
}
