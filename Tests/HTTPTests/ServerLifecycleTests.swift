// Live tests of the exchange lifecycle: HEAD, half-close, abandoned sinks and
// detecting a client that goes away mid-stream (which must not raise SIGPIPE).

import Foundation
import Testing
@testable import HTTP

/// A thread-safe flag for handler-side observations.
final class Flag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    func set() { lock.withLock { value = true } }
    var isSet: Bool { lock.withLock { value } }
}

@Suite(.serialized)
struct ServerLifecycleTests {
    @Test func headResponseHasNoBodyAndKeepsConnectionUsable() throws {
        let server = try startServer(handler: liveRouter())
        defer { server.shutdown(timeout: 2) }
        let client = try TestClient(port: server.port)
        client.send("HEAD /hello HTTP/1.1\r\nHost: t\r\n\r\n")
        #expect(client.expect("HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 2\r\n\r\n"))
        client.send("GET /hello HTTP/1.1\r\nHost: t\r\n\r\n")
        #expect(try client.readResponse().bodyText == "hi")
    }

    @Test func halfClosedClientStillGetsItsResponse() throws {
        let server = try startServer(handler: liveRouter())
        defer { server.shutdown(timeout: 2) }
        let client = try TestClient(port: server.port)
        client.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\nok")
        client.shutdownWrite()
        let response = try client.readResponse()
        #expect(response.status == 200 && response.bodyText == "ok")
        #expect(client.isClosedByServer())
    }

    @Test func http10ClosesAfterResponse() throws {
        let server = try startServer(handler: liveRouter())
        defer { server.shutdown(timeout: 2) }
        let client = try TestClient(port: server.port)
        client.send("GET /hello HTTP/1.0\r\n\r\n")
        let response = try client.readResponse()
        #expect(response.status == 200 && response.headers["connection"] == "close")
        #expect(client.isClosedByServer())
    }

    @Test func droppedSinkBecomes500() throws {
        let server = try startServer { _, _ in }
        defer { server.shutdown(timeout: 2) }
        let client = try TestClient(port: server.port)
        client.send("GET /x HTTP/1.1\r\nHost: t\r\n\r\n")
        let response = try client.readResponse()
        #expect(response.status == 500 && response.bodyText.contains("no_response"))
    }

    @Test func streamingHandlerSeesClientDisconnect() throws {
        let writeFailed = Flag(), callbackRan = DispatchSemaphore(value: 0), done = DispatchSemaphore(value: 0)
        let server = try startServer { _, sink in
            sink.onDisconnect { callbackRan.signal() }
            sink.startStream(status: .ok, headers: ["Content-Type": "text/event-stream"])
            // Bounded only for a failing run: writes go on until one fails or 60 s have passed.
            let giveUp = Date().addingTimeInterval(60)
            var i = 0
            while Date() < giveUp {
                if !sink.write("data: \(i) \(String(repeating: "x", count: 1024))\n\n") {
                    writeFailed.set()
                    break
                }
                i += 1
                Thread.sleep(forTimeInterval: 0.01)
            }
            #expect(!sink.isConnected)
            sink.finish()
            done.signal()
        }
        defer { server.shutdown(timeout: 2) }
        let client = try TestClient(port: server.port)
        client.send("GET /events HTTP/1.1\r\nHost: t\r\n\r\n")
        #expect(client.expect("HTTP/1.1 200 OK\r\n"))
        client.closeNow()
        #expect(callbackRan.wait(timeout: .now() + 60) == .success)
        #expect(done.wait(timeout: .now() + 61) == .success)
        #expect(writeFailed.isSet)
    }
}
