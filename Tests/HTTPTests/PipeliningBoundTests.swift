// A client that pipelines many requests without reading responses: the server parses at most one
// request beyond the one in flight and stops reading until it has answered, over a real socket.

import Foundation
import Glibc
import Testing
@testable import HTTP

private final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var value = 0
    func increment() -> Int { lock.withLock { value += 1; return value } }
}

@Test func pipelinedRequestsAreReadOnlyAsFastAsTheyAreAnswered() throws {
    let firstStarted = DispatchSemaphore(value: 0)
    let release = DispatchSemaphore(value: 0)
    let handled = Counter()
    let server = try startServer { _, sink in
        if handled.increment() == 1 {
            firstStarted.signal()
            release.wait()
        }
        sink.send(.text("ok"))
    }
    defer { server.shutdown(timeout: 2) }
    let client = try TestClient(port: server.port, timeout: 10)
    let request = "GET /x HTTP/1.1\r\nHost: t\r\n\r\n"
    let count = 4000  // 116 000 bytes: more than one 64 KiB read
    let sent = DispatchSemaphore(value: 0)
    let fd = client.fd
    let bytes = Array(String(repeating: request, count: count).utf8)
    DispatchQueue.global().async {  // blocks once the server stops reading and the socket buffers fill
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { break }
            offset += n
        }
        sent.signal()
    }
    #expect(firstStarted.wait(timeout: .now() + 5) == .success)
    // Wait for the state "reading paused" (reached once the second request is parsed), not for time.
    var backlog = server.connectionBacklogs.first
    let deadline = Date().addingTimeInterval(5)
    while backlog?.readingPaused != true && Date() < deadline {
        usleep(2_000)
        backlog = server.connectionBacklogs.first
    }
    #expect(backlog?.readingPaused == true)
    #expect(backlog?.unansweredRequests == 2)  // the one in flight and one parsed behind it
    #expect((backlog?.bufferedBytes ?? .max) <= 64 * 1024)
    // Paused means paused: nothing more is parsed while the first request is held.
    usleep(100_000)
    #expect(server.connectionBacklogs.first?.unansweredRequests == 2)
    release.signal()
    for i in 0..<count {
        let response = try client.readResponse()
        if response.status != 200 || response.bodyText != "ok" {
            Issue.record("response \(i): \(response.status) \(response.bodyText)")
            break
        }
    }
    #expect(sent.wait(timeout: .now() + 5) == .success)
    #expect(server.connectionBacklogs.first?.unansweredRequests == 0)
}
