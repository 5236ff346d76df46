// The chat template in the real SmolLM2 GGUF renders conversations exactly as transformers renders
// them from the same file (Tests/Fixtures/smollm2/generate_tokens.py).
import ChatTemplates
import FixtureSupport
import Formats
import Foundation
import Testing

@Test(.enabled(if: SmolLM2.gguf != nil, "needs the SmolLM2 GGUF (make model, ECKART_SMOLLM2_GGUF)"))
func ggufChatTemplateMatchesTransformers() throws {
    let reference = try SmolLM2Tokens.load()
    let file = try GGUFFile(contentsOf: try #require(SmolLM2.gguf))
    let template = try #require(try ChatTemplate.load(gguf: file))
    for chat in reference.chats {
        let messages: [JSONValue] = chat.messages.map { .object(["role": .string($0.role), "content": .string($0.content)]) }
        #expect(try template.render(messages: messages, addGenerationPrompt: true) == chat.rendered)
    }
}
