// A tiny blocking HTTP client over Glibc sockets for live tests. Every read has a
// receive timeout, so no test can hang.

import Foundation
import Glibc
@testable import HTTP

struct RawResponse {
    var status: Int
    var headers: [String: String]   // lowercased names
    var body: [UInt8]
    var bodyText: String { String(decoding: body, as: UTF8.self) }
}

struct ClientError: Error, CustomStringConvertible { var description: String }

final class TestClient {
    let fd: Int32
    private var buffer: [UInt8] = []

    init(port: Int, timeout: Double = 5) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw ClientError(description: "socket") }
        var tv = timeval(tv_sec: Int(timeout), tv_usec: Int((timeout - Double(Int(timeout))) * 1e6))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = UInt16(port).bigEndian
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard rc == 0 else {
            close(fd)
            throw ClientError(description: "connect failed: errno \(errno)")
        }
    }

    private var isOpen = true

    deinit { closeNow() }

    /// Closes the socket now (the server sees EOF).
    func closeNow() {
        if isOpen { close(fd) }
        isOpen = false
    }

    /// Half-closes: the server sees EOF but can still write to us.
    func shutdownWrite() { _ = Glibc.shutdown(fd, Int32(SHUT_WR)) }

    func send(_ text: String) { send(Array(text.utf8)) }
    func send(_ bytes: [UInt8]) {
        _ = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    }

    /// Reads more bytes into the buffer; false on EOF, error or timeout.
    private func fill() -> Bool {
        var chunk = [UInt8](repeating: 0, count: 8192)
        let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        guard n > 0 else { return false }
        buffer += chunk[0..<n]
        return true
    }

    private func take(until marker: [UInt8]) -> [UInt8]? {
        while true {
            if let r = buffer.firstRange(of: marker) {
                let out = Array(buffer[..<r.upperBound])
                buffer.removeSubrange(..<r.upperBound)
                return out
            }
            if !fill() { return nil }
        }
    }

    private func take(count: Int) -> [UInt8]? {
        while buffer.count < count { if !fill() { return nil } }
        let out = Array(buffer[..<count])
        buffer.removeSubrange(..<count)
        return out
    }

    /// Reads exactly `text` (for example an interim `100 Continue`).
    func expect(_ text: String) -> Bool { take(count: text.utf8.count) == Array(text.utf8) }

    /// Reads one response framed by Content-Length or chunked encoding.
    func readResponse() throws -> RawResponse {
        guard let head = take(until: Array("\r\n\r\n".utf8)) else { throw ClientError(description: "no response head") }
        let lines = String(decoding: head, as: UTF8.self).components(separatedBy: "\r\n")
        let parts = lines[0].split(separator: " ")
        guard parts.count >= 2, let status = Int(parts[1]) else { throw ClientError(description: "bad status line \(lines[0])") }
        var headers: [String: String] = [:]
        for line in lines.dropFirst() where !line.isEmpty {
            if let colon = line.firstIndex(of: ":") {
                headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            }
        }
        var body: [UInt8] = []
        if headers["transfer-encoding"] == "chunked" {
            while true {
                guard let sizeLine = take(until: Array("\r\n".utf8)),
                      let size = Int(String(decoding: sizeLine.dropLast(2), as: UTF8.self), radix: 16) else {
                    throw ClientError(description: "bad chunk")
                }
                if size == 0 { _ = take(count: 2); break }
                guard let data = take(count: size + 2) else { throw ClientError(description: "short chunk") }
                body += data.dropLast(2)
            }
        } else if let length = headers["content-length"].flatMap({ Int($0) }) {
            guard let data = take(count: length) else { throw ClientError(description: "short body") }
            body = data
        }
        return RawResponse(status: status, headers: headers, body: body)
    }

    /// True if the server closes the connection (EOF or reset) before the receive timeout.
    func isClosedByServer() -> Bool {
        var chunk = [UInt8](repeating: 0, count: 1024)
        while true {
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n == 0 { return true }
            if n < 0 { return errno == ECONNRESET }
        }
    }
}

/// Starts a server on 127.0.0.1, port 0.
func startServer(_ configure: (inout HTTPServerConfiguration) -> Void = { _ in },
                 handler: @escaping HTTPHandler) throws -> HTTPServer {
    var config = HTTPServerConfiguration(host: "127.0.0.1", port: 0)
    configure(&config)
    let server = HTTPServer(configuration: config, handler: handler)
    try server.start()
    return server
}

/// Routes shared by the live tests.
func liveRouter() -> HTTPHandler {
    var router = Router()
    router.get("/hello") { _, sink in sink.send(.text("hi")) }
    router.post("/echo") { request, sink in sink.send(HTTPResponse(status: .ok, body: request.body)) }
    router.get("/stream") { _, sink in
        sink.startStream(status: .ok, headers: ["Content-Type": "text/event-stream"])
        for i in 0..<3 { sink.write("data: \(i)\n\n") }
        sink.finish()
    }
    return router.handler
}
