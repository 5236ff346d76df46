// One accepted client. All state lives on `queue` (serial): reads from a
// DispatchSource, parsing, timeouts and writes. The handler runs on the server's
// concurrent queue and reaches back through `ConnectionSink`.
//
// Lifecycle: reading ─▶ request in flight ─▶ response written ─▶ (keep-alive) reading
//            any error/timeout/close ─▶ lingering (SHUT_WR, drain input) ─▶ closed
// Lingering avoids an RST that would destroy an error response the client has
// not yet read (the client may still be sending a body we refused).
//
// Pipelining is bounded: the parser hands over one request at a time, and while one request is in
// flight and the next is already parsed the read source is suspended, so a client that sends
// requests without reading responses holds at most those two plus one read's worth of bytes.
// Reading resumes when a response is written.

import Dispatch
import Foundation
#if canImport(Glibc)
import Glibc
#endif

final class Connection: @unchecked Sendable {
    static let queueKey = DispatchSpecificKey<Int>()
    /// How long a lingering close waits for the client's EOF.
    static let lingerTime = 2.0

    let id: Int
    let fd: Int32
    let queue: DispatchQueue
    private let config: HTTPServerConfiguration
    private let handler: HTTPHandler
    private let handlerQueue: DispatchQueue
    private let onClosed: @Sendable (Int) -> Void

    // Everything below is touched only on `queue`.
    private var parser: RequestParser
    private var readBuffer = [UInt8](repeating: 0, count: 64 * 1024)
    private var readSource: DispatchSourceRead?
    private var timer: DispatchSourceTimer?
    private var pending: [HTTPRequest] = []
    private var pendingError: RequestParseError?
    private var exchangeCounter = 0
    private var inFlight: (exchange: Int, request: HTTPRequest, streaming: Bool)?
    private var disconnectCallbacks: [@Sendable () -> Void] = []
    private var peerEOF = false          // client closed its sending side
    private var peerGone = false         // read/write error: nothing more can be delivered
    private var shuttingDown = false     // server shutdown: close after the current response
    private var lingerSince: DispatchTime?
    private var wantClose = false
    private var readCancelled = false
    private var readPaused = false
    private var fdClosed = false
    private var deadlines: ConnectionDeadlines

    // What the accept loop may read from any thread (see `slotStatus`).
    private let statusLock = NSLock()
    private var publishedStatus: SlotStatus

    init(id: Int, fd: Int32, config: HTTPServerConfiguration, handler: @escaping HTTPHandler,
         handlerQueue: DispatchQueue, onClosed: @escaping @Sendable (Int) -> Void) {
        self.id = id
        self.fd = fd
        self.config = config
        self.handler = handler
        self.handlerQueue = handlerQueue
        self.onClosed = onClosed
        self.parser = RequestParser(limits: config.limits)
        let now = DispatchTime.now().uptimeNanoseconds
        self.deadlines = ConnectionDeadlines(headerReadTimeout: config.headerReadTimeout, idleTimeout: config.idleTimeout,
                                             minReceiveRate: config.minReceiveRate, rateGracePeriod: config.receiveRateGracePeriod,
                                             now: now)
        self.publishedStatus = SlotStatus(acceptedAt: now, deadlines: deadlines)
        self.queue = DispatchQueue(label: "eckart.http.connection.\(id)")
        queue.setSpecific(key: Self.queueKey, value: id)
    }

    /// Runs `body` on the connection queue, inline if already there.
    func perform<T>(_ body: (Connection) -> T) -> T {
        if DispatchQueue.getSpecific(key: Self.queueKey) == id { return body(self) }
        return queue.sync { body(self) }
    }

    func start() {
        queue.async { [self] in
            let source = DispatchSource.makeReadSource(fileDescriptor: fd, queue: queue)
            source.setEventHandler { [self] in onReadable() }
            source.setCancelHandler { [self] in
                readCancelled = true
                readSource = nil
                closeFDIfReady()
            }
            readSource = source
            let tick = max(0.01, min(0.5, min(config.headerReadTimeout, config.idleTimeout) / 4))
            let t = DispatchSource.makeTimerSource(queue: queue)
            t.schedule(deadline: .now() + tick, repeating: tick)
            t.setEventHandler { [self] in onTick() }
            timer = t
            source.resume()
            t.resume()
        }
    }

    /// Server shutdown: finish the current exchange, then close; close now if idle.
    func beginShutdown() {
        queue.async { [self] in
            shuttingDown = true
            if inFlight == nil && pending.isEmpty { finalClose() }
        }
    }

    func forceClose() {
        queue.async { [self] in finalClose() }
    }

    // MARK: Reading

