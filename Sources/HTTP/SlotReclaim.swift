// Which connection gives up its slot when the server is near its connection limit: as nginx
// reclaims idle keep-alive connections when it runs low on them, and further, the slowest request
// still arriving. A pure function over snapshots, tested with made-up clocks (SlotReclaimTests).
//
// Never reclaimed: a connection with a request being answered or queued, one already closing, one
// younger than `minimumAge` (a client that has just connected has not had time to send), and one
// whose request is arriving at `slowBelow` bytes a second or faster. Among the rest, connections
// between requests go first (the longest idle first), then requests in progress, slowest first.

/// What the accept loop knows of a connection, published by the connection after every event.
struct SlotStatus: Sendable {
    var acceptedAt: UInt64
    /// A request is in flight or queued, or the connection is closing: its slot is not up for grabs.
    var busy = false
    var phase: RequestParser.Phase = .idle
    var deadlines: ConnectionDeadlines
}

enum SlotReclaim {
    /// The id of the connection to close to make room at `now`, or nil if none may be.
    static func victim(_ slots: [(id: Int, status: SlotStatus)], now: UInt64, minimumAge: Double, slowBelow: Double) -> Int? {
        func age(_ s: SlotStatus) -> Double { Double(now &- s.acceptedAt) / 1e9 }
        var best: (id: Int, tier: Int, key: Double)? = nil
        for (id, status) in slots where !status.busy && age(status) >= minimumAge {
            let tier: Int, key: Double
            switch status.phase {
            case .idle:
                tier = 0
                key = Double(status.deadlines.lastActivity)   // oldest activity first
            case .head, .body:
                guard let (rate, seconds) = status.deadlines.receiveRate(at: now), seconds >= minimumAge, rate < slowBelow else {
                    continue
                }
                tier = 1
                key = rate
            case .failed:
                continue
            }
            if best == nil || (tier, key) < (best!.tier, best!.key) { best = (id, tier, key) }
        }
        return best?.id
    }
}
