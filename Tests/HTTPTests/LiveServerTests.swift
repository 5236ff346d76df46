// The real server on 127.0.0.1 with an ephemeral port, driven over raw sockets.

import Foundation
import Testing
@testable import HTTP

@Suite(.serialized)
struct LiveServerTests {
    @Test func keepAliveServesTwoRequestsOnOneConnection() throws {
        let server = try startServer(handler: liveRouter())
        defer { server.shutdown(timeout: 2) }
        #expect(server.port > 0)
        let client = try TestClient(port: server.port)
        client.send("GET /hello HTTP/1.1\r\nHost: t\r\n\r\n")
        let first = try client.readResponse()
        #expect(first.status == 200 && first.bodyText == "hi")
        #expect(first.headers["connection"] == nil)
        client.send("GET /hello HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        let second = try client.readResponse()
        #expect(second.status == 200 && second.headers["connection"] == "close")
        #expect(client.isClosedByServer())
    }

    @Test func pipelinedRequestsAnswerInOrder() throws {
        let server = try startServer(handler: liveRouter())
        defer { server.shutdown(timeout: 2) }
        let client = try TestClient(port: server.port)
        client.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\nonePOST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\ntwo")
        #expect(try client.readResponse().bodyText == "one")
        #expect(try client.readResponse().bodyText == "two")
    }

    @Test func chunkedUploadIsEchoedAndStreamsAreChunked() throws {
        let server = try startServer(handler: liveRouter())
        defer { server.shutdown(timeout: 2) }
        let client = try TestClient(port: server.port)
        client.send("POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n5;x=y\r\nhello\r\n")
        client.send("6\r\n world\r\n0\r\nTrailer-Field: 1\r\n\r\n")
        let echoed = try client.readResponse()
        #expect(echoed.status == 200 && echoed.bodyText == "hello world")
        client.send("GET /stream HTTP/1.1\r\nHost: t\r\n\r\n")
        let stream = try client.readResponse()
        #expect(stream.headers["transfer-encoding"] == "chunked")
        #expect(stream.bodyText == "data: 0\n\ndata: 1\n\ndata: 2\n\n")
    }

    @Test func expectContinueFlow() throws {
        let server = try startServer(handler: liveRouter())
        defer { server.shutdown(timeout: 2) }
        let client = try TestClient(port: server.port)
        client.send("POST /echo HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n")
        #expect(client.expect("HTTP/1.1 100 Continue\r\n\r\n"))
        client.send("body")
        let response = try client.readResponse()
        #expect(response.status == 200 && response.bodyText == "body")
    }

    @Test func oversizedBodyGets413WithoutContinue() throws {
        let server = try startServer({ $0.limits.maxBodyBytes = 100 }, handler: liveRouter())
        defer { server.shutdown(timeout: 2) }
        let client = try TestClient(port: server.port)
        client.send("POST /echo HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 1000\r\n\r\n")
        let response = try client.readResponse()
        #expect(response.status == 413)
        #expect(response.headers["connection"] == "close")
        #expect(response.bodyText.contains("\"code\": \"body_too_large\""))
        #expect(client.isClosedByServer())
    }

    @Test func oversizedHeadersGet431() throws {
        let server = try startServer({ $0.limits.maxHeaderBytes = 512 }, handler: liveRouter())
        defer { server.shutdown(timeout: 2) }
        let client = try TestClient(port: server.port)
        client.send("GET /hello HTTP/1.1\r\nHost: t\r\nX-Big: \(String(repeating: "x", count: 2000))\r\n\r\n")
        let response = try client.readResponse()
        #expect(response.status == 431)
        #expect(client.isClosedByServer())
    }

    @Test func malformedRequestGets400ThenCloseWhileOthersWork() throws {
        let server = try startServer(handler: liveRouter())
        defer { server.shutdown(timeout: 2) }
        let bad = try TestClient(port: server.port)
        let good = try TestClient(port: server.port)
        bad.send("GET / HTTP/1.1\r\nHost: t\r\nBad Header: x\r\n\r\n")
        let response = try bad.readResponse()
        #expect(response.status == 400)
        #expect(response.headers["content-type"] == "application/json")
        #expect(response.bodyText.hasPrefix(#"{"error": {"code": "invalid_header_name", "message": "#))
        #expect(bad.isClosedByServer())
        good.send("GET /hello HTTP/1.1\r\nHost: t\r\n\r\n")
        #expect(try good.readResponse().status == 200)
    }

    @Test func unknownPathAndWrongMethod() throws {
        let server = try startServer(handler: liveRouter())
        defer { server.shutdown(timeout: 2) }
        let client = try TestClient(port: server.port)
        client.send("GET /missing HTTP/1.1\r\nHost: t\r\n\r\n")
        let missing = try client.readResponse()
        #expect(missing.status == 404 && missing.bodyText.contains("not_found"))
        client.send("DELETE /hello HTTP/1.1\r\nHost: t\r\n\r\n")
        let wrong = try client.readResponse()
        #expect(wrong.status == 405)
        #expect(wrong.headers["allow"] == "GET, HEAD")
    }

    @Test func connectionLimitAnswers503() throws {
        let server = try startServer({ $0.maxConnections = 2 }, handler: liveRouter())
        defer { server.shutdown(timeout: 2) }
        let a = try TestClient(port: server.port), b = try TestClient(port: server.port)
        for c in [a, b] {
            c.send("GET /hello HTTP/1.1\r\nHost: t\r\n\r\n")
            #expect(try c.readResponse().status == 200)
        }
        let c = try TestClient(port: server.port)
        let rejected = try c.readResponse()
        #expect(rejected.status == 503)
        #expect(rejected.bodyText.contains("too_many_connections"))
        #expect(c.isClosedByServer())
        #expect(server.connectionCount == 2)
    }

    // Timeouts: the server's deadlines are short, the client's receive timeout (which only ends a
    // failing run) is 100 times longer, and nothing bounds the elapsed time from above, so scheduling
    // noise on a loaded machine cannot make these fail.
    @Test func idleConnectionIsClosed() throws {
        let server = try startServer({ $0.idleTimeout = 0.3 }, handler: liveRouter())
        defer { server.shutdown(timeout: 2) }
        let client = try TestClient(port: server.port, timeout: 30)
        client.send("GET /hello HTTP/1.1\r\nHost: t\r\n\r\n")
        let response = try client.readResponse()
        #expect(response.status == 200 && response.headers["connection"] != "close")
        #expect(client.isClosedByServer())
    }

    @Test func partialRequestTimesOutWith408() throws {
        let server = try startServer({ $0.headerReadTimeout = 0.3 }, handler: liveRouter())
        defer { server.shutdown(timeout: 2) }
        let client = try TestClient(port: server.port, timeout: 30)
        client.send("GET /hello HTTP/1.1\r\nHost: t\r\n")
        let response = try client.readResponse()
        #expect(response.status == 408)
        #expect(response.bodyText.contains("request_timeout"))
    }

    @Test func shutdownLetsInFlightRequestFinish() throws {
        // The handler runs until the test releases it, so "shutdown waits for it" is an ordering,
        // not a measured time.
        let started = DispatchSemaphore(value: 0), release = DispatchSemaphore(value: 0)
        let server = try startServer { _, sink in
            started.signal()
            _ = release.wait(timeout: .now() + 60)
            sink.send(.text("slow done"))
        }
        let client = try TestClient(port: server.port, timeout: 30)
        let idle = try TestClient(port: server.port, timeout: 30)
        client.send("GET /slow HTTP/1.1\r\nHost: t\r\n\r\n")
        #expect(started.wait(timeout: .now() + 30) == .success)
        let shutdownReturned = Flag(), finished = DispatchSemaphore(value: 0)
        DispatchQueue.global().async {
            if server.shutdown(timeout: 60) { shutdownReturned.set() }
            finished.signal()
        }
        // Shutdown has begun once it closed the idle connection; while the handler is held it cannot
        // return, however long this waits.
        #expect(idle.isClosedByServer())
        #expect(finished.wait(timeout: .now() + 0.3) == .timedOut)
        #expect(!shutdownReturned.isSet)
        release.signal()
        #expect(finished.wait(timeout: .now() + 60) == .success)
        #expect(shutdownReturned.isSet)
        // The in-flight request gets its whole response, then the connection is closed. (Whether the
        // response also says `Connection: close` depends on whether shutdown reached this connection
        // before the handler answered: an ordering this test does not control.)
        let response = try client.readResponse()
        #expect(response.status == 200 && response.bodyText == "slow done")
        #expect(client.isClosedByServer())
        #expect(server.connectionCount == 0)
        #expect((try? TestClient(port: server.port)) == nil)
    }
}
