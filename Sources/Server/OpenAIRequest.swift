// Request bodies of /v1/completions, /v1/chat/completions and /v1/embeddings: which model (base or
// adapter) they name, the prompt, and the OpenAI fields Eckart accepts, ignores or refuses.
import Formats
import HTTP
import Models
import Tokenizers

/// Renders chat messages into a prompt with the model's chat_template (given to `EckartServer`).
public protocol ChatPromptRenderer: Sendable {
    /// `messages` are the request's message objects (`role`, `content` as a string). Errors thrown
    /// become 400 answers (HTTPError keeps its status).
    func render(messages: [JSONValue], addGenerationPrompt: Bool) throws -> String
}

/// A /v1/completions or /v1/chat/completions request, checked.
struct CompletionRequest {
    /// The `model` field as given (echoed in responses).
    var model: String
    /// The adapter `model` names (nil for the base model), or the `adapters` extension field's list.
    var adapters: AdapterSelection
    var prompt: [Int]
    var generation: GenerationParameters
    /// `stream_options.include_usage`: a last chunk with usage and no choices.
    var includeUsage: Bool

    /// Fields both routes take. Ones Eckart does not implement are refused below unless they hold
    /// their no-op value; `user`, `metadata`, `store`, `service_tier` and `stream_options.continuous_usage_stats` are ignored.
    /// `min_tokens` and `ignore_eos` are vLLM's extensions; `adapters` ([{"id", "scale"}]) is Eckart's.
    static let commonFields: Set<String> = [
        "model", "max_tokens", "temperature", "top_p", "top_k", "n", "stream", "stream_options", "stop", "seed", "user",
        "logprobs", "presence_penalty", "frequency_penalty", "logit_bias", "metadata", "store", "service_tier",
        "min_tokens", "ignore_eos", "adapters",
    ]
    static let completionFields = commonFields.union(["prompt", "echo", "best_of", "suffix"])
    static let chatFields = commonFields.union([
        "messages", "max_completion_tokens", "top_logprobs", "tools", "tool_choice", "parallel_tool_calls", "response_format",
    ])

    init(_ body: JSONBody, chat: Bool, routes: Routes, renderer: (any ChatPromptRenderer)?) throws {
        try body.allowOnly(chat ? Self.chatFields : Self.completionFields)
        let named: String?
        (model, named) = try routes.openAIModel(body)
        adapters = try AdapterSelection.parse(body, single: named)
        let tokenizer = try routes.requireTokenizer()
        try Self.refuseUnsupported(body, chat: chat)
        if chat {
            let messages = try Self.messages(body)
            guard let renderer else {
                throw HTTPError.badRequest("the model has no chat_template (tokenizer_config.json), so chat prompts cannot be rendered; use /v1/completions",
                                           code: "no_chat_template")
            }
            // The template writes any BOS itself, as vLLM and transformers' apply_chat_template do.
            prompt = tokenizer.encode(try renderer.render(messages: messages, addGenerationPrompt: true), addSpecialTokens: false)
        } else {
            prompt = try Self.prompt(body, tokenizer: tokenizer)
        }
        guard !prompt.isEmpty else { throw HTTPError.badRequest("the prompt has no tokens", code: "invalid_field") }
        let limitField = chat && body.object["max_completion_tokens"] != nil ? "max_completion_tokens" : "max_tokens"
        // OpenAI's legacy completions default to 16 tokens; chat runs to the context window.
        let maxTokens = try body.int(limitField) ?? (chat ? InferRequest.maxGeneratedTokens : InferRequest.defaultGeneratedTokens)
        guard (1...InferRequest.maxGeneratedTokens).contains(maxTokens) else {
            throw HTTPError.badRequest("field \(limitField) must be in 1...\(InferRequest.maxGeneratedTokens), got \(maxTokens)", code: "invalid_field")
        }
        generation = try GenerationParameters(body, maxTokens: maxTokens, defaultTemperature: 1)
        includeUsage = false
        if let options = body.object["stream_options"], !options.isNull {
            guard let object = options.objectValue else {
                throw HTTPError.badRequest("field stream_options must be an object", code: "invalid_field")
            }
            guard generation.stream else { throw HTTPError.badRequest("field stream_options needs stream: true", code: "invalid_field") }
            for key in object.keys where !["include_usage", "continuous_usage_stats"].contains(key) {
                throw HTTPError.badRequest("unknown field stream_options.\(key)", code: "invalid_field")
            }
            includeUsage = object["include_usage"]?.boolValue ?? false
        }
    }

