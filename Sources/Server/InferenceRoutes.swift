// Inference routes: /infer (streamed as server-sent events with "stream": true), and the tokenizer
// exposed as /tokenize and /detokenize.
import Formats
import HTTP
import Models
import Tokenizers

extension Routes {
    func installInferenceRoutes(_ routes: RouteRegistrar) {
        routes.addStreaming("POST", "/infer") { request, sink in
            let body = try JSONBody(request)
            let inference = try InferRequest(body, encoder: { if case .encoder = model { true } else { false } }(),
                                             tokenizer: tokenizer, tokenizerProblem: options.tokenizerProblem)
            guard inference.generation.stream else { return json(try service.infer(inference, tokenizer: tokenizer)) }
            try streamInfer(inference, sink: sink)
            return nil
        }
        routes.add("POST", "/tokenize") { request in
            let body = try JSONBody(request)
            try body.allowOnly(["text", "add_special_tokens"])
            guard let text = try body.string("text") else { throw HTTPError.badRequest("field text is required", code: "invalid_field") }
            let ids = try requireTokenizer().encode(text, addSpecialTokens: try body.nonNullBool("add_special_tokens") ?? true)
            return json(.object(["tokens": .array(ids.map { .number(JSONNumber($0)) })]))
        }
        routes.add("POST", "/detokenize") { request in
            let body = try JSONBody(request)
            try body.allowOnly(["tokens", "skip_special_tokens"])
            guard let ids = try body.ints("tokens") else { throw HTTPError.badRequest("field tokens is required", code: "invalid_field") }
            let tokenizer = try requireTokenizer()
            if let bad = ids.first(where: { tokenizer.token(of: $0) == nil }) {
                throw HTTPError.badRequest("token id \(bad) is not in the vocabulary", code: "invalid_field")
            }
            return json(.object(["text": .string(tokenizer.decode(ids, skipSpecialTokens: try body.nonNullBool("skip_special_tokens") ?? true))]))
        }
    }

    /// `/infer` with `"stream": true`: `event: token` with `{"token", "text"}` per generated token
    /// (`text` is the newly safe text, possibly empty), then `event: done` with the full response
    /// object. The stream starts only once generation has begun, so errors before it are plain
    /// JSON errors; a client that disconnects cancels the generation.
    private func streamInfer(_ inference: InferRequest, sink: ResponseSink) throws {
        var started = false
        let report = try service.generate(
            prompt: inference.sequences[0], adapters: inference.adapters, mode: inference.adapterMode,
            parameters: inference.generation, promptLogits: inference.returnLogits == .all ? .all : .last,
            tokenizer: tokenizer, wantText: inference.textInput
        ) { token, text in
            if !started { started = sink.startStream(status: .ok, headers: ServerSentEvents.headers) }
            var event: JSONObject = ["token": .number(JSONNumber(token))]
            if inference.textInput { event["text"] = .string(text) }
            return sink.write(ServerSentEvents.event(.object(event), name: "token")) && sink.isConnected
        }
        if !started { sink.startStream(status: .ok, headers: ServerSentEvents.headers) }
        if inference.textInput && !report.finalDelta.isEmpty {
            sink.write(ServerSentEvents.event(.object(["token": .null, "text": .string(report.finalDelta)]), name: "token"))
        }
        var fields: [(String, JSONValue)] = [("adapter", inference.adapter.map(JSONValue.string) ?? .null)]
        fields += InferenceService.fields(of: report, request: inference)
        sink.write(ServerSentEvents.event(.object(JSONObject(uniqueKeysWithValues: fields)), name: "done"))
        sink.finish()
    }
}
