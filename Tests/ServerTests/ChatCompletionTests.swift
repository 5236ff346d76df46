// /v1/chat/completions with the model's own chat_template (a ChatML-style template in the qwen2-bl
// fixture's tokenizer_config.json): message validation, whole and streamed answers (delta.role
// first, then delta.content), and equality with /v1/completions on the rendered prompt.
import ChatTemplates
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
