// What a served model brings for text besides its weights: the tokenizer, what ends a generation,
// and the chat template, from a Hugging Face directory's files or a GGUF file's metadata.
import ChatTemplates
import Formats
import Foundation
import Logging
import Models
import Tokenizers

struct ModelText {
    var tokenizer: Tokenizer? = nil
    /// Why the tokenizer failed to load, for the error of every text request.
    var tokenizerProblem: String? = nil
    var generation: GenerationConfig? = nil
    var chatTemplate: ChatTemplate? = nil

    /// Reads them for `base`, loaded from `path`; problems that leave the model usable are logged.
    static func load(path: URL, base: BaseModel, logger: Logger) throws -> ModelText {
        if path.pathExtension.lowercased() == "gguf" { return try loadGGUF(path, base: base, logger: logger) }
        var text = ModelText()
        // Text input needs the model's tokenizer.json; without one the API takes token ids only.
        let tokenizerURL = path.appendingPathComponent("tokenizer.json")
        if FileManager.default.fileExists(atPath: tokenizerURL.path) {
            do {
                text.tokenizer = try Tokenizer(contentsOf: tokenizerURL)
            } catch {
                logger.warning("text input disabled: \(error)")
                text.tokenizerProblem = "\(error)"
            }
        }
        // generation_config.json's EOS ids end generations (as transformers' generate()).
        if case .decoder(let decoder) = base {
            text.generation = try GenerationConfig.load(directory: path, model: decoder.config)
            // The model's chat_template renders /v1/chat/completions prompts. A template Eckart cannot
            // parse disables chat (logged, naming the construct) rather than rendering wrong prompts.
            // Encoders do not chat: their template (if any) is not read, so it warns about nothing.
            do {
                text.chatTemplate = try ChatTemplate.load(modelDirectory: path)
                if text.chatTemplate == nil { logger.info("no chat_template: /v1/chat/completions answers 400") }
            } catch {
                logger.warning("chat disabled: \(error)")
            }
        }
        return text
    }

    /// A GGUF file's `tokenizer.ggml.*` vocabulary and `tokenizer.chat_template`; its EOS id ends
    /// generations (GGUF has no generation_config.json).
    private static func loadGGUF(_ path: URL, base: BaseModel, logger: Logger) throws -> ModelText {
        var text = ModelText()
        let file = try GGUFFile(contentsOf: path)
        do {
            text.tokenizer = try Tokenizer(gguf: file)
        } catch {
            logger.warning("text input disabled: \(error)")
            text.tokenizerProblem = "\(error)"
        }
        guard case .decoder(let decoder) = base else { return text }
        text.generation = GenerationConfig(file: nil, model: decoder.config)
        do {
            text.chatTemplate = try ChatTemplate.load(gguf: file)
            if text.chatTemplate == nil { logger.info("no tokenizer.chat_template in the GGUF file: /v1/chat/completions answers 400") }
        } catch {
            logger.warning("chat disabled: \(error)")
        }
        return text
    }
}
