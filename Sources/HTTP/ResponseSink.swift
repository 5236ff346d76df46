// How a handler answers: one full response, or a chunked stream
// (used for server-sent events). Handlers run off the connection's queue and
// may call the sink from any thread; each call is serialised onto the connection.

/// The handler's side of one request/response exchange.
public protocol ResponseSink: AnyObject, Sendable {
    /// Sends a complete response. Ignored if a response was already started.
    func send(_ response: HTTPResponse)
    /// Starts a `Transfer-Encoding: chunked` response. Returns false if a response
    /// was already started or the connection is closed.
    @discardableResult
    func startStream(status: HTTPStatus, headers: HTTPHeaders) -> Bool
    /// Writes one chunk of a started stream (empty data writes nothing). Returns false
    /// once the bytes cannot be delivered (the client disconnected or the stream ended).
    @discardableResult
    func write(_ bytes: [UInt8]) -> Bool
    /// Ends a started stream with the zero-size chunk.
    func finish()
    /// False once the client has closed its side, reset the connection, or a write failed.
    /// A client that half-closes after its request still gets the response written.
    var isConnected: Bool { get }
    /// Runs `callback` once (on a background queue) when the client disconnects while
    /// this exchange is in progress; immediately if it already has.
    func onDisconnect(_ callback: @escaping @Sendable () -> Void)
}

extension ResponseSink {
    /// Sends `error` as its JSON error response.
    public func send(_ error: HTTPError) { send(error.response) }

    @discardableResult
    public func write(_ string: String) -> Bool { write(Array(string.utf8)) }

    @discardableResult
    public func startStream(status: HTTPStatus = .ok) -> Bool { startStream(status: status, headers: HTTPHeaders()) }
}

/// The sink handed out by `Connection`. It holds only an exchange number; the
/// state lives in the connection so every access happens on its queue. If the
/// handler drops the sink without answering, the connection answers 500 (or ends
/// the stream) so the client is not left waiting.
final class ConnectionSink: ResponseSink {
    let connection: Connection
    let exchange: Int

    init(connection: Connection, exchange: Int) {
        self.connection = connection
        self.exchange = exchange
    }

    deinit {
        let connection = self.connection, exchange = self.exchange
        connection.queue.async { connection.abandon(exchange: exchange) }
    }

    func send(_ response: HTTPResponse) {
        connection.perform { $0.send(response, exchange: exchange) }
    }

    func startStream(status: HTTPStatus, headers: HTTPHeaders) -> Bool {
        connection.perform { $0.startStream(status: status, headers: headers, exchange: exchange) }
    }

    func write(_ bytes: [UInt8]) -> Bool {
        connection.perform { $0.writeChunk(bytes, exchange: exchange) }
    }

    func finish() {
        connection.perform { $0.finishStream(exchange: exchange) }
    }

    var isConnected: Bool {
        connection.perform { $0.isConnected }
    }

    func onDisconnect(_ callback: @escaping @Sendable () -> Void) {
        connection.perform { $0.addDisconnectCallback(callback, exchange: exchange) }
    }
}