    private func onReadable() {
        let n = readBuffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if n > 0 {
            if lingerSince != nil || wantClose { return }  // draining
            parse(readBuffer[0..<n])
            processNext()
            updateReading()
            publishStatus()
        } else if n == 0 {
            cancelReading()
            if lingerSince != nil { finalClose(); return }
            peerEOF = true
            if inFlight != nil { markDisconnected(); return }
            processNext()
            if inFlight == nil { finalClose() }
        } else if errno != EAGAIN && errno != EINTR && errno != EWOULDBLOCK {
            cancelReading()
            peerGone = true
            markDisconnected()
            if inFlight == nil { finalClose() }
        }
    }

    /// Parses `bytes` (empty: what is already buffered) up to the next complete request.
    private func parse(_ bytes: ArraySlice<UInt8>) {
        let events = parser.feed(bytes, stopAfterRequest: true)
        let completed = events.count(where: { if case .request = $0 { true } else { false } })
        deadlines.received(bytes.count, at: DispatchTime.now().uptimeNanoseconds, phase: parser.phase, completedRequests: completed)
        for event in events {
            switch event {
            case .expectContinue:
                // Only when idle; interleaving an interim response with a
                // pipelined earlier response would corrupt the stream.
                if inFlight == nil && pending.isEmpty { _ = writeBytes(ResponseWriter.continueResponse) }
            case .request(let request):
                pending.append(request)
            case .error(let error):
                pendingError = error
            }
        }
    }

    /// Takes the next request out of the parser's buffer when none is queued, then suspends
    /// reading while one is queued behind the one in flight, and resumes it otherwise.
    private func updateReading() {
        if pending.isEmpty, pendingError == nil, parser.bufferedByteCount > 0 { parse([]) }
        setReadPaused(!pending.isEmpty && lingerSince == nil && !wantClose)
    }

    private func setReadPaused(_ paused: Bool) {
        guard let source = readSource, paused != readPaused else { return }
        readPaused = paused
        if paused { source.suspend() } else { source.resume() }
    }

    /// Cancels the read source (a suspended source must be resumed before its cancel handler runs).
    private func cancelReading() {
        setReadPaused(false)
        readSource?.cancel()
    }

    /// This connection as the accept loop sees it when deciding which slot to reclaim.
    var slotStatus: SlotStatus { statusLock.withLock { publishedStatus } }

    private func publishStatus() {
        let busy = inFlight != nil || !pending.isEmpty || pendingError != nil || wantClose || lingerSince != nil
        let status = SlotStatus(acceptedAt: publishedStatus.acceptedAt, busy: busy, phase: parser.phase, deadlines: deadlines)
        statusLock.withLock { publishedStatus = status }
    }

    /// The server needs this connection's slot (see SlotReclaim.swift): close it unless a request
    /// started meanwhile (then `refused` runs); a request still arriving gets a 408 first.
    func reclaim(refused: @escaping @Sendable () -> Void) {
        queue.async { [self] in
            guard inFlight == nil, pending.isEmpty, pendingError == nil, !wantClose, lingerSince == nil else {
                if !wantClose { refused() }
                return
            }
            if parser.phase == .head || parser.phase == .body {
                let error = HTTPError(.requestTimeout, code: "request_too_slow",
                                      message: "The request was arriving too slowly and its connection was needed by another client")
                _ = writeBytes(ResponseWriter.serialize(error.response, close: true))
            }
            finalClose()
        }
    }

    /// What this connection holds for requests not yet answered (see `HTTPServer.connectionBacklogs`).
    var backlog: ConnectionBacklog {
        perform { c in
            ConnectionBacklog(unansweredRequests: (c.inFlight == nil ? 0 : 1) + c.pending.count,
                              bufferedBytes: c.parser.bufferedByteCount, readingPaused: c.readPaused)
        }
    }

    // MARK: Exchanges

    /// Starts the next queued request, or sends a pending parse error, or closes.
    private func processNext() {
        guard inFlight == nil, !wantClose, lingerSince == nil else { return }
        if pending.isEmpty, pendingError == nil, parser.bufferedByteCount > 0 { parse([]) }
        if !pending.isEmpty {
            let request = pending.removeFirst()
            exchangeCounter += 1
            inFlight = (exchangeCounter, request, false)
            disconnectCallbacks = []
            let sink = ConnectionSink(connection: self, exchange: exchangeCounter)
            let handler = self.handler
            switch config.lane(request) {
            case .pool:
                handlerQueue.async { handler(request, sink) }
            case .ownThread:
                runOnOwnThread { handler(request, sink) }
            }
        } else if let error = pendingError {
            pendingError = nil
            _ = writeBytes(ResponseWriter.serialize(error.httpError.response, close: true))
            lingeringClose()
        } else if peerEOF || peerGone || shuttingDown {
            finalClose()
        }
    }

    /// Whether the response to `request` must end the connection.
    private func closesAfter(_ request: HTTPRequest) -> Bool {
        !request.keepAlive || shuttingDown || peerGone || (peerEOF && pending.isEmpty)
    }

