// The model's own chat_template as the renderer of /v1/chat/completions prompts.
import ChatTemplates
import Formats
import HTTP

extension ChatTemplate: ChatPromptRenderer {
    /// Renders with the context transformers' `apply_chat_template` gives. A template's own
    /// `raise_exception` (e.g. Mistral's "roles must alternate") and any failure while rendering are
    /// the request's fault here — the template parsed at start — so they answer 400 naming the cause.
    public func render(messages: [JSONValue], addGenerationPrompt: Bool) throws -> String {
        do {
            return try render(messages: messages, addGenerationPrompt: addGenerationPrompt, extraContext: [:])
        } catch let error as TemplateError {
            if case .raised(let message) = error {
                throw HTTPError.badRequest("the model's chat_template refused the messages: \(message)", code: "chat_template_refused")
            }
            throw HTTPError.badRequest("the model's chat_template failed on these messages: \(error)", code: "chat_template_failed")
        }
    }
}
