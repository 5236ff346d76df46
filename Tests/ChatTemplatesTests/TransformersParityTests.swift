// Every real chat template in Tests/Fixtures/chat/templates (80 of them) renders every conversation exactly as
// transformers' render_jinja_template did (expected.json, written by generate_chat_templates.py):
// byte-identical text, the same raise_exception message, or a failure where Python failed.
@testable import ChatTemplates
import FixtureSupport
import Formats
import Foundation
import Testing

struct ParityCase: CustomTestStringConvertible, Sendable {
    let template: String
    let conversation: String
    let addGenerationPrompt: Bool
    let context: [String: JSONValue]
    let messages: [JSONValue]
    let rendered: String?
    let error: (kind: String, message: String)?

    var testDescription: String { "\(template) \(conversation) add_generation_prompt=\(addGenerationPrompt)" }
}

enum ChatFixtures {
    static let directory = Fixtures.directory.appendingPathComponent("chat")
    /// The clock of generate_chat_templates.py's strftime_now (FIXED_NOW): 2025-03-07 12:00, taken as UTC.
    static let fixedNow = Date(timeIntervalSince1970: 1_741_348_800)
    static let fixedZone = TimeZone(identifier: "UTC")!

    static func templateSource(_ name: String) throws -> String {
        try String(contentsOf: directory.appendingPathComponent("templates/\(name).jinja"), encoding: .utf8)
    }

    static func cases() throws -> [ParityCase] {
        let document = try JSONValue.parse(Data(contentsOf: directory.appendingPathComponent("expected.json")))
        let conversations = document["conversations"]!.objectValue!
        return try document["cases"]!.arrayValue!.map { c in
            guard let template = c["template"]?.stringValue, let conversation = c["conversation"]?.stringValue,
                  let flag = c["add_generation_prompt"]?.boolValue, var context = c["context"]?.objectValue,
                  let messages = conversations[conversation]?["messages"]?.arrayValue
            else { throw TemplateError.invalidConfiguration("malformed case in expected.json") }
            if let tools = conversations[conversation]?["tools"] { context["tools"] = tools }
            var error: (String, String)? = nil
            if let e = c["error"] { error = (e["kind"]!.stringValue!, e["message"]!.stringValue!) }
            return ParityCase(template: template, conversation: conversation, addGenerationPrompt: flag,
                              context: Dictionary(uniqueKeysWithValues: context.members.map { ($0.key, $0.value) }),
                              messages: messages, rendered: c["rendered"]?.stringValue, error: error)
        }
    }
}

@Test func fixtureCoversTheTargetTemplates() throws {
    let cases = try ChatFixtures.cases()
    let templates = Set(cases.map(\.template))
    for name in ["llama-3-instruct", "llama-3.1-instruct", "llama-3.2-vision-instruct", "qwen2.5-instruct", "mistral-v0.1-instruct",
                 "mixtral-v0.1-instruct", "mistral-v0.3-instruct", "smollm2-instruct", "zephyr-tinyllama-chat"] {
        #expect(templates.contains(name), "missing \(name)")
    }
    #expect(cases.filter { $0.error?.kind == "raised" }.count >= 20)
    #expect(cases.filter { $0.rendered != nil }.count >= 150)
}

@Test(arguments: try ChatFixtures.cases())
func rendersLikeTransformers(_ c: ParityCase) throws {
    // Special tokens go in through the initializer as the server does; everything else as extra context.
    var tokens: [String: String] = [:]
    var extra: [String: JSONValue] = [:]
    for (key, value) in c.context {
        if key.hasSuffix("_token"), let s = value.stringValue { tokens[key] = s } else { extra[key] = value }
    }
    var template = try ChatTemplate(source: try ChatFixtures.templateSource(c.template), specialTokens: tokens)
    template.now = { ChatFixtures.fixedNow }
    template.timeZone = ChatFixtures.fixedZone
    if let expected = c.rendered {
        let rendered = try template.render(messages: c.messages, addGenerationPrompt: c.addGenerationPrompt, extraContext: extra)
        #expect(rendered.utf8.elementsEqual(expected.utf8), "got \(rendered.debugDescription)\nexpected \(expected.debugDescription)")
        return
    }
    let (kind, message) = c.error!
    do {
        let rendered = try template.render(messages: c.messages, addGenerationPrompt: c.addGenerationPrompt, extraContext: extra)
        Issue.record("rendered \(rendered.debugDescription) where transformers failed with \(message)")
    } catch let error as TemplateError {
        if kind == "raised" {
            #expect(error == .raised(message))
        } else {
            // jinja2 failed inside the template (TypeError, UndefinedError): ours must fail there too, and
            // not as a raise_exception the server would report as the client's fault.
            if case .raised = error { Issue.record("expected a template failure like \(message), got \(error)") }
        }
    }
}
