// OpenAI-compatible routes, so existing clients (the openai SDKs, vLLM tooling, the Kubernetes
// inference gateway) work unchanged: /v1/models, vLLM's /v1/load_lora_adapter and
// /v1/unload_lora_adapter, /v1/completions, /v1/chat/completions and /v1/embeddings. The `model`
// field names an adapter id, or the base model's name for no adapter. Errors use OpenAI's shape.
import Adapters
import Foundation
import Formats
import HTTP
import Models

extension Routes {
    func installOpenAIRoutes(_ routes: RouteRegistrar) {
        let log = options.requestLog
        routes.add("GET", "/v1/models") { _ in
            OpenAI.answering(log) { json(modelList()) }!
        }
        routes.add("POST", "/v1/load_lora_adapter") { request in
            OpenAI.answering(log) { try loadLoRAAdapter(request) }!
        }
        routes.add("POST", "/v1/unload_lora_adapter") { request in
            OpenAI.answering(log) { try unloadLoRAAdapter(request) }!
        }
        routes.addStreaming("POST", "/v1/completions") { request, sink in
            OpenAI.answering(log) { try complete(request, sink: sink, chat: false) }
        }
        routes.addStreaming("POST", "/v1/chat/completions") { request, sink in
            OpenAI.answering(log) { try complete(request, sink: sink, chat: true) }
        }
        routes.add("POST", "/v1/embeddings") { request in
            OpenAI.answering(log) { try embeddings(request) }!
        }
    }

    /// vLLM's model list: the base model, then every stored adapter with `parent` = the base model.
    private func modelList() -> JSONValue {
        let maxLength: JSONValue = switch model {
        case .decoder(let m): .number(JSONNumber(m.config.maxPositions))
        case .encoder(let m): .number(JSONNumber(m.config.maxPositions))
        }
        func card(_ id: String, created: Date, root: String, parent: String?) -> JSONValue {
            .object(["id": .string(id), "object": "model", "created": .number(JSONNumber(Int(created.timeIntervalSince1970))),
                     "owned_by": "eckart", "root": .string(root), "parent": parent.map(JSONValue.string) ?? .null,
                     "max_model_len": maxLength])
        }
        let base = card(options.modelName, created: Self.started, root: options.modelName, parent: nil)
        let adapters = registry.list().map { card($0.id, created: $0.created, root: $0.id, parent: options.modelName) }
        return .object(["object": "list", "data": .array([base] + adapters)])
    }

    private static let started = Date()

    /// vLLM's `{"lora_name", "lora_path"}`: stores the adapter under `lora_name` from a directory
    /// under --adapter-root. Success is a plain-text line with status 200, as vLLM answers.
    private func loadLoRAAdapter(_ request: HTTPRequest) throws -> HTTPResponse {
        let body = try JSONBody(request)
        try body.allowOnly(["lora_name", "lora_path", "load_inplace", "allow_base_mismatch"])
        guard let name = try body.string("lora_name"), !name.isEmpty, let path = try body.string("lora_path"), !path.isEmpty else {
            throw HTTPError.badRequest("Both 'lora_name' and 'lora_path' must be provided.", code: OpenAI.invalidUserInput)
        }
        let replace = try body.bool("load_inplace") ?? false
        if !replace && registry.contains(name) {
            throw HTTPError.badRequest("The lora adapter '\(name)' has already been loaded.", code: OpenAI.invalidUserInput)
        }
        try AdapterStore.validate(id: name)
        let directory = try confinedDirectory(path)
        guard FileManager.default.fileExists(atPath: directory.path) else {
            throw HTTPError.notFound("No adapter found at \(path)")
        }
        let files = try adapterFiles(atPath: path)
        try baseCheck(files.config).enforce(allowMismatch: try body.bool("allow_base_mismatch") ?? false)
        _ = try registry.put(id: name, configData: files.config, weightsData: files.weights, replace: replace)
        return .text("Success: LoRA adapter '\(name)' added successfully.")
    }

    /// vLLM's `{"lora_name"}`: removes the stored adapter.
    private func unloadLoRAAdapter(_ request: HTTPRequest) throws -> HTTPResponse {
        let body = try JSONBody(request)
        try body.allowOnly(["lora_name", "lora_int_id"])
        guard let name = try body.string("lora_name"), !name.isEmpty else {
            throw HTTPError.badRequest("'lora_name' needs to be provided to unload a LoRA adapter.", code: OpenAI.invalidUserInput)
        }
        guard registry.contains(name) else {
            throw HTTPError.notFound("The lora adapter '\(name)' cannot be found.")
        }
        try registry.delete(id: name)
        return .text("Success: LoRA adapter '\(name)' removed successfully.")
    }

