// A connection's timeouts as a pure state machine over a clock the caller passes in, so the rules
// are tested with made-up times (HeadDeadlineTests, ReceiveRateTests); `Connection` feeds it DispatchTime.
//
// - Header read: a request's head (any empty lines before the request line, the request line and
//   the fields) must be complete within `headerReadTimeout` of its first byte. Later bytes never
//   extend that deadline, so a client trickling one byte (or one CRLF) at a time cannot hold a
//   connection slot forever.
// - Minimum receive rate: once a request (head or body) has been arriving for `rateGracePeriod`
//   seconds, its bytes so far must average at least `minReceiveRate` bytes a second. This is what
//   ends a body trickled one byte a minute, which the idle timeout alone would let live forever,
//   and a slow head long before its deadline (Apache's mod_reqtimeout MinRate, 500 B/s by default).
// - Idle: between requests, and while a body is arriving, `idleTimeout` since the last activity.

/// What the connection does when its timer fires.
enum DeadlineAction: Sendable, Hashable {
    case none
    /// Answer 408 and close: a request was begun but not received in time.
    case timeOut
    /// Answer 408 and close: a request is arriving slower than the minimum receive rate.
    case tooSlow
    /// Close quietly: nothing was begun.
    case close
}

struct ConnectionDeadlines: Sendable {
    let headerReadTimeout: Double
    let idleTimeout: Double
    /// Bytes a second a request must average once it has been arriving for `rateGracePeriod` (0: no minimum).
    let minReceiveRate: Double
    let rateGracePeriod: Double
    /// When the first byte of the request now being received arrived (nil between requests).
    private(set) var requestStart: UInt64?
    /// Bytes received since `requestStart` (including the chunk that began the request).
    private(set) var requestBytes = 0
    /// The last time bytes arrived or a response was written (nanoseconds, any monotonic origin).
    private(set) var lastActivity: UInt64

    init(headerReadTimeout: Double, idleTimeout: Double, minReceiveRate: Double = 0, rateGracePeriod: Double = 2,
         now: UInt64) {
        self.headerReadTimeout = headerReadTimeout
        self.idleTimeout = idleTimeout
        self.minReceiveRate = minReceiveRate
        self.rateGracePeriod = rateGracePeriod
        self.lastActivity = now
    }

    /// `bytes` arrived at `now`; after parsing them the parser is in `phase`, and they completed
    /// `completedRequests` requests (their bytes may also begin the next one).
    mutating func received(_ bytes: Int, at now: UInt64, phase: RequestParser.Phase, completedRequests: Int) {
        lastActivity = now
        if phase == .idle {
            requestStart = nil
            requestBytes = 0
        } else if requestStart == nil || completedRequests > 0 {
            requestStart = now
            requestBytes = bytes
        } else {
            requestBytes += bytes
        }
    }

    /// A response was written at `now`. A request already partly received behind it was not read
    /// while its predecessor ran (reading pauses), so its clocks start again now, counting the
    /// `bufferedBytes` of it already received.
    mutating func responded(at now: UInt64, bufferedBytes: Int = 0) {
        lastActivity = now
        if requestStart != nil {
            requestStart = now
            requestBytes = bufferedBytes
        }
    }

    /// Bytes a second the request now arriving has averaged, and for how long it has been arriving
    /// (nil between requests).
    func receiveRate(at now: UInt64) -> (bytesPerSecond: Double, seconds: Double)? {
        guard let start = requestStart else { return nil }
        let seconds = Double(now &- start) / 1e9
        return (seconds > 0 ? Double(requestBytes) / seconds : .infinity, seconds)
    }

    /// What to do at `now`, with the parser in `phase` and no request in flight.
    func action(at now: UInt64, phase: RequestParser.Phase) -> DeadlineAction {
        func elapsed(since t: UInt64) -> Double { Double(now &- t) / 1e9 }
        if phase == .head || phase == .body, minReceiveRate > 0, let (rate, seconds) = receiveRate(at: now),
           seconds > rateGracePeriod, rate < minReceiveRate {
            return .tooSlow
        }
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
