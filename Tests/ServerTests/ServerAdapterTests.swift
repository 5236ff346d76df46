// The adapter API over real sockets: upload, list, replace, delete, restart, auth, and bad input.
import FixtureSupport
import Foundation
import Models
import Testing

@Suite(.serialized) struct ServerAdapterTests {
    @Test func uploadListReplaceDelete() throws {
        let live = try LiveServer(model: "qwen2-tiny")
        defer { live.stop() }
        let created = try live.upload(id: "sql", adapter: "qwen2-lora")
        #expect(created.status == 201)
        #expect(created.json["rank"] as? Int == 8 && created.json["variant"] as? String == "lora")
        #expect(created.json["scaling"] as? Double == 2)
        #expect(try live.upload(id: "sql", adapter: "qwen2-dora").errorCode == "adapter_exists")
        let replaced = try live.upload(id: "sql", adapter: "qwen2-dora", query: "?replace=true")
        #expect(replaced.status == 201 && replaced.json["variant"] as? String == "dora")
        let list = try live.request("GET", "/adapters")
        #expect((list.json["adapters"] as? [[String: Any]])?.map { $0["id"] as? String } == ["sql"])
        #expect(try live.request("GET", "/adapters/sql").json["rank"] as? Int == 4)
        #expect(try live.request("DELETE", "/adapters/sql").status == 204)
        #expect(try live.request("GET", "/adapters/sql").status == 404)
        #expect(try live.post("/infer", json: #"{"adapter": "sql", "tokens": [1, 2]}"#).errorCode == "adapter_not_found")
    }

    @Test func storedFilesDownloadByteForByte() throws {
        let live = try LiveServer(model: "qwen2-tiny")
        defer { live.stop() }
        #expect(try live.upload(id: "sql", adapter: "qwen2-dora").status == 201)
        for file in ["adapter_config.json", "adapter_model.safetensors"] {
            let reply = try live.request("GET", "/adapters/sql/files/\(file)")
            #expect(reply.status == 200)
            #expect(reply.body == (try Data(contentsOf: Fixtures.adapter("qwen2-dora").appendingPathComponent(file))))
        }
        #expect(try live.request("GET", "/adapters/sql/files/passwd").status == 404)
        #expect(try live.request("GET", "/adapters/nope/files/adapter_config.json").status == 404)
    }

    @Test func uploadByPathIsConfinedToTheRoot() throws {
        let live = try LiveServer(model: "qwen2-tiny")
        defer { live.stop() }
        #expect(try live.post("/adapters", json: #"{"id": "a", "path": "qwen2-layers"}"#).status == 201)
        #expect(try live.post("/adapters", json: #"{"id": "b", "path": "../models/qwen2-tiny"}"#).status == 403)
        #expect(try live.post("/adapters", json: #"{"id": "c", "path": "/etc"}"#).status == 403)
    }