    /// OpenAI fields Eckart does not implement, accepted only with their default value.
    private static func refuseUnsupported(_ body: JSONBody, chat: Bool) throws {
        func value(_ field: String) -> JSONValue? {
            guard let v = body.object[field], !v.isNull else { return nil }
            return v
        }
        if let n = value("n"), n.intValue != 1 { throw OpenAI.unsupported("n", "Eckart returns one choice per request (n = 1)") }
        if let n = value("best_of"), n.intValue != 1 { throw OpenAI.unsupported("best_of", "only best_of = 1") }
        if value("echo")?.boolValue == true { throw OpenAI.unsupported("echo", "the prompt is not echoed") }
        if let l = value("logprobs"), l != .bool(false) { throw OpenAI.unsupported("logprobs", "log probabilities are not returned") }
        if value("top_logprobs") != nil { throw OpenAI.unsupported("top_logprobs", "log probabilities are not returned") }
        if value("suffix") != nil { throw OpenAI.unsupported("suffix", "no insertion mode") }
        for field in ["presence_penalty", "frequency_penalty"] where value(field).map({ $0.doubleValue != 0 }) ?? false {
            throw OpenAI.unsupported(field, "only 0")
        }
        if let bias = value("logit_bias"), bias.objectValue?.isEmpty != true { throw OpenAI.unsupported("logit_bias", "only {}") }
        if let tools = value("tools"), tools.arrayValue?.isEmpty != true { throw OpenAI.unsupported("tools", "no tool calling") }
        if let choice = value("tool_choice"), choice != .string("none") { throw OpenAI.unsupported("tool_choice", "only \"none\"") }
        if let format = value("response_format"), format.objectValue?["type"] != .string("text") {
            throw OpenAI.unsupported("response_format", "only {\"type\": \"text\"}")
        }
    }

    /// `prompt`: a string, token ids, or a list holding exactly one of those.
    private static func prompt(_ body: JSONBody, tokenizer: Tokenizer) throws -> [Int] {
        guard let value = body.object["prompt"], !value.isNull else {
            throw HTTPError.badRequest("field prompt is required", code: "invalid_field")
        }
        if let text = value.stringValue { return tokenizer.encode(text) }
        guard let items = value.arrayValue, !items.isEmpty else {
            throw HTTPError.badRequest("field prompt must be a string, token ids, or a list of one of those", code: "invalid_field")
        }
        if items.allSatisfy({ $0.numberValue != nil }) {
            return try JSONBody.ints(value, field: "prompt")
        }
        guard items.count == 1 else {
            throw OpenAI.unsupported("prompt", "a batch of \(items.count) prompts; send one prompt per request")
        }
        if let text = items[0].stringValue { return tokenizer.encode(text) }
        return try JSONBody.ints(items[0], field: "prompt[0]")
    }

    /// `messages`: objects with a known role and string (or text-part) content, as the template gets them.
    private static func messages(_ body: JSONBody) throws -> [JSONValue] {
        guard let items = body.object["messages"]?.arrayValue, !items.isEmpty else {
            throw HTTPError.badRequest("field messages must be a non-empty array of message objects", code: "invalid_field")
        }
        return try items.enumerated().map { index, item in
            guard var message = item.objectValue else {
                throw HTTPError.badRequest("field messages[\(index)] must be an object, got \(item.typeName)", code: "invalid_field")
            }
            let roles = ["system", "developer", "user", "assistant", "tool"]
            guard let role = message["role"]?.stringValue, roles.contains(role) else {
                throw HTTPError.badRequest("field messages[\(index)].role must be one of \(roles.joined(separator: ", "))", code: "invalid_field")
            }
            switch message["content"] {
            case .string?: break
            case .array(let parts)?:
                // Text parts are joined, as vLLM does for text-only models.
                let texts = try parts.enumerated().map { partIndex, part in
                    guard let object = part.objectValue, object["type"] == .string("text"), let text = object["text"]?.stringValue else {
                        throw HTTPError.badRequest("field messages[\(index)].content[\(partIndex)] must be {\"type\": \"text\", \"text\": ...}",
                                                   code: "invalid_field")
                    }
                    return text
                }
                message["content"] = .string(texts.joined(separator: "\n"))
            case nil where role == "assistant", .null? where role == "assistant":
                // An assistant turn that only carries tool calls has no content.
                message["content"] = .string("")
            case nil:
                throw HTTPError.badRequest("field messages[\(index)].content is required for role \(role)", code: "invalid_field")
            default:
                throw HTTPError.badRequest("field messages[\(index)].content must be a string or an array of text parts", code: "invalid_field")
            }
            // OpenAI sends a tool call's arguments as a JSON string; chat templates (Llama 3.1,
            // Qwen2.5, Mistral) expect the object and `tojson` it themselves, so parse it first, as
            // vLLM does. Arguments that are not a JSON object stay the string they were.
            if case .array(let calls)? = message["tool_calls"] {
                message["tool_calls"] = .array(calls.map(Self.withParsedArguments))
            }
            return .object(message)
        }
    }

    private static func withParsedArguments(_ call: JSONValue) -> JSONValue {
        guard var object = call.objectValue, var function = object["function"]?.objectValue,
              case .string(let text)? = function["arguments"],
              let parsed = try? JSONValue.parse(text), parsed.objectValue != nil else { return call }
        function["arguments"] = parsed
        object["function"] = .object(function)
        return .object(object)
    }
}

extension Routes {
    /// The `model` field: the base model's name (no adapter) or a stored adapter id; 404 otherwise.
    func openAIModel(_ body: JSONBody) throws -> (name: String, adapter: String?) {
        guard let name = try body.string("model") else { throw HTTPError.badRequest("field model is required", code: "invalid_field") }
        if name == options.modelName { return (name, nil) }
        guard registry.contains(name) else {
            throw HTTPError(.notFound, code: "model_not_found", message: "The model `\(name)` does not exist.")
        }
        return (name, name)
    }
}