    func send(_ response: HTTPResponse, exchange: Int) {
        guard let current = inFlight, current.exchange == exchange, !current.streaming else { return }
        let close = closesAfter(current.request)
        _ = writeBytes(ResponseWriter.serialize(response, close: close, headOnly: current.request.method == "HEAD"))
        exchangeDone(close: close)
    }

    func startStream(status: HTTPStatus, headers: HTTPHeaders, exchange: Int) -> Bool {
        guard let current = inFlight, current.exchange == exchange, !current.streaming, !wantClose else { return false }
        inFlight?.streaming = true
        return writeBytes(ResponseWriter.chunkedHead(status: status, headers: headers, close: closesAfter(current.request)))
    }

    func writeChunk(_ bytes: [UInt8], exchange: Int) -> Bool {
        guard let current = inFlight, current.exchange == exchange, current.streaming else { return false }
        if current.request.method == "HEAD" { return !peerGone }
        return writeBytes(ResponseWriter.chunk(bytes))
    }

    func finishStream(exchange: Int) {
        guard let current = inFlight, current.exchange == exchange, current.streaming else { return }
        if current.request.method != "HEAD" { _ = writeBytes(ResponseWriter.lastChunk) }
        exchangeDone(close: closesAfter(current.request))
    }

    /// The handler dropped its sink: answer 500 or end the stream.
    func abandon(exchange: Int) {
        guard let current = inFlight, current.exchange == exchange else { return }
        if current.streaming {
            finishStream(exchange: exchange)
        } else {
            send(HTTPError(.internalServerError, code: "no_response", message: "The handler produced no response").response,
                 exchange: exchange)
        }
    }

    var isConnected: Bool { !peerGone && !peerEOF && !wantClose }

    func addDisconnectCallback(_ callback: @escaping @Sendable () -> Void, exchange: Int) {
        guard let current = inFlight, current.exchange == exchange else { return }
        if isConnected { disconnectCallbacks.append(callback) } else { DispatchQueue.global().async(execute: callback) }
    }

    private func markDisconnected() {
        let callbacks = disconnectCallbacks
        disconnectCallbacks = []
        for callback in callbacks { DispatchQueue.global().async(execute: callback) }
    }

    private func exchangeDone(close: Bool) {
        inFlight = nil
        disconnectCallbacks = []
        deadlines.responded(at: DispatchTime.now().uptimeNanoseconds, bufferedBytes: parser.bufferedByteCount)
        if peerGone {
            finalClose()
        } else if close {
            // Linger only if unread input could turn close() into a reset.
            if parser.phase == .idle && pending.isEmpty { finalClose() } else { lingeringClose() }
        } else {
            processNext()
            updateReading()
        }
        publishStatus()
    }

    // MARK: Writing and closing

    private func writeBytes(_ bytes: [UInt8]) -> Bool {
        guard !fdClosed, !peerGone, !bytes.isEmpty else { return !fdClosed && !peerGone }
        if Socket.sendAll(fd, bytes, timeout: config.writeTimeout) { return true }
        peerGone = true
        markDisconnected()
        return false
    }

    /// Half-close and drain input until EOF or `lingerTime`, then close.
    private func lingeringClose() {
        guard !wantClose, lingerSince == nil else { return }
        if readCancelled || peerGone { finalClose(); return }
        shutdown(fd, Int32(SHUT_WR))
        lingerSince = .now()
        setReadPaused(false)  // drain
        publishStatus()
    }

    private func finalClose() {
        guard !wantClose else { return }
        wantClose = true
        publishStatus()
        markDisconnected()
        timer?.cancel()
        timer = nil
        if readSource != nil { cancelReading() } else { readCancelled = true }
        closeFDIfReady()
    }

    /// The descriptor may be closed only after the read source's cancel handler ran.
    private func closeFDIfReady() {
        guard wantClose, readCancelled, !fdClosed else { return }
        fdClosed = true
        close(fd)
        onClosed(id)
    }

    // MARK: Timeouts

    private func onTick() {
        guard !wantClose else { return }
        let now = DispatchTime.now()
        func elapsed(since t: DispatchTime) -> Double { Double(now.uptimeNanoseconds &- t.uptimeNanoseconds) / 1e9 }
        if let since = lingerSince {
            if elapsed(since: since) > Self.lingerTime { finalClose() }
            return
        }
        guard inFlight == nil, pending.isEmpty, pendingError == nil else { return }
        switch deadlines.action(at: now.uptimeNanoseconds, phase: parser.phase) {
        case .timeOut: timeOut()
        case .tooSlow: timeOut(tooSlow: true)
        case .close: finalClose()
        case .none: break
        }
    }

    private func timeOut(tooSlow: Bool = false) {
        let error = tooSlow
            ? HTTPError(.requestTimeout, code: "request_too_slow",
                        message: "The request arrived slower than \(Int(config.minReceiveRate)) bytes a second")
            : HTTPError(.requestTimeout, code: "request_timeout", message: "The request was not received in time")
        _ = writeBytes(ResponseWriter.serialize(error.response, close: true))
        lingeringClose()
    }
}