    /// A directory under the root whose files are symlinks to files elsewhere used to load (201);
    /// each file must now resolve under the root too. Symlinks that stay inside the root still work.
    @Test func symlinkedFilesCannotEscapeTheRoot() throws {
        let fm = FileManager.default
        let scratch = fm.temporaryDirectory.appendingPathComponent("eckart-root-\(UUID().uuidString)")
        defer { try? fm.removeItem(at: scratch) }
        let root = scratch.appendingPathComponent("root"), outside = scratch.appendingPathComponent("outside")
        let fixture = Fixtures.adapter("qwen2-lora")
        for directory in [root.appendingPathComponent("escape"), root.appendingPathComponent("real"), outside] {
            try fm.createDirectory(at: directory, withIntermediateDirectories: true)
        }
        for name in ["adapter_config.json", "adapter_model.safetensors"] {
            try fm.copyItem(at: fixture.appendingPathComponent(name), to: outside.appendingPathComponent(name))
            try fm.copyItem(at: fixture.appendingPathComponent(name), to: root.appendingPathComponent("real/\(name)"))
            try fm.createSymbolicLink(at: root.appendingPathComponent("escape/\(name)"),
                                      withDestinationURL: outside.appendingPathComponent(name))
        }
        try fm.createSymbolicLink(at: root.appendingPathComponent("linked"), withDestinationURL: root.appendingPathComponent("real"))

        let live = try LiveServer(model: "qwen2-tiny", configure: { $0.adapterRoot = root })
        defer { live.stop() }
        let escaped = try live.post("/adapters", json: #"{"id": "e", "path": "escape"}"#)
        #expect(escaped.status == 403 && escaped.errorCode == "path_outside_root")
        #expect(escaped.text.contains("adapter_config.json in escape is a symlink"), "\(escaped.text)")
        let vllm = try live.post("/v1/load_lora_adapter", json: #"{"lora_name": "e", "lora_path": "escape"}"#)
        #expect(vllm.status == 403 && vllm.text.contains("adapter_config.json"), "\(vllm.text)")
        // A symlinked directory whose real path stays under the root is fine.
        #expect(try live.post("/adapters", json: #"{"id": "l", "path": "linked"}"#).status == 201)
        #expect(try live.post("/adapters", json: #"{"id": "r", "path": "\#(root.path)/real"}"#).status == 201)
    }

    @Test func restartFindsEveryAdapter() throws {
        let first = try LiveServer(model: "qwen2-tiny")
        for name in ["qwen2-lora", "qwen2-dora"] { #expect(try first.upload(id: name, adapter: name).status == 201) }
        first.stop()
        // A damaged entry next to them is reported and skipped, never fatal.
        let damaged = first.adapterDirectory.appendingPathComponent("broken")
        try FileManager.default.createDirectory(at: damaged, withIntermediateDirectories: true)
        try Data("{}".utf8).write(to: damaged.appendingPathComponent("adapter_config.json"))
        let second = try LiveServer(model: "qwen2-tiny", adapterDirectory: first.adapterDirectory)
        defer { second.stop() }
        #expect(second.server.startupReport.damaged.map(\.id) == ["broken"])
        let ids = (try second.request("GET", "/adapters").json["adapters"] as? [[String: Any]])?.compactMap { $0["id"] as? String }
        #expect(ids?.sorted() == ["qwen2-dora", "qwen2-lora"])
        let expected = try Fixtures.expected("qwen2-tiny.qwen2-dora")
        let reply = try second.post("/infer", json: #"{"adapter": "qwen2-dora", "tokens": \#(expected.tokens), "return_logits": "all"}"#)
        #expect(reply.status == 200)
    }

    @Test func apiKeyGuardsEverythingButProbes() throws {
        let live = try LiveServer(model: "qwen2-tiny") { $0.apiKey = "s3cret" }
        defer { live.stop() }
        #expect(try live.request("GET", "/healthz").status == 200)
        #expect(try live.request("GET", "/readyz").status == 200)
        #expect(try live.request("GET", "/metrics").status == 200)
        let denied = try live.request("GET", "/adapters")
        #expect(denied.status == 401 && denied.errorCode == "unauthorized")
        #expect(try live.request("GET", "/adapters", headers: ["Authorization": "Bearer wrong"]).status == 401)
        #expect(try live.request("GET", "/adapters", headers: ["Authorization": "Bearer s3cret"]).status == 200)

        // Every route in the table, not just the ones above: only the probes and the dashboard's
        // own files answer without the key (the OpenAI routes take it as the SDKs send it).
        let open: Set<String> = ["GET /healthz", "GET /readyz", "GET /metrics", "GET /", "GET /ui/{file}"]
        for route in live.server.routeTable {
            let parts = route.split(separator: " ", maxSplits: 1).map(String.init)
            let path = parts[1].replacingOccurrences(of: "{id}", with: "x").replacingOccurrences(of: "{file}", with: "app.js")
            let status = try live.request(parts[0], path, body: parts[0] == "POST" ? Data("{}".utf8) : nil).status
            #expect(open.contains(route) ? status != 401 : status == 401, "\(route) answered \(status) without the key")
        }
        let completions = try live.request("POST", "/v1/completions", body: Data(#"{"model": "qwen2-tiny", "prompt": [1, 2], "max_tokens": 1}"#.utf8),
                                           headers: ["Authorization": "Bearer s3cret"])
        #expect(completions.status != 401)
    }

    /// A 401 on a /v1 route used Eckart's error shape; the openai SDKs read OpenAI's.
    @Test func openAIRoutesRefuseAMissingKeyInOpenAIShape() throws {
        let live = try LiveServer(model: "qwen2-tiny") { $0.apiKey = "s3cret" }
        defer { live.stop() }
        for (method, path) in [("GET", "/v1/models"), ("POST", "/v1/completions"), ("POST", "/v1/load_lora_adapter")] {
            let denied = try live.request(method, path, body: method == "POST" ? Data("{}".utf8) : nil)
            let error = denied.json["error"] as? [String: Any]
            #expect(denied.status == 401, "\(path)")
            #expect(error?["type"] as? String == "AuthenticationError" && error?["code"] as? Int == 401, "\(path): \(denied.text)")
            #expect((error?["message"] as? String)?.contains("API key") == true && error?.keys.contains("param") == true)
        }
        #expect(try live.request("GET", "/adapters").errorCode == "unauthorized")
    }

    /// Every request-log line carries the request's id (echoed in `X-Request-Id`), and a failed
    /// request's line its error code and message, which used to be missing.
    @Test func requestLogNamesTheErrorAndTheRequestID() throws {
        let lines = LogLines()
        let live = try LiveServer(model: "qwen2-tiny") { options in options.requestLog = { lines.append($0) } }
        defer { live.stop() }
        let missing = try live.request("GET", "/adapters/nope", headers: ["X-Request-Id": "trace-42"])
        #expect(missing.status == 404 && missing.headers["X-Request-Id"] == "trace-42")
        let openAI = try live.post("/v1/completions", json: #"{"model": "nope", "prompt": "x"}"#)
        let generated = try #require(openAI.headers["X-Request-Id"])
        #expect(generated.count == 16 && generated != "trace-42")
        let forged = try live.request("GET", "/healthz", headers: ["X-Request-Id": "a b"])
        #expect(forged.headers["X-Request-Id"] != "a b")
        // A line is logged just after its response is sent, by the connection's own thread, so the
        // lines of different connections may land in any order: wait for all three.
        let deadline = Date().addingTimeInterval(5)
        let prefixes = ["GET /adapters/nope ", "POST /v1/completions ", "GET /healthz "]
        while Date() < deadline, !prefixes.allSatisfy({ prefix in lines.all.contains { $0.hasPrefix(prefix) } }) {
            Thread.sleep(forTimeInterval: 0.01)
        }
        let log = lines.all
        #expect(log.contains { $0.hasPrefix("GET /adapters/nope 404 ") && $0.contains("[trace-42] adapter_not_found: ") }, "\(log)")
        #expect(log.contains { $0.hasPrefix("POST /v1/completions 404 ") && $0.contains("[\(generated)] NotFoundError: ") }, "\(log)")
        #expect(log.contains { $0.hasPrefix("GET /healthz 200 ") && !$0.contains(": ") }, "\(log)")
    }

    /// A PyTorch `adapter_model.bin` sent as the weights part used to be reported as a safetensors
    /// header length over the limit, about a file the user never sent.
    @Test func pickleWeightsUploadSaysPickle() throws {
        let live = try LiveServer(model: "qwen2-tiny")
        defer { live.stop() }
        let zip = Data([0x50, 0x4B, 0x03, 0x04, 0x14, 0x00, 0x00, 0x00] + [UInt8](repeating: 0, count: 64))
        let pickle = Data([0x80, 0x02, 0x7D, 0x71, 0x00] + [UInt8](repeating: 0x2E, count: 64))
        for weights in [zip, pickle] {
            let reply = try live.upload(id: "bin", adapter: "qwen2-lora", weights: weights)
            let message = (reply.json["error"] as? [String: Any])?["message"] as? String ?? ""
            #expect(reply.status == 400 && reply.errorCode == "invalid_adapter", "\(reply.text)")
            #expect(message.contains("pickle") && message.contains("safe_serialization=True") && !message.contains("header length"), "\(message)")
        }
    }

    /// The auth scheme is case-insensitive (RFC 7235 §2.1): `bearer` used to be refused.
    @Test func bearerSchemeIsCaseInsensitive() throws {
        let live = try LiveServer(model: "qwen2-tiny") { $0.apiKey = "s3cret" }
        defer { live.stop() }
        for header in ["bearer s3cret", "BEARER s3cret", "Bearer  s3cret"] {
            #expect(try live.request("GET", "/adapters", headers: ["Authorization": header]).status == 200, "\(header)")
        }
        for header in ["Basic s3cret", "bearer s3cre", "bearers3cret", "bearer", "s3cret"] {
            #expect(try live.request("GET", "/adapters", headers: ["Authorization": header]).status == 401, "\(header)")
        }
    }

    /// A boundary over RFC 2046's 70 characters used to be reported as missing.
    @Test func overlongMultipartBoundaryIsNamed() throws {
        let live = try LiveServer(model: "qwen2-tiny")
        defer { live.stop() }
        let boundary = String(repeating: "b", count: 71)
        let reply = try live.request("POST", "/adapters", body: Data("--\(boundary)\r\n".utf8),
                                     contentType: "multipart/form-data; boundary=\(boundary)")
        #expect(reply.status == 400 && reply.errorCode == "invalid_multipart")
        #expect(reply.text.contains("boundary is 71 characters long; at most 70"), "\(reply.text)")
        let missing = try live.request("POST", "/adapters", body: Data("x".utf8), contentType: "multipart/form-data")
        #expect(missing.text.contains("lacks a boundary parameter"), "\(missing.text)")
    }

    /// adapter_config.json with a byte order mark or a repeated key is refused by name on upload.
    @Test func configWithByteOrderMarkOrDuplicateKeyIsRefused() throws {
        let live = try LiveServer(model: "qwen2-tiny")
        defer { live.stop() }
        let config = try Data(contentsOf: Fixtures.adapter("qwen2-lora").appendingPathComponent("adapter_config.json"))
        let bom = try live.upload(id: "bom", adapter: "qwen2-lora", config: Data([0xEF, 0xBB, 0xBF]) + config)
        #expect(bom.status == 400 && bom.text.contains("byte order mark"), "\(bom.text)")
        let text = String(decoding: config, as: UTF8.self)
        let repeated = Data(text.replacingOccurrences(of: "{", with: #"{"r": 2, "#, options: [], range: text.range(of: "{")).utf8)
        let duplicate = try live.upload(id: "dup", adapter: "qwen2-lora", config: repeated)
        #expect(duplicate.status == 400 && duplicate.text.contains(#"key \"r\" more than once"#), "\(duplicate.text)")
    }

    @Test func modelAndMetricsDescribeTheServer() throws {
        let live = try LiveServer(model: "qwen2-tiny")
        defer { live.stop() }
        let model = try live.request("GET", "/model").json
        #expect(model["architecture"] as? String == "Qwen2ForCausalLM" && model["layers"] as? Int == 2)
        #expect((model["target_modules"] as? [Any])?.count == 15)
        _ = try live.upload(id: "sql", adapter: "qwen2-lora")
        _ = try live.post("/infer", json: #"{"adapter": "sql", "tokens": [1, 2, 3]}"#)
        let metrics = try live.request("GET", "/metrics").text
        #expect(metrics.contains(#"eckart_http_requests_total{method="POST",route="/infer",status="200"} 1"#))
        #expect(metrics.contains(#"eckart_adapter_requests_total{adapter="sql"} 1"#))
        #expect(metrics.contains("eckart_adapters_stored 1"))
        #expect(metrics.contains("eckart_loaded_cache_hit_ratio "))
        #expect(metrics.contains(#"eckart_http_request_duration_seconds_bucket{route="/infer",le="+Inf"} 1"#))
    }

    @Test func badInputGetsTheRightStatusAndTheServerKeepsServing() throws {
        let live = try LiveServer(model: "qwen2-tiny")
        defer { live.stop() }
        let brokenWeights = Data([1, 2, 3, 4, 5, 6, 7, 8, 9])
        let foreignConfig = try Data(contentsOf: Fixtures.adapter("bert-lora").appendingPathComponent("adapter_config.json"))
        // rank-4 weights of two modules under a config that says rank 8 on all seven projections.
        let otherWeights = try Data(contentsOf: Fixtures.adapter("qwen2-layers").appendingPathComponent("adapter_model.safetensors"))
        let cases: [(String, () throws -> LiveServer.Reply, Int, String)] = [
            ("bad JSON", { try live.post("/infer", json: #"{"tokens": [1,}"#) }, 400, "invalid_json"),
            ("duplicate key", { try live.post("/infer", json: #"{"tokens": [1], "tokens": [2]}"#) }, 400, "invalid_json"),
            ("tokens not ints", { try live.post("/infer", json: #"{"tokens": ["a"]}"#) }, 400, "invalid_field"),
            ("unknown field", { try live.post("/infer", json: #"{"tokens": [1], "temprature": 1}"#) }, 400, "invalid_field"),
            ("bad mode", { try live.post("/infer", json: #"{"tokens": [1], "mode": "fast"}"#) }, 400, "invalid_field"),
            ("token out of range", { try live.post("/infer", json: #"{"tokens": [9999]}"#) }, 400, "invalid_input"),
            ("unknown adapter", { try live.post("/infer", json: #"{"adapter": "nope", "tokens": [1]}"#) }, 404, "adapter_not_found"),
            ("bad id", { try live.upload(id: "../evil", adapter: "qwen2-lora") }, 400, "invalid_adapter_id"),
            ("broken safetensors", { try live.upload(id: "x", adapter: "qwen2-lora", weights: brokenWeights) }, 400, "invalid_safetensors"),
            ("wrong shapes", { try live.upload(id: "z", adapter: "qwen2-lora", weights: otherWeights) }, 400, "invalid_adapter"),
            // The base check names a BERT adapter's base first; allowed past it, its modules are refused.
            ("wrong architecture", { try live.upload(id: "y", adapter: "bert-lora", config: foreignConfig) }, 409, "base_model_mismatch"),
            ("wrong modules", { try live.upload(id: "y", adapter: "bert-lora", query: "?allow_base_mismatch=true", config: foreignConfig) },
             400, "invalid_adapter"),
            ("bad multipart", { try live.request("POST", "/adapters", body: Data("--x\r\nnope".utf8), contentType: "multipart/form-data; boundary=x") }, 400, "invalid_multipart"),
            ("unknown route", { try live.request("GET", "/nope") }, 404, "not_found"),
            ("wrong method", { try live.request("PUT", "/infer", body: Data("{}".utf8)) }, 405, ""),
        ]
        for (name, send, status, code) in cases {
            let reply = try send()
            #expect(reply.status == status, "\(name): \(reply.text)")
            if !code.isEmpty { #expect(reply.errorCode == code, "\(name): \(reply.text)") }
        }
        #expect(try live.request("GET", "/healthz").status == 200)
        #expect((try live.request("GET", "/adapters").json["adapters"] as? [Any])?.isEmpty == true)
    }
}

/// Lines a test's server logged, collected across its threads.
final class LogLines: @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [String] = []
    func append(_ line: String) { lock.withLock { lines.append(line) } }
    var all: [String] { lock.withLock { lines } }
}
