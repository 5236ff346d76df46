// The minimum receive rate (ConnectionDeadlines) and the choice of which slot to reclaim
// (SlotReclaim), over made-up clocks.

import Testing
@testable import HTTP

private func seconds(_ s: Double) -> UInt64 { UInt64(s * 1e9) }

/// Feeds `chunks` (time in seconds, bytes) to a parser and deadlines with a 500 B/s minimum after 2 s.
private func deadlines(_ chunks: [(Double, String)], minReceiveRate: Double = 500) -> (ConnectionDeadlines, RequestParser.Phase) {
    var parser = RequestParser()
    var deadlines = ConnectionDeadlines(headerReadTimeout: 10, idleTimeout: 60, minReceiveRate: minReceiveRate,
                                        rateGracePeriod: 2, now: 0)
    for (time, text) in chunks {
        let completed = parser.feed(Array(text.utf8)).count(where: { if case .request = $0 { true } else { false } })
        deadlines.received(text.utf8.count, at: seconds(time), phase: parser.phase, completedRequests: completed)
    }
    return (deadlines, parser.phase)
}

@Test func aTrickledHeadIsTooSlowOnceTheGracePeriodEnds() {
    let trickle = Array("GET /slow HTTP/1.1\r\nHost: h\r\n").enumerated().map { (1 + Double($0.offset) * 0.25, String($0.element)) }
    let (d, phase) = deadlines(trickle)
    #expect(phase == .head)
    #expect(d.action(at: seconds(2.9), phase: phase) == DeadlineAction.none)   // within the grace period of its first byte
    #expect(d.action(at: seconds(3.1), phase: phase) == .tooSlow)             // 4 bytes a second, far below 500
    // Without a minimum only the header deadline applies.
    let (free, _) = deadlines(trickle, minReceiveRate: 0)
    #expect(free.action(at: seconds(3.1), phase: phase) == DeadlineAction.none)
}

/// A body sent one byte every 50 s never tripped the 60 s idle timeout: it held its slot forever.
@Test func aBodyTrickledUnderTheIdleTimeoutIsTooSlow() {
    var chunks: [(Double, String)] = [(0, "POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 100\r\n\r\n")]
    chunks += (1...20).map { (Double($0) * 50, "x") }
    let (d, phase) = deadlines(chunks)
    #expect(phase == .body)
    #expect(d.action(at: seconds(1000.5), phase: phase) == .tooSlow)
    let (free, _) = deadlines(chunks, minReceiveRate: 0)
    #expect(free.action(at: seconds(1000.5), phase: phase) == DeadlineAction.none)
}

@Test func aSteadyUploadIsNeverTooSlow() {
    var chunks: [(Double, String)] = [(0, "POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 100000\r\n\r\n")]
    chunks += (1...30).map { (Double($0) * 0.1, String(repeating: "x", count: 1000)) }   // 10 kB/s
    let (d, phase) = deadlines(chunks)
    #expect(phase == .body)
    #expect(d.action(at: seconds(3.05), phase: phase) == DeadlineAction.none)
}

@Test func aResponseRestartsTheClockOfTheRequestBehindIt() {
    var (d, phase) = deadlines([(0, "GET /a HTTP/1.1\r\nHost: h\r\n\r\nGET /b")])
    #expect(phase == .head)
    // /a took 30 s to answer; /b's bytes could not be read meanwhile.
    d.responded(at: seconds(30), bufferedBytes: 6)
    #expect(d.action(at: seconds(31), phase: phase) == DeadlineAction.none)
    #expect(d.receiveRate(at: seconds(31))?.bytesPerSecond == 6)
}

private func status(accepted: Double, busy: Bool = false, _ chunks: [(Double, String)]) -> SlotStatus {
    let (d, phase) = deadlines(chunks)
    return SlotStatus(acceptedAt: seconds(accepted), busy: busy, phase: phase, deadlines: d)
}

@Test func theLongestIdleConnectionGivesUpItsSlotFirst() {
    let done = "GET / HTTP/1.1\r\nHost: h\r\n\r\n"
    let slots: [(id: Int, status: SlotStatus)] = [
        (1, status(accepted: 0, [(0, done), (5, done)])),          // idle since 5 s
        (2, status(accepted: 0, [(0, done), (2, done)])),          // idle since 2 s
        (3, status(accepted: 0, [(0, "GET / HTTP/1.1\r\n")])),     // a slow head
    ]
    #expect(SlotReclaim.victim(slots, now: seconds(6), minimumAge: 1, slowBelow: 5000) == 2)
    #expect(SlotReclaim.victim(Array(slots.dropFirst(1).dropFirst()), now: seconds(6), minimumAge: 1, slowBelow: 5000) == 3)
}

@Test func theSlowestRequestGivesUpItsSlotAndBusyYoungOrFastOnesNever() {
    let slow = status(accepted: 0, [(0, "GET / HTTP/1.1\r\n")])                              // 16 B in 4 s
    let slower = status(accepted: 0, [(0, "GET /")])                                          // 5 B in 4 s
    let fast = status(accepted: 0, [(0, "POST / HTTP/1.1\r\nContent-Length: 99999\r\n\r\n" + String(repeating: "x", count: 30000))])
    let busy = status(accepted: 0, busy: true, [(0, "GET /")])
    let young = status(accepted: 3.9, [])
    #expect(SlotReclaim.victim([(1, slow), (2, slower), (3, fast)], now: seconds(4), minimumAge: 1, slowBelow: 5000) == 2)
    #expect(SlotReclaim.victim([(3, fast), (4, busy), (5, young)], now: seconds(4), minimumAge: 1, slowBelow: 5000) == nil)
    // A client that connected and sent nothing for a second is idle like any other.
    #expect(SlotReclaim.victim([(5, young)], now: seconds(5), minimumAge: 1, slowBelow: 5000) == 5)
}
