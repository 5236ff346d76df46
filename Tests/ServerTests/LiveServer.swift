// A real Eckart server on a free loopback port, and a small blocking HTTP client for tests.
import FixtureSupport
import Glibc
import Foundation
import LinearAlgebra
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Models
import Server
import Tokenizers

/// Starts a server on 127.0.0.1:0 over a fresh adapter directory; `stop()` shuts it down.
final class LiveServer: Sendable {
    let server: EckartServer
    let adapterDirectory: URL
    var base: URL { URL(string: "http://127.0.0.1:\(server.port)")! }

    init(model name: String, modelDirectory: URL? = nil, quantization: QuantizationType? = nil, tokenizer: Tokenizer? = nil,
         adapterDirectory: URL? = nil, chatRenderer: (any ChatPromptRenderer)? = nil,
         configure: (inout ServerOptions) -> Void = { _ in }) throws {
        self.adapterDirectory = adapterDirectory
            ?? FileManager.default.temporaryDirectory.appendingPathComponent("eckart-store-\(UUID().uuidString)")
        var options = ServerOptions()
        options.port = 0
        options.adapterDirectory = self.adapterDirectory
        options.adapterRoot = Fixtures.directory.appendingPathComponent("adapters")
        options.diagnosticsCacheDirectory = FileManager.default.temporaryDirectory
            .appendingPathComponent("eckart-diagnostics-\(UUID().uuidString)")
        options.modelName = name
        configure(&options)
        let directory = modelDirectory ?? Fixtures.model(name)
        let model = try BaseModel.load(directory: directory, quantization: quantization)
        var generation: GenerationConfig? = nil
        if case .decoder(let decoder) = model { generation = try GenerationConfig.load(directory: directory, model: decoder.config) }
        server = try EckartServer(model: model, tokenizer: tokenizer, generation: generation, chatRenderer: chatRenderer, options: options)
        try server.start()
    }

    func stop() { server.shutdown(timeout: 5) }

    struct Reply {
        let status: Int
        let body: Data
        /// Response header fields as URLSession reports them (names as sent); empty over raw sockets.
        var headerFields: [String: String] = [:]
        var headers: Headers { Headers(fields: headerFields) }
        var json: [String: Any] { (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] ?? [:] }
        var errorCode: String? { (json["error"] as? [String: Any])?["code"] as? String }
        var text: String { String(decoding: body, as: UTF8.self) }
    }

    /// Case-insensitive lookup of response header fields.
    struct Headers {
        let fields: [String: String]
        subscript(name: String) -> String? { fields.first { $0.key.lowercased() == name.lowercased() }?.value }
    }

    /// Sends one request and waits for the reply (10 s at most).
    func request(_ method: String, _ path: String, body: Data? = nil, contentType: String = "application/json",
                 headers: [String: String] = [:], timeout: Double = 10) throws -> Reply {
        var request = URLRequest(url: URL(string: path, relativeTo: base)!)
        request.httpMethod = method
        request.httpBody = body
        request.timeoutInterval = timeout
        if body != nil { request.setValue(contentType, forHTTPHeaderField: "Content-Type") }
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        let done = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var result: Result<Reply, any Error> = .failure(URLError(.timedOut))
        URLSession.shared.dataTask(with: request) { data, response, error in
            if let error { result = .failure(error) } else {
                let http = response as! HTTPURLResponse
                let fields = http.allHeaderFields.reduce(into: [String: String]()) { $0["\($1.key)"] = "\($1.value)" }
                result = .success(Reply(status: http.statusCode, body: data ?? Data(), headerFields: fields))
            }
            done.signal()
        }.resume()
        _ = done.wait(timeout: .now() + timeout + 5)
        return try result.get()
    }

    func post(_ path: String, json: String, headers: [String: String] = [:]) throws -> Reply {
        try request("POST", path, body: Data(json.utf8), headers: headers)
    }

    /// `curl -F id=... -F config=@... -F weights=@...` for a fixture adapter.
    func upload(id: String, adapter: String, query: String = "", weights: Data? = nil, config: Data? = nil) throws -> Reply {
        let directory = Fixtures.adapter(adapter)
        let boundary = "eckart-\(UUID().uuidString)"
        var body = Data()
        func part(_ name: String, _ filename: String?, _ data: Data) {
            body.append(Data("--\(boundary)\r\nContent-Disposition: form-data; name=\"\(name)\"".utf8))
            if let filename { body.append(Data("; filename=\"\(filename)\"\r\nContent-Type: application/octet-stream".utf8)) }
            body.append(Data("\r\n\r\n".utf8))
            body.append(data)
            body.append(Data("\r\n".utf8))
        }
        part("id", nil, Data(id.utf8))
        part("config", "adapter_config.json", try config ?? Data(contentsOf: directory.appendingPathComponent("adapter_config.json")))
        part("weights", "adapter_model.safetensors", try weights ?? Data(contentsOf: directory.appendingPathComponent("adapter_model.safetensors")))
        body.append(Data("--\(boundary)--\r\n".utf8))
        return try request("POST", "/adapters" + query, body: body, contentType: "multipart/form-data; boundary=\(boundary)")
    }
}

func floats(_ value: Any?) -> [[Float]] {
    ((value as? [[Any]]) ?? []).map { $0.map { Float(($0 as? NSNumber)?.doubleValue ?? .nan) } }
}

extension LiveServer {
    /// POSTs `json` to `path` on its own socket (`Connection: close`) and reads the reply to EOF:
    /// unlike URLSession, which opens at most a few connections per host, any number of these run at
    /// once. Receive timeout 60 s.
    func postOverSocket(_ path: String, json: String) throws -> Reply {
        let fd = try connectedSocket()
        defer { close(fd) }
        let request = Array("POST \(path) HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: \(json.utf8.count)\r\n\r\n\(json)".utf8)
        var sent = 0
        while sent < request.count {
            let n = request[sent...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
            guard n > 0 else { throw URLError(.networkConnectionLost) }
            sent += n
        }
        var received: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { break }
            received += chunk[0..<n]
        }
        let text = String(decoding: received, as: UTF8.self)
        guard let split = text.range(of: "\r\n\r\n"), let status = Int(text.split(separator: " ").dropFirst().first ?? "") else {
            throw URLError(.badServerResponse)
        }
        return Reply(status: status, body: Data(text[split.upperBound...].utf8))
    }
}

extension LiveServer {
    /// A socket connected to the server, with a 60 s receive timeout (which only ends failing runs).
    func connectedSocket() throws -> Int32 { try ServerTests.connectedSocket(port: server.port) }
}

/// A socket connected to 127.0.0.1:`port`, whose reads give up after `receiveTimeout` seconds.
func connectedSocket(port: Int, receiveTimeout: Int = 60) throws -> Int32 {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw URLError(.cannotConnectToHost) }
    var timeout = timeval(tv_sec: receiveTimeout, tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = UInt16(port).bigEndian
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let connected = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard connected == 0 else {
        close(fd)
        throw URLError(.cannotConnectToHost)
    }
    return fd
}
