// An incremental HTTP/1.1 request parser (RFC 9112 §2–§7), fed byte chunks.
// A pure state machine: no sockets, no clock. It never traps on input: sizes
// use checked arithmetic and lengths are bounded by `ParserLimits`.
//
// State:  head ──(CL)──▶ fixedBody ──▶ emit request ──▶ head (next, pipelined)
//           └──(chunked)─▶ chunkSize ⇄ chunkData ─▶ chunkDataEnd
//                              └──(size 0)─▶ trailers ─▶ emit request
// Any error moves to `failed`; later input is ignored (the connection closes).

/// Size limits; exceeding one is an error with status 431 or 413.
public struct ParserLimits: Sendable, Hashable {
    /// Request line plus header fields plus their CRLFs (also bounds trailers). → 431
    public var maxHeaderBytes: Int
    /// Number of header fields (also bounds trailer fields). → 431
    public var maxHeaderCount: Int
    /// De-chunked body length. Checked from Content-Length before any body is read. → 413
    public var maxBodyBytes: Int

    public init(maxHeaderBytes: Int = 16 * 1024, maxHeaderCount: Int = 100, maxBodyBytes: Int = 16 * 1024 * 1024) {
        self.maxHeaderBytes = maxHeaderBytes
        self.maxHeaderCount = maxHeaderCount
        self.maxBodyBytes = maxBodyBytes
    }
}

public enum ParserEvent: Sendable, Hashable {
    /// The head carried `Expect: 100-continue`, a body is coming and its declared
    /// length is within limits: the connection may send `100 Continue` now.
    case expectContinue
    /// A complete request.
    case request(HTTPRequest)
    /// The input is malformed; nothing more will be parsed.
    case error(RequestParseError)
}

public struct RequestParser: Sendable {
    private typealias G = RequestGrammar

    /// Where the parser is within the current request (used for timeouts).
    public enum Phase: Sendable, Hashable { case idle, head, body, failed }

    private enum State: Sendable {
        case head, fixedBody(remaining: Int), chunkSize, chunkData(remaining: Int), chunkDataEnd, trailers, failed
    }

    private enum Step { case needMore, progressed, emit(ParserEvent) }

    /// Longest chunk-size line (size + extensions) we accept.
    static let maxChunkLineBytes = 4096
    /// Empty lines tolerated before a request line (RFC 9112 §2.2 says "at least one"); each counts
    /// toward `maxHeaderBytes` and, in the connection, toward the header-read deadline.
    public static let maxLeadingEmptyLines = 8

    public let limits: ParserLimits
    private var state: State = .head
    private var buffer: [UInt8] = []
    private var index = 0          // first unconsumed byte of `buffer`
    private var scanIndex = 0      // bytes before this are known not to be LF
    private var headBytes = 0      // bytes of the current head (or trailers) consumed
    private var headerCount = 0
    private var method = "", target = "", version = HTTPVersion.http1_1
    private var haveRequestLine = false
    private var leadingEmptyLines = 0
    private var headers = HTTPHeaders()
    private var body: [UInt8] = []

    public init(limits: ParserLimits = ParserLimits()) {
        self.limits = limits
    }

    public var phase: Phase {
        switch state {
        case .failed: return .failed
        // Leading empty lines already belong to the next request (its head has begun).
        case .head: return (haveRequestLine || leadingEmptyLines > 0 || index < buffer.count) ? .head : .idle
        default: return .body
        }
    }

    /// Bytes received but not yet part of an emitted request: unparsed input plus the body so far.
    public var bufferedByteCount: Int { buffer.count - index + body.count }

    /// Feeds received bytes and returns every event they complete, in order. With
    /// `stopAfterRequest`, parsing stops after the first complete request and the rest of the input
    /// stays buffered; feed an empty collection to parse the next one (a connection uses this to
    /// hold pipelined requests as bytes until it can answer them).
    public mutating func feed(_ bytes: some Collection<UInt8>, stopAfterRequest: Bool = false) -> [ParserEvent] {
        if case .failed = state { return [] }
        buffer.append(contentsOf: bytes)
        var events: [ParserEvent] = []
        do {
            loop: while true {
                switch try step() {
                case .needMore: break loop
                case .progressed: continue
                case .emit(let event):
                    events.append(event)
                    if stopAfterRequest, case .request = event { break loop }
                }
            }
        } catch let error as RequestParseError {
            fail()
            events.append(.error(error))
            return events
        } catch {
            fail()
            events.append(.error(.invalidRequestLine("unexpected parser error")))
            return events
        }
        // Drop consumed bytes (when they are at least half the buffer, so that taking pipelined
        // requests out one by one stays linear).
        if index > 0 && index * 2 >= buffer.count {
            buffer.removeSubrange(0..<index)
            scanIndex = max(0, scanIndex - index)
            index = 0
        }
        return events
    }

    private mutating func fail() {
        state = .failed
        buffer = []
        index = 0
        scanIndex = 0
        body = []
    }

