// The engine's semantics, case by case, against jinja2 as transformers configures it: small templates
// for whitespace control, trim/lstrip blocks, Python's str() of values, operator precedence, loops,
// scoping, namespace, macros, filters, tests and methods, plus 1500 random expressions over mixed values
// and 300 random templates of nested blocks with random whitespace control (fixed seeds), each rendered by generate_chat_templates.py (expected.json, "engine_cases"). Where jinja2 refuses a template at compile time, so must we; where it
// fails while rendering, so must we (with the same message for raise_exception).
import ChatTemplates
import FixtureSupport
import Formats
import Foundation
import Testing

struct EngineCase: CustomTestStringConvertible, Sendable {
    let name: String
    let template: String
    let context: [String: JSONValue]
    let rendered: String?
    let errorKind: String?
    let errorMessage: String?

    var testDescription: String { name }

    static func all() throws -> [EngineCase] {
        let document = try JSONValue.parse(Data(contentsOf: ChatFixtures.directory.appendingPathComponent("expected.json")))
        let randomContext = document["random_context"]!.objectValue!
        return document["engine_cases"]!.arrayValue!.map { c in
            // Random cases say "random" and share the document's random_context.
            let context = c["context"]!.objectValue ?? randomContext
            return EngineCase(name: c["name"]!.stringValue!, template: c["template"]!.stringValue!,
                       context: Dictionary(uniqueKeysWithValues: context.members.map { ($0.key, $0.value) }),
                       rendered: c["rendered"]?.stringValue, errorKind: c["error"]?["kind"]?.stringValue,
                       errorMessage: c["error"]?["message"]?.stringValue)
        }
    }
}

@Test(arguments: try EngineCase.all())
func engineMatchesJinja2(_ c: EngineCase) throws {
    let template: ChatTemplate
    do {
        template = try ChatTemplate(source: c.template)
    } catch let error as TemplateError {
        switch error {
        case .syntax, .unsupported:
            #expect(c.errorKind == "syntax" || c.errorKind == "error", "jinja2 compiled this template; we refused it: \(error)")
        default:
            Issue.record("unexpected \(error)")
        }
        return
    }
    #expect(c.errorKind != "syntax", "jinja2 refused this template at compile time (\(c.errorMessage ?? "")); we parsed it")
    do {
        let rendered = try template.render(messages: [], addGenerationPrompt: false, extraContext: c.context)
        if let expected = c.rendered {
            #expect(rendered.utf8.elementsEqual(expected.utf8), "got \(rendered.debugDescription)\nexpected \(expected.debugDescription)")
        } else {
            Issue.record("rendered \(rendered.debugDescription) where jinja2 failed: \(c.errorMessage ?? "")")
        }
    } catch let error as TemplateError {
        switch (c.errorKind, error) {
        case ("raised", .raised(let message)):
            #expect(message == c.errorMessage)
        case ("error", .runtime), ("error", .unsupported):
            break
        default:
            Issue.record("jinja2: \(c.rendered.map { "rendered \($0.debugDescription)" } ?? "\(c.errorKind!): \(c.errorMessage!)"); we threw \(error)")
        }
    }
}
