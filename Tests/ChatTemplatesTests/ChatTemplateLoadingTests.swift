// ChatTemplate.load finds a model directory's template where transformers does: chat_template.jinja
// first, then tokenizer_config.json's chat_template (a string, or a list of named templates with
// "default"), with special tokens as strings or AddedToken objects; no template gives nil.
import ChatTemplates
import Formats
import Foundation
import Testing

private func modelDirectory(config: String?, jinja: String? = nil, specialTokensMap: String? = nil) throws -> URL {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("eckart-chat-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    if let config { try config.write(to: directory.appendingPathComponent("tokenizer_config.json"), atomically: true, encoding: .utf8) }
    if let specialTokensMap {
        try specialTokensMap.write(to: directory.appendingPathComponent("special_tokens_map.json"), atomically: true, encoding: .utf8)
    }
    if let jinja { try jinja.write(to: directory.appendingPathComponent("chat_template.jinja"), atomically: true, encoding: .utf8) }
    return directory
}


@Test func loadsTheStringFormWithAddedTokenObjects() throws {
    let directory = try modelDirectory(config: #"""
    {"bos_token": {"__type": "AddedToken", "content": "<s>", "lstrip": false}, "eos_token": "</s>", "pad_token": null,
     "chat_template": "{{ bos_token }}{% for m in messages %}[{{ m.role }}]{{ m.content }}{% endfor %}{{ eos_token }}"}
    """#)
    defer { try? FileManager.default.removeItem(at: directory) }
    let template = try #require(try ChatTemplate.load(modelDirectory: directory))
    #expect(template.specialTokens == ["bos_token": "<s>", "eos_token": "</s>"])
    #expect(try template.render(messages: [["role": "user", "content": "hi"]], addGenerationPrompt: false) == "<s>[user]hi</s>")
}

@Test func legacySpecialTokensMapWinsOnlyWithoutAddedTokensDecoder() throws {
    // transformers 5 merges special_tokens_map.json over tokenizer_config.json, unless the config has
    // added_tokens_decoder (then the map is not read).
    let source = #""chat_template": "{{ bos_token }}|{{ eos_token }}|{{ unk_token }}""#
    let map = #"{"bos_token": {"content": "<s>", "lstrip": false}, "eos_token": "<map-eos>", "unk_token": "<unk>"}"#
    let legacy = try modelDirectory(config: "{\"eos_token\": \"</s>\", \(source)}", specialTokensMap: map)
    let modern = try modelDirectory(config: "{\"added_tokens_decoder\": {}, \"eos_token\": \"</s>\", \(source)}", specialTokensMap: map)
    defer {
        try? FileManager.default.removeItem(at: legacy)
        try? FileManager.default.removeItem(at: modern)
    }
    #expect(try #require(try ChatTemplate.load(modelDirectory: legacy)).render(messages: [], addGenerationPrompt: false) == "<s>|<map-eos>|<unk>")
    #expect(try #require(try ChatTemplate.load(modelDirectory: modern)).render(messages: [], addGenerationPrompt: false) == "|</s>|")
}

@Test func loadsTheDefaultOfTheListForm() throws {
    let directory = try modelDirectory(config: #"""
    {"eos_token": "<|end|>", "chat_template": [{"name": "tool_use", "template": "tools"}, {"name": "default", "template": "default{{ eos_token }}"}]}
    """#)
    defer { try? FileManager.default.removeItem(at: directory) }
    let template = try #require(try ChatTemplate.load(modelDirectory: directory))
    #expect(try template.render(messages: [], addGenerationPrompt: false) == "default<|end|>")
}

@Test func chatTemplateJinjaTakesPrecedence() throws {
    let directory = try modelDirectory(config: #"{"bos_token": "<s>", "chat_template": "from config"}"#, jinja: "from file {{ bos_token }}\n")
    defer { try? FileManager.default.removeItem(at: directory) }
    let template = try #require(try ChatTemplate.load(modelDirectory: directory))
    // jinja2 drops one trailing newline of the source.
    #expect(try template.render(messages: [], addGenerationPrompt: false) == "from file <s>")
}

@Test func noTemplateGivesNil() throws {
    let withConfig = try modelDirectory(config: #"{"bos_token": "<s>"}"#)
    let empty = try modelDirectory(config: nil)
    defer {
        try? FileManager.default.removeItem(at: withConfig)
        try? FileManager.default.removeItem(at: empty)
    }
    #expect(try ChatTemplate.load(modelDirectory: withConfig) == nil)
    #expect(try ChatTemplate.load(modelDirectory: empty) == nil)
}

@Test func malformedConfigurationsAreRefused() throws {
    for config in [#"{"chat_template": [{"name": "other", "template": "x"}]}"#, #"{"chat_template": 3}"#,
                   #"{"eos_token": {"lstrip": true}, "chat_template": "x"}"#, #"{"chat_template": "x",}"#] {
        let directory = try modelDirectory(config: config)
        defer { try? FileManager.default.removeItem(at: directory) }
        #expect(throws: TemplateError.self, "\(config)") { try ChatTemplate.load(modelDirectory: directory) }
    }
    let bad = try modelDirectory(config: #"{"chat_template": "{% include 'other.jinja' %}"}"#)
    defer { try? FileManager.default.removeItem(at: bad) }
    #expect(throws: TemplateError.self) { try ChatTemplate.load(modelDirectory: bad) }
}