    /// `/v1/completions` and `/v1/chat/completions`, whole or streamed.
    private func complete(_ request: HTTPRequest, sink: ResponseSink, chat: Bool) throws -> HTTPResponse? {
        let body = try JSONBody(request)
        let completion = try CompletionRequest(body, chat: chat, routes: self, renderer: chatRenderer)
        let id = OpenAI.id(chat ? "chatcmpl" : "cmpl")
        let created = OpenAI.now()
        let object: JSONValue = chat ? "chat.completion" : "text_completion"
        func choice(text: String?, finish: JSONValue, streaming: Bool, first: Bool = false) -> JSONValue {
            if !chat { return .object(["index": 0, "text": .string(text ?? ""), "logprobs": .null, "finish_reason": finish]) }
            var message: JSONObject = [:]
            if !streaming || first { message["role"] = "assistant" }
            if let text { message["content"] = .string(text) }
            return .object(["index": 0, streaming ? "delta" : "message": .object(message), "logprobs": .null, "finish_reason": finish])
        }
        func envelope(_ choices: [JSONValue], streaming: Bool, usage: JSONValue? = nil) -> JSONValue {
            var fields: JSONObject = ["id": .string(id), "object": streaming ? (chat ? "chat.completion.chunk" : "text_completion") : object,
                                      "created": created, "model": .string(completion.model), "choices": .array(choices)]
            if let usage { fields["usage"] = usage }
            return .object(fields)
        }

        guard completion.generation.stream else {
            let report = try service.generate(prompt: completion.prompt, adapters: completion.adapters, mode: .auto,
                                              parameters: completion.generation, tokenizer: tokenizer, wantText: true)
            return json(envelope([choice(text: report.text ?? "", finish: OpenAI.finishReason(report.finishReason), streaming: false)],
                                 streaming: false, usage: OpenAI.usage(prompt: report.promptTokens, completion: report.tokens.count)))
        }
        var started = false
        func send(_ value: JSONValue) -> Bool {
            if !started {
                started = sink.startStream(status: .ok, headers: ServerSentEvents.headers)
                if chat { _ = sink.write(ServerSentEvents.event(envelope([choice(text: "", finish: .null, streaming: true, first: true)], streaming: true))) }
            }
            return sink.write(ServerSentEvents.event(value)) && sink.isConnected
        }
        let report = try service.generate(prompt: completion.prompt, adapters: completion.adapters, mode: .auto,
                                          parameters: completion.generation, tokenizer: tokenizer, wantText: true) { _, text in
            // Tokens whose text is held back send nothing; the connection is still checked.
            text.isEmpty ? sink.isConnected : send(envelope([choice(text: text, finish: .null, streaming: true)], streaming: true))
        }
        if report.finishReason != .cancelled {
            _ = send(envelope([choice(text: chat && report.finalDelta.isEmpty ? nil : report.finalDelta,
                                      finish: OpenAI.finishReason(report.finishReason), streaming: true)], streaming: true))
            if completion.includeUsage {
                _ = send(envelope([], streaming: true, usage: OpenAI.usage(prompt: report.promptTokens, completion: report.tokens.count)))
            }
            _ = sink.write(ServerSentEvents.event("[DONE]"))
        }
        sink.finish()
        return nil
    }

    /// `/v1/embeddings`: `input` as a string, strings, token ids or lists of token ids; vectors as
    /// float lists or base64 of little-endian float32 (`encoding_format`, the openai SDK's default).
    private func embeddings(_ request: HTTPRequest) throws -> HTTPResponse {
        let body = try JSONBody(request)
        try body.allowOnly(["model", "input", "encoding_format", "dimensions", "user", "adapters"])
        let (name, adapter) = try openAIModel(body)
        let adapters = try AdapterSelection.parse(body, single: adapter)
        guard case .encoder = model else { throw HTTPError.decoderCannotEmbed }
        let format = try body.choice("encoding_format", ["float", "base64"]) ?? "float"
        if body.object["dimensions"].map({ !$0.isNull }) ?? false {
            throw OpenAI.unsupported("dimensions", "embeddings have the model's own size")
        }
        guard let input = body.object["input"], !input.isNull else { throw HTTPError.badRequest("field input is required", code: "invalid_field") }
        let sequences: [[Int]]
        if let text = input.stringValue {
            sequences = [try requireTokenizer().encode(text)]
        } else if let items = input.arrayValue, !items.isEmpty {
            if items.allSatisfy({ $0.numberValue != nil }) {
                sequences = [try JSONBody.ints(input, field: "input")]
            } else {
                sequences = try items.enumerated().map { index, item in
                    if let text = item.stringValue { return try requireTokenizer().encode(text) }
                    return try JSONBody.ints(item, field: "input[\(index)]")
                }
            }
        } else {
            throw HTTPError.badRequest("field input must be a string, an array of strings, token ids or arrays of token ids", code: "invalid_field")
        }
        guard sequences.allSatisfy({ !$0.isEmpty }) else { throw HTTPError.badRequest("every input must hold at least one token", code: "invalid_field") }
        let (vectors, _, _, _) = try service.embed(sequences, adapters: adapters, mode: .auto)
        let data: [JSONValue] = vectors.enumerated().map { index, vector in
            let embedding: JSONValue = format == "float"
                ? .array(vector.map { .number(JSONNumber($0)) })
                : .string(Data(vector.flatMap { withUnsafeBytes(of: $0.bitPattern.littleEndian, Array.init) }).base64EncodedString())
            return .object(["object": "embedding", "index": .number(JSONNumber(index)), "embedding": embedding])
        }
        let tokens = sequences.reduce(0) { $0 + $1.count }
        return json(.object(["object": "list", "data": .array(data), "model": .string(name),
                             "usage": .object(["prompt_tokens": .number(JSONNumber(tokens)), "total_tokens": .number(JSONNumber(tokens))])]))
    }
}
