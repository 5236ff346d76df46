// A connection's timeouts as a pure state machine over a clock the caller passes in, so the rules
// are tested with made-up times (ConnectionDeadlineTests); `Connection` feeds it DispatchTime.
//
// - Header read: a request's head (any empty lines before the request line, the request line and
//   the fields) must be complete within `headerReadTimeout` of its first byte. Later bytes never
//   extend that deadline, so a client trickling one byte (or one CRLF) at a time cannot hold a
//   connection slot forever.
// - Idle: between requests, and while a body is arriving, `idleTimeout` since the last activity.

/// What the connection does when its timer fires.
enum DeadlineAction: Sendable, Hashable {
    case none
    /// Answer 408 and close: a request was begun but not received in time.
    case timeOut
    /// Close quietly: nothing was begun.
    case close
}

struct ConnectionDeadlines: Sendable {
    let headerReadTimeout: Double
    let idleTimeout: Double
    /// When the first byte of the request now being received arrived (nil between requests).
    private(set) var requestStart: UInt64?
    /// The last time bytes arrived or a response was written (nanoseconds, any monotonic origin).
    private(set) var lastActivity: UInt64

    init(headerReadTimeout: Double, idleTimeout: Double, now: UInt64) {
        self.headerReadTimeout = headerReadTimeout
        self.idleTimeout = idleTimeout
        self.lastActivity = now
    }

    /// Bytes arrived at `now`; after parsing them the parser is in `phase`, and they completed
    /// `completedRequests` requests (their bytes may also begin the next one).
    mutating func received(at now: UInt64, phase: RequestParser.Phase, completedRequests: Int) {
        lastActivity = now
        if phase == .idle {
            requestStart = nil
        } else if requestStart == nil || completedRequests > 0 {
            requestStart = now
        }
    }

    /// A response was written at `now`.
    mutating func responded(at now: UInt64) {
        lastActivity = now
    }

    /// What to do at `now`, with the parser in `phase` and no request in flight.
    func action(at now: UInt64, phase: RequestParser.Phase) -> DeadlineAction {
        func elapsed(since t: UInt64) -> Double { Double(now &- t) / 1e9 }
        switch phase {
        case .head:
            guard let start = requestStart else { return .none }
            return elapsed(since: start) > headerReadTimeout ? .timeOut : .none
        case .body:
            return elapsed(since: lastActivity) > idleTimeout ? .timeOut : .none
        case .idle:
            return elapsed(since: lastActivity) > idleTimeout ? .close : .none
        case .failed:
            return .none
        }
    }
}
