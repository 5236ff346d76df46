// A minimal HTTP/1.1 client on POSIX sockets for the load benchmark: one connection per request
// (`Connection: close`), so any number run at once, and server-sent events timed as they arrive.
import Dispatch
import Foundation
import Glibc

struct LoadClient: Sendable {
    let port: Int

    struct Reply {
        let status: Int
        let body: String
    }

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// POSTs `json` and reads the whole reply.
    func post(_ path: String, _ json: String) throws -> Reply {
        let fd = try connect()
        defer { close(fd) }
        try send(fd, path: path, json: json)
        var received: [UInt8] = []
        try read(fd) { received += $0; return true }
        let text = String(decoding: received, as: UTF8.self)
        guard let split = text.range(of: "\r\n\r\n"), let status = Int(text.split(separator: " ").dropFirst().first ?? "") else {
            throw Failure(description: "no HTTP response from \(path)")
        }
        return Reply(status: status, body: String(text[split.upperBound...]))
    }

    /// POSTs a streaming `/infer` request and times its token events.
    func stream(_ json: String) throws -> StreamTiming {
        let fd = try connect()
        defer { close(fd) }
        let start = DispatchTime.now()
        try send(fd, path: "/infer", json: json)
        var tokens = 0
        var firstToken: Double? = nil
        var pending: [UInt8] = []
        var head = ""
        let marker = Array("event: token".utf8)
        try read(fd) { chunk in
            if head.count < 12 { head += String(decoding: chunk.prefix(12), as: UTF8.self) }
            pending += chunk
            // Count complete markers, keeping a tail that may hold the start of the next one.
            var i = 0
            while i + marker.count <= pending.count {
                if pending[i] == marker[0] && Array(pending[i..<(i + marker.count)]) == marker {
                    tokens += 1
                    if firstToken == nil { firstToken = seconds(since: start) }
                    i += marker.count
                } else {
                    i += 1
                }
            }
            pending.removeFirst(max(0, i))
            return true
        }
        guard head.hasPrefix("HTTP/1.1 200") else { throw Failure(description: "the server answered \(head)") }
        return StreamTiming(tokens: tokens, firstToken: firstToken ?? seconds(since: start), total: seconds(since: start))
    }

    private func connect() throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "socket: errno \(errno)") }
        var timeout = timeval(tv_sec: 600, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            close(fd)
            throw Failure(description: "connect to 127.0.0.1:\(port): errno \(errno)")
        }
        return fd
    }

    private func send(_ fd: Int32, path: String, json: String) throws {
        let request = Array("POST \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: \(json.utf8.count)\r\n\r\n\(json)".utf8)
        var sent = 0
        while sent < request.count {
            let n = request[sent...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, 0) }
            guard n > 0 else { throw Failure(description: "send: errno \(errno)") }
            sent += n
        }
    }

    /// Reads until EOF, handing each chunk to `body`.
    private func read(_ fd: Int32, _ body: ([UInt8]) -> Bool) throws {
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n == 0 { return }
            guard n > 0 else { throw Failure(description: "recv: errno \(errno)") }
            guard body(Array(chunk[0..<n])) else { return }
        }
    }
}
