// A model's chat template: parsed once from Jinja source, rendered per request with the context
// transformers' `apply_chat_template` provides.
//
// Reference: transformers `utils/chat_template_utils.py` (`_compile_jinja_template`,
// `render_jinja_template`, `_alias_reasoning_fields`) and `tokenization_utils_base.py`
// (`apply_chat_template`: the special tokens map is passed as template variables). The context is
// `messages`, `tools` and `documents` (None unless given), `add_generation_prompt`, the special tokens
// by name, the caller's extra variables, and the globals `raise_exception`, `strftime_now`, `namespace`,
// `dict` and jinja2's `range`.
import Foundation
import Formats

/// A parsed chat template, safe to share between requests.
public struct ChatTemplate: Sendable {
    private let root: Frame
    private let map: SourceMap
    /// Special tokens passed to the template by name (`bos_token`, `eos_token`, ...).
    public let specialTokens: [String: String]
    /// The clock `strftime_now` reads; tests fix it.
    var now: @Sendable () -> Date = { Date() }
    /// The zone `strftime_now` formats in: nil is the process's local time (`TZ`), as Python's
    /// `datetime.now()`; tests fix it so that a date does not depend on where they run.
    var timeZone: TimeZone? = nil

    /// Parses `source`; unsupported syntax (an unknown tag, filter or test) throws a `TemplateError` here,
    /// never at render time.
    public init(source: String, specialTokens: [String: String] = [:]) throws {
        var lexer = TemplateLexer(source)
        let tokens = try lexer.tokenize()
        var parser = TemplateParser(tokens: tokens, map: lexer.map)
        root = Frame(try parser.parseTemplate())
        map = lexer.map
        self.specialTokens = specialTokens
    }

    /// Loads from a Hugging Face model directory: `chat_template.jinja` if present, else
    /// `tokenizer_config.json`'s `chat_template` (a string, or a list of {"name","template"}: use "default");
    /// special tokens (bos_token, eos_token, unk_token, pad_token — strings or AddedToken objects
    /// {"content": ...}) from tokenizer_config.json. Returns nil when the directory has no chat template.
    ///
    /// As transformers 5 does, a legacy `special_tokens_map.json` is read only when tokenizer_config.json
    /// has no `added_tokens_decoder`, and then its tokens take precedence.
    public static func load(modelDirectory: URL) throws -> ChatTemplate? {
        let config = try readObject(modelDirectory.appendingPathComponent("tokenizer_config.json"))
        let legacyMap = config?["added_tokens_decoder"] == nil
            ? try readObject(modelDirectory.appendingPathComponent("special_tokens_map.json")) : nil
        var tokens: [String: String] = [:]
        for name in ["bos_token", "eos_token", "unk_token", "pad_token"] {
            if let token = try specialToken(name, in: legacyMap, file: "special_tokens_map.json")
                ?? specialToken(name, in: config, file: "tokenizer_config.json") {
                tokens[name] = token
            }
        }
        let jinjaURL = modelDirectory.appendingPathComponent("chat_template.jinja")
        if FileManager.default.fileExists(atPath: jinjaURL.path) {
            let source: String
            do {
                source = try String(contentsOf: jinjaURL, encoding: .utf8)
            } catch {
                throw TemplateError.invalidConfiguration("chat_template.jinja cannot be read as UTF-8 text: \(error)")
            }
            return try ChatTemplate(source: source, specialTokens: tokens)
        }
        switch config?["chat_template"] {
        case .string(let source)?:
            return try ChatTemplate(source: source, specialTokens: tokens)
        case .array(let named)?:
            for entry in named {
                guard let name = entry["name"]?.stringValue, let source = entry["template"]?.stringValue else {
                    throw TemplateError.invalidConfiguration("tokenizer_config.json: chat_template list entries need string \"name\" and \"template\"")
                }
                if name == "default" { return try ChatTemplate(source: source, specialTokens: tokens) }
            }
            throw TemplateError.invalidConfiguration("tokenizer_config.json: chat_template list has no template named \"default\"")
        case .null?, nil:
            return nil
        case let other?:
            throw TemplateError.invalidConfiguration("tokenizer_config.json: chat_template is a \(other.typeName)")
        }
    }

    /// The JSON object in `url`; nil when the file does not exist.
    private static func readObject(_ url: URL) throws -> JSONObject? {
        guard FileManager.default.fileExists(atPath: url.path) else { return nil }
        let parsed: JSONValue
        do {
            parsed = try JSONValue.parse(Data(contentsOf: url))
        } catch {
            throw TemplateError.invalidConfiguration("\(url.lastPathComponent): \(error)")
        }
        guard let object = parsed.objectValue else {
            throw TemplateError.invalidConfiguration("\(url.lastPathComponent) is not a JSON object")
        }
        return object
    }

    /// A special token given as a string or as an AddedToken object `{"content": ...}`; nil when absent or null.
    private static func specialToken(_ name: String, in object: JSONObject?, file: String) throws -> String? {
        switch object?[name] {
        case .string(let s)?: return s
        case .object(let added)?:
            guard let content = added["content"]?.stringValue else {
                throw TemplateError.invalidConfiguration("\(file): \(name) has no string \"content\"")
            }
            return content
        case .null?, nil: return nil
        case let other?: throw TemplateError.invalidConfiguration("\(file): \(name) is a \(other.typeName)")
        }
    }

    /// Renders the conversation.
    /// - Parameters:
    ///   - messages: as given in an OpenAI request (array of objects with role, content (string or list of
    ///     parts), etc.).
    ///   - addGenerationPrompt: append the header that starts the assistant's turn.
    ///   - extraContext: further template variables (`tools`, `documents`, `date_string`, ...); they
    ///     override the special tokens, as keyword arguments do in transformers.
    /// - Throws: `TemplateError.raised` when the template calls `raise_exception` (a client error), other
    ///   `TemplateError`s for failures of the template itself.
    public func render(messages: [JSONValue], addGenerationPrompt: Bool, extraContext: [String: JSONValue] = [:]) throws -> String {
        let globals = Scope(parent: nil)
        for (name, value) in TemplateGlobals.functions(now: now, timeZone: timeZone) { globals.set(name, value) }
        let context = Scope(parent: globals)
        context.set("messages", .list(messages.map { TemplateGlobals.aliasReasoning(TemplateValue(json: $0)) }))
        context.set("tools", .none)
        context.set("documents", .none)
        context.set("add_generation_prompt", .bool(addGenerationPrompt))
        for (name, token) in specialTokens { context.set(name, .string(token)) }
        for (name, value) in extraContext { context.set(name, TemplateValue(json: value)) }
        context.enter(root)
        var interpreter = TemplateInterpreter(map: map)
        try interpreter.render(root.nodes, scope: context)
        return interpreter.output
    }
}
