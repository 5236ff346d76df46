// Leading empty lines and the header-read deadline, without sockets: RequestParser plus
// ConnectionDeadlines driven by a made-up clock (whole seconds in nanoseconds).

import Testing
@testable import HTTP

private func seconds(_ s: Double) -> UInt64 { UInt64(s * 1e9) }

@Test func aFewLeadingEmptyLinesAreIgnored() {
    let events = parse("\r\n\r\nGET /a HTTP/1.1\r\nHost: h\r\n\r\n")
    #expect(requests(events).map(\.path) == ["/a"])
    let limit = String(repeating: "\r\n", count: RequestParser.maxLeadingEmptyLines)
    #expect(requests(parse(limit + "GET /a HTTP/1.1\r\nHost: h\r\n\r\n")).count == 1)
}

@Test func tooManyLeadingEmptyLinesAre400() {
    for byteByByte in [false, true] {
        let input = String(repeating: "\r\n", count: RequestParser.maxLeadingEmptyLines + 1) + "GET / HTTP/1.1\r\nHost: h\r\n\r\n"
        let error = firstError(parse(input, byteByByte: byteByByte))
        #expect(error == .tooManyEmptyLines(limit: RequestParser.maxLeadingEmptyLines))
        #expect(error?.status == .badRequest && error?.code == "too_many_empty_lines")
    }
}

@Test func leadingEmptyLinesBeginTheHead() {
    var parser = RequestParser()
    #expect(parser.feed(Array("\r\n".utf8)).isEmpty)
    #expect(parser.phase == .head)  // was .idle: the connection looked idle again after each CRLF
    #expect(requests(parser.feed(Array("GET / HTTP/1.1\r\nHost: h\r\n\r\n".utf8))).count == 1)
    #expect(parser.phase == .idle)
    // The count starts again for each request.
    #expect(requests(parser.feed(Array((String(repeating: "\r\n", count: 8) + "GET / HTTP/1.1\r\nHost: h\r\n\r\n").utf8))).count == 1)
}

/// Feeds `chunks` (time in seconds, bytes) to a parser and deadlines and returns the action at `end`.
private func deadlineAction(_ chunks: [(Double, String)], at end: Double, headerReadTimeout: Double = 10,
                            idleTimeout: Double = 60) -> DeadlineAction {
    var parser = RequestParser()
    var deadlines = ConnectionDeadlines(headerReadTimeout: headerReadTimeout, idleTimeout: idleTimeout, now: 0)
    for (time, text) in chunks {
        let events = parser.feed(Array(text.utf8))
        let completed = requests(events).count
        deadlines.received(text.utf8.count, at: seconds(time), phase: parser.phase, completedRequests: completed)
    }
    return deadlines.action(at: seconds(end), phase: parser.phase)
}

@Test func oneCRLFPerSecondTimesOutAtTheHeaderDeadline() {
    let crlfs = (0..<8).map { (Double($0), "\r\n") }
    #expect(deadlineAction(crlfs, at: 9.5) == DeadlineAction.none)
    #expect(deadlineAction(crlfs, at: 10.5) == .timeOut)
}

@Test func trickledHeadBytesNeverExtendTheDeadline() {
    let trickle = Array("GET /slow HTTP/1.1\r\nHost: h\r\n").enumerated().map { (Double($0.offset) * 0.5, String($0.element)) }
    #expect(trickle.last!.0 > 10)  // still trickling after the deadline
    #expect(deadlineAction(trickle, at: 10.5) == .timeOut)
}

@Test func theDeadlineRunsFromTheFirstByteOfEachRequest() {
    // The second request begins in the chunk that completes the first: its clock starts then.
    let chunks: [(Double, String)] = [(0, "GET /a HTTP/1.1\r\n"), (8, "Host: h\r\n\r\nGET /b"), (15, " HTTP/1.1\r\n")]
    #expect(deadlineAction(chunks, at: 17.5) == DeadlineAction.none)
    #expect(deadlineAction(chunks, at: 18.5) == .timeOut)
    // Between requests only the idle timeout applies.
    #expect(deadlineAction([(0, "GET / HTTP/1.1\r\nHost: h\r\n\r\n")], at: 59, idleTimeout: 60) == DeadlineAction.none)
    #expect(deadlineAction([(0, "GET / HTTP/1.1\r\nHost: h\r\n\r\n")], at: 61, idleTimeout: 60) == .close)
}
