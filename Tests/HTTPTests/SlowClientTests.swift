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

    /// Slowloris: clients that open connections and send a head one byte at a time. They used to
    /// hold every slot until the header deadline, and every other client got 503; now a new client
    /// takes the slot of the slowest one.
    @Test func slowClientsDoNotShutOthersOut() throws {
        let server = try startServer({ $0.maxConnections = 8; $0.reclaimMinimumAge = 0.2 }, handler: liveRouter())
        defer { server.shutdown(timeout: 2) }
        nonisolated(unsafe) let slow = try (0..<16).map { _ in try TestClient(port: server.port) }
        let stop = ManagedAtomicFlag()
        let trickler = Thread {
            var sent = 0
            let head = Array("GET /hello HTTP/1.1\r\nX-Slow: ".utf8)
            while !stop.isSet {
                for client in slow { client.send([sent < head.count ? head[sent] : UInt8(ascii: "a")]) }
                sent += 1
                Thread.sleep(forTimeInterval: 0.3)
            }
        }
        trickler.start()
        defer { stop.set() }
        Thread.sleep(forTimeInterval: 0.5)
        var statuses: [Int] = []
        for _ in 0..<10 {
            let client = try TestClient(port: server.port)
            client.send("GET /hello HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n")
            statuses.append(try client.readResponse().status)
        }
        #expect(statuses == Array(repeating: 200, count: 10), "\(statuses)")
        #expect(server.reclaimedConnections >= 1)
        #expect(server.connectionCount <= 8 + 1)
    }

    /// A body trickled under the idle timeout used to hold its slot as long as the client liked.
    @Test func aTrickledBodyGets408AtTheMinimumRate() throws {
        let server = try startServer({ $0.receiveRateGracePeriod = 0.5 }, handler: liveRouter())
        defer { server.shutdown(timeout: 2) }
        nonisolated(unsafe) let client = try TestClient(port: server.port, timeout: 10)
        client.send("POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 1000\r\n\r\n")
        let stop = ManagedAtomicFlag()
        let trickler = Thread {
            while !stop.isSet {
                client.send("x")
                Thread.sleep(forTimeInterval: 0.1)
            }
        }
        trickler.start()
        defer { stop.set() }
        let response = try client.readResponse()
        #expect(response.status == 408 && response.bodyText.contains("request_too_slow"), "\(response.bodyText)")
    }
}

/// A flag one thread sets and another polls.
final class ManagedAtomicFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    var isSet: Bool { lock.withLock { value } }
    func set() { lock.withLock { value = true } }
}
