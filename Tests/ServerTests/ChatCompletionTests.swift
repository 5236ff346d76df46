// /v1/chat/completions with the model's own chat_template (a ChatML-style template in the qwen2-bl
// fixture's tokenizer_config.json): message validation, whole and streamed answers (delta.role
// first, then delta.content), and equality with /v1/completions on the rendered prompt.
import ChatTemplates
import FixtureSupport
import Formats
import Foundation
import Server
import Testing

@Test func chatCompletionsRenderTheMessagesAndStream() throws {
    // qwen2-bl's tokenizer adds no special tokens, so the chat prompt and the completion prompt
    // below tokenize identically.
    let template = try #require(try ChatTemplate.load(modelDirectory: GenerationFixtures.model("qwen2-bl")))
    let live = try GenerationFixtures.server("qwen2-bl", chatRenderer: template)
    defer { live.stop() }
    let messages: [[String: Any]] = [["role": "system", "content": "Be brief."],
                                     ["role": "user", "content": [["type": "text", "text": "Hello"], ["type": "text", "text": "there"]]]]
    let request: [String: Any] = ["model": "qwen2-bl", "messages": messages, "max_tokens": 12, "temperature": 0]
    let chat = try live.request("POST", "/v1/chat/completions", body: try JSONSerialization.data(withJSONObject: request))
    #expect(chat.status == 200, "\(chat.text)")
    #expect(chat.json["object"] as? String == "chat.completion")
    let message = ((chat.json["choices"] as? [[String: Any]])?.first?["message"] as? [String: Any]) ?? [:]
    #expect(message["role"] as? String == "assistant")

    // The template's rendering, text parts joined by newlines as the route does.
    let prompt = "<|im_start|>system\nBe brief.<|endoftext|>\n<|im_start|>user\nHello\nthere<|endoftext|>\n<|im_start|>assistant\n"
    let completion = try live.request("POST", "/v1/completions", body: try JSONSerialization.data(withJSONObject:
        ["model": "qwen2-bl", "prompt": prompt, "max_tokens": 12, "temperature": 0] as [String: Any]))
    let text = (completion.json["choices"] as? [[String: Any]])?.first?["text"] as? String
    #expect(text != nil && message["content"] as? String == text)
    #expect(NSDictionary(dictionary: chat.json["usage"] as? [String: Any] ?? [:]) == NSDictionary(dictionary: completion.json["usage"] as? [String: Any] ?? [:]))

    var streaming = request
    streaming["stream"] = true
    let streamed = try live.request("POST", "/v1/chat/completions", body: try JSONSerialization.data(withJSONObject: streaming))
    let chunks = streamed.text.components(separatedBy: "\n\n").filter { $0.hasPrefix("data: ") }.map { String($0.dropFirst(6)) }
    #expect(chunks.last == "[DONE]")
    let objects = chunks.dropLast().map { (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any] ?? [:] }
    let deltas = objects.compactMap { ($0["choices"] as? [[String: Any]])?.first?["delta"] as? [String: Any] }
    #expect(deltas.first?["role"] as? String == "assistant")
    #expect(deltas.compactMap { $0["content"] as? String }.joined() == text)
    #expect(objects.allSatisfy { $0["object"] as? String == "chat.completion.chunk" })

    for bad in [#"{"model": "qwen2-bl", "messages": []}"#, #"{"model": "qwen2-bl", "messages": [{"role": "user", "content": 3}]}"#,
                #"{"model": "qwen2-bl", "messages": [{"role": "user", "content": "x"}], "n": 2}"#] {
        let reply = try live.post("/v1/chat/completions", json: bad)
        #expect(reply.status == 400 && (reply.json["error"] as? [String: Any])?["type"] as? String == "BadRequestError", "\(bad)")
    }
}

