// Clients that hold a connection slot without sending a request, over a real socket on port 0.

import Foundation
import Testing
@testable import HTTP

@Suite(.serialized)
struct SlowClientTests {
    @Test func manyLeadingEmptyLinesGet400() throws {
        let server = try startServer(handler: liveRouter())
        defer { server.shutdown(timeout: 2) }
        let client = try TestClient(port: server.port)
        client.send(String(repeating: "\r\n", count: RequestParser.maxLeadingEmptyLines + 1))
        let response = try client.readResponse()
        #expect(response.status == 400 && response.bodyText.contains("too_many_empty_lines"))
    }

    /// One CRLF every 0.1 s used to reset the timers forever; now the head deadline (0.3 s from the
    /// first CRLF) ends it with a 408 after a few of them, well before the client runs out.
    @Test func trickledEmptyLinesTimeOut() throws {
        let server = try startServer({ $0.headerReadTimeout = 0.3 }, handler: liveRouter())
        defer { server.shutdown(timeout: 2) }
        let client = try TestClient(port: server.port)
        for _ in 0..<RequestParser.maxLeadingEmptyLines {
            client.send("\r\n")
            Thread.sleep(forTimeInterval: 0.1)
        }
        let response = try client.readResponse()
        #expect(response.status == 408)
    }
}