    private mutating func step() throws -> Step {
        switch state {
        case .failed:
            return .needMore

        case .head:
            guard let line = try nextLine(limit: limits.maxHeaderBytes - headBytes,
                                          tooLong: .headersTooLarge(limit: limits.maxHeaderBytes)) else { return .needMore }
            headBytes += line.count + 2
            if !haveRequestLine {
                // RFC 9112 §2.2: ignore empty lines before the request line (clients sometimes
                // send a stray CRLF after a body), but only a few: they are part of this head, so
                // they neither reset its size nor make the connection idle again.
                if line.isEmpty {
                    leadingEmptyLines += 1
                    if leadingEmptyLines > Self.maxLeadingEmptyLines {
                        throw RequestParseError.tooManyEmptyLines(limit: Self.maxLeadingEmptyLines)
                    }
                    return .progressed
                }
                (method, target, version) = try G.parseRequestLine(line)
                haveRequestLine = true
                return .progressed
            }
            if line.isEmpty { return try finishHead() }
            headers.add(try G.parseField(line))
            try countField()
            return .progressed

        case .fixedBody(let remaining):
            let n = min(remaining, buffer.count - index)
            if n == 0 { return .needMore }
            body.append(contentsOf: buffer[index..<(index + n)])
            index += n
            scanIndex = index
            if remaining - n == 0 { return complete() }
            state = .fixedBody(remaining: remaining - n)
            return .needMore

        case .chunkSize:
            guard let line = try nextLine(limit: Self.maxChunkLineBytes,
                                          tooLong: .invalidChunkSize("chunk size line too long")) else { return .needMore }
            let size = try G.parseChunkSize(line)
            if size == 0 {
                state = .trailers
                headBytes = 0
                headerCount = 0
                return .progressed
            }
            let (total, overflow) = body.count.addingReportingOverflow(size)
            if overflow || total > limits.maxBodyBytes {
                throw RequestParseError.bodyTooLarge(length: nil, limit: limits.maxBodyBytes)
            }
            state = .chunkData(remaining: size)
            return .progressed

        case .chunkData(let remaining):
            let n = min(remaining, buffer.count - index)
            if n == 0 { return .needMore }
            body.append(contentsOf: buffer[index..<(index + n)])
            index += n
            scanIndex = index
            state = remaining - n == 0 ? .chunkDataEnd : .chunkData(remaining: remaining - n)
            return .progressed

        case .chunkDataEnd:
            guard buffer.count - index >= 2 else {
                if buffer.count - index == 1, buffer[index] != G.cr { throw RequestParseError.invalidChunkTerminator }
                return .needMore
            }
            guard buffer[index] == G.cr, buffer[index + 1] == G.lf else { throw RequestParseError.invalidChunkTerminator }
            index += 2
            scanIndex = index
            state = .chunkSize
            return .progressed

        case .trailers:
            // Trailer fields are validated like header fields, then dropped.
            guard let line = try nextLine(limit: limits.maxHeaderBytes - headBytes,
                                          tooLong: .headersTooLarge(limit: limits.maxHeaderBytes)) else { return .needMore }
            headBytes += line.count + 2
            if line.isEmpty { return complete() }
            _ = try G.parseField(line)
            try countField()
            return .progressed
        }
    }

    // MARK: Lines

    /// The next CRLF-terminated line without its CRLF, or nil if incomplete.
    /// `limit` bounds the line including CRLF.
    private mutating func nextLine(limit: Int, tooLong: RequestParseError) throws -> ArraySlice<UInt8>? {
        var i = max(scanIndex, index)
        while i < buffer.count, buffer[i] != G.lf { i += 1 }
        guard i < buffer.count else {
            scanIndex = i
            if buffer.count - index > limit { throw tooLong }
            return nil
        }
        guard i > index, buffer[i - 1] == G.cr else { throw RequestParseError.bareLineFeed }
        if i + 1 - index > limit { throw tooLong }
        let line = buffer[index..<(i - 1)]
        index = i + 1
        scanIndex = index
        return line
    }

    // MARK: Framing

    private mutating func finishHead() throws -> Step {
        let hosts = headers.values(for: "host")
        if hosts.count > 1 { throw RequestParseError.multipleHost }
        if hosts.isEmpty && version == .http1_1 { throw RequestParseError.missingHost }

        let transferEncodings = headers.values(for: "transfer-encoding")
        let contentLengths = headers.values(for: "content-length")
        var hasBody = false
        if !transferEncodings.isEmpty {
            if !contentLengths.isEmpty { throw RequestParseError.contentLengthWithTransferEncoding }
            if version == .http1_0 { throw RequestParseError.transferEncodingInHTTP10 }
            let codings = headers.tokens(for: "transfer-encoding")
            guard codings == ["chunked"] else {
                throw RequestParseError.unsupportedTransferEncoding(transferEncodings.joined(separator: ", "))
            }
            state = .chunkSize
            hasBody = true
        } else if !contentLengths.isEmpty {
            let length = try G.parseContentLength(contentLengths)
            if length > limits.maxBodyBytes {
                throw RequestParseError.bodyTooLarge(length: length, limit: limits.maxBodyBytes)
            }
            hasBody = length > 0
            if hasBody {
                state = .fixedBody(remaining: length)
                body.reserveCapacity(min(length, 1 << 16))
            }
        }
        guard hasBody else { return complete() }
        // RFC 9110 §10.1.1: a 100 (Continue) is never sent to an HTTP/1.0 client.
        if version == .http1_1 && headers.tokens(for: "expect").contains("100-continue") { return .emit(.expectContinue) }
        return .progressed
    }

    private mutating func countField() throws {
        headerCount += 1
        if headerCount > limits.maxHeaderCount { throw RequestParseError.tooManyHeaders(limit: limits.maxHeaderCount) }
    }

    private mutating func complete() -> Step {
        var request = HTTPRequest(method: method, target: target, version: version, headers: headers, body: body)
        request.pathParameters = [:]
        state = .head
        haveRequestLine = false
        leadingEmptyLines = 0
        headBytes = 0
        headerCount = 0
        headers = HTTPHeaders()
        body = []
        method = ""
        target = ""
        return .emit(.request(request))
    }
}