@Test func toolCallArgumentsReachTheTemplateAsObjects() throws {
    // Qwen2.5's real template writes each tool call with `tojson` of its arguments: given OpenAI's
    // JSON-string arguments, the route must hand the template the object (as vLLM does), or the
    // prompt would carry a doubly quoted string.
    let source = try String(contentsOf: Fixtures.directory.appendingPathComponent("chat/templates/qwen2.5-instruct.jinja"), encoding: .utf8)
    let template = try ChatTemplate(source: source, specialTokens: ["eos_token": "<|endoftext|>"])
    // The template's prompt outgrows the fixture's 128 positions; RoPE runs at any position, so a
    // scratch copy with a longer window serves it.
    let directory = try Fixtures.scratchCopy(of: GenerationFixtures.model("qwen2-bl"))
    defer { try? FileManager.default.removeItem(at: directory) }
    try Fixtures.editJSON(directory.appendingPathComponent("config.json")) { $0["max_position_embeddings"] = 512 }
    let live = try LiveServer(model: "qwen2-bl", modelDirectory: directory, tokenizer: try GenerationFixtures.tokenizer("qwen2-bl"),
                              chatRenderer: template)
    defer { live.stop() }
    func messages(arguments: JSONValue) -> JSONValue {
        .array([
            .object(["role": "user", "content": "Weather in Paris?"]),
            .object(["role": "assistant", "content": .null, "tool_calls": .array([.object([
                "id": "call_1", "type": "function",
                "function": .object(["name": "get_weather", "arguments": arguments]),
            ])])]),
            .object(["role": "tool", "tool_call_id": "call_1", "content": "18 C"]),
        ])
    }
    let request: JSONValue = .object(["model": "qwen2-bl", "messages": messages(arguments: #"{"city": "Paris"}"#),
                                      "max_tokens": 4, "temperature": 0])
    let chat = try live.post("/v1/chat/completions", json: String(decoding: request.serializedBytes(), as: UTF8.self))
    #expect(chat.status == 200, "\(chat.text)")

    // (The route turns the assistant's null content into "", which the template treats alike.)
    let expected = try template.render(messages: messages(arguments: .object(["city": "Paris"])).arrayValue!,
                                       addGenerationPrompt: true, extraContext: [:])
    #expect(expected.contains(#"{"name": "get_weather", "arguments": {"city": "Paris"}}"#))
    let completion = try live.post("/v1/completions", json: String(decoding: JSONValue.object([
        "model": "qwen2-bl", "prompt": .string(expected), "max_tokens": 4, "temperature": 0]).serializedBytes(), as: UTF8.self))
    let chatText = ((chat.json["choices"] as? [[String: Any]])?.first?["message"] as? [String: Any])?["content"] as? String
    let completionText = (completion.json["choices"] as? [[String: Any]])?.first?["text"] as? String
    #expect(chatText != nil && chatText == completionText)
    #expect((chat.json["usage"] as? [String: Any])?["prompt_tokens"] as? Int == (completion.json["usage"] as? [String: Any])?["prompt_tokens"] as? Int)
}

/// A message without `content` used to be taken as empty (a `where` clause bound only to `.null`);
/// only an assistant turn (which may carry just tool calls) may omit it.
@Test func chatMessageWithoutContentIsRefused() throws {
    let template = try #require(try ChatTemplate.load(modelDirectory: GenerationFixtures.model("qwen2-bl")))
    let live = try GenerationFixtures.server("qwen2-bl", chatRenderer: template)
    defer { live.stop() }
    let missing = try live.post("/v1/chat/completions", json: #"{"model": "qwen2-bl", "messages": [{"role": "user"}], "max_tokens": 1}"#)
    #expect(missing.status == 400 && missing.text.contains("messages[0].content is required"), "\(missing.text)")
    let assistant = try live.post("/v1/chat/completions", json: #"""
        {"model": "qwen2-bl", "max_tokens": 1, "messages": [{"role": "user", "content": "hi"}, {"role": "assistant"},
         {"role": "user", "content": "again"}]}
        """#)
    #expect(assistant.status == 200, "\(assistant.text)")
}
