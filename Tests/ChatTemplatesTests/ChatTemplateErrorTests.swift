// Errors name what failed and where: syntax errors and unsupported features at init with line:column and
// the source line, render failures with the position of the failing expression, raise_exception as
// `.raised` with the template's message.
@testable import ChatTemplates
import Formats
import Foundation
import Testing

private func initError(_ source: String) -> TemplateError? {
    do {
        _ = try ChatTemplate(source: source)
        return nil
    } catch {
        return error as? TemplateError
    }
}

private func renderError(_ source: String, _ context: [String: JSONValue] = [:]) throws -> TemplateError? {
    let template = try ChatTemplate(source: source)
    do {
        _ = try template.render(messages: [], addGenerationPrompt: false, extraContext: context)
        return nil
    } catch {
        return error as? TemplateError
    }
}

@Test func syntaxErrorsCarryLineColumnAndSnippet() {
    let error = initError("line one\n{% for m in messages %}\n  {{ m.content + }}\n{% endfor %}")
    guard case .syntax(let message, let at, let snippet)? = error else {
        Issue.record("expected a syntax error, got \(String(describing: error))")
        return
    }
    #expect(message == "unexpected token in expression")
    #expect(at == SourceLocation(line: 3, column: 18))
    #expect(snippet == "  {{ m.content + }}")
    #expect("\(error!)".contains("3:18"))
}

@Test func unknownFilterAndTestAreRefusedAtInitWithTheirPosition() {
    #expect(initError("ab\n  {{ x | frobnicate }}") == .unsupported("no filter named 'frobnicate'", at: SourceLocation(line: 2, column: 10), snippet: "  {{ x | frobnicate }}"))
    #expect(initError("{% if x is prime %}{% endif %}") == .unsupported("no test named 'prime'", at: SourceLocation(line: 1, column: 12), snippet: "{% if x is prime %}{% endif %}"))
}

@Test func unsupportedTagsAreRefusedAtInit() {
    for (source, tag) in [("{% extends 'base' %}", "extends"), ("{% include 'x' %}", "include"),
                          ("{% raw %}{{ x }}{% endraw %}", "raw"), ("{% filter upper %}x{% endfilter %}", "filter")] {
        guard case .unsupported(let message, let at, _)? = initError(source) else {
            Issue.record("\(tag) was not refused")
            continue
        }
        #expect(message == "the '\(tag)' tag is not supported")
        #expect(at == SourceLocation(line: 1, column: 4))
    }
    guard case .unsupported(let message, _, _)? = initError("{% for x in xs recursive %}{% endfor %}") else {
        Issue.record("recursive loop was not refused")
        return
    }
    #expect(message.contains("recursive"))
}

@Test func unclosedBlocksAndStrayEndTagsAreSyntaxErrors() {
    for source in ["{% if x %}open", "{% for x in y %}", "{% endif %}", "{{ 'unterminated }}", "{# comment", "{{ x ", "{% break %}", "{{ (1 }}"] {
        guard case .syntax? = initError(source) else {
            Issue.record("\(source.debugDescription) gave \(String(describing: initError(source)))")
            continue
        }
    }
}

@Test func undefinedAttributeFailsLikeJinja2WithPosition() throws {
    let error = try renderError("{{ messages }}\n{{ missing.content }}")
    #expect(error == .runtime("'missing' is undefined", at: SourceLocation(line: 2, column: 11), snippet: "{{ missing.content }}"))
    // A missing key is Undefined (falsy, prints empty); using it in arithmetic fails with jinja2's hint.
    let message: JSONValue = ["role": "user"]
    let template = try ChatTemplate(source: "[{{ m.content }}]{{ m.content is defined }}")
    #expect(try template.render(messages: [], addGenerationPrompt: false, extraContext: ["m": message]) == "[]False")
    let concat = try renderError("{{ m.content + 'x' }}", ["m": message])
    #expect(concat == .runtime("'dict object' has no attribute 'content'", at: SourceLocation(line: 1, column: 14), snippet: "{{ m.content + 'x' }}"))
}

@Test func unknownMethodIsRefusedWhenCalled() throws {
    guard case .unsupported(let message, _, _)? = try renderError("{{ 'a'.format(1) }}") else {
        Issue.record("format was not refused")
        return
    }
    #expect(message.contains("format"))
}

@Test func raiseExceptionBecomesRaisedWithTheMessage() throws {
    let template = try ChatTemplate(source: "{% if messages[0].role != 'user' %}{{ raise_exception('First message must be from user, got ' + messages[0].role) }}{% endif %}ok")
    #expect(throws: TemplateError.raised("First message must be from user, got assistant")) {
        try template.render(messages: [["role": "assistant", "content": "hi"]], addGenerationPrompt: false)
    }
    #expect(try template.render(messages: [["role": "user", "content": "hi"]], addGenerationPrompt: false) == "ok")
}

@Test(arguments: [
    ("UTC", "07 Mar 2025|2025-03-07|Friday March|12:00 +0000"),
    ("Pacific/Kiritimati", "08 Mar 2025|2025-03-08|Saturday March|02:00 +1400"),
    ("Pacific/Pago_Pago", "07 Mar 2025|2025-03-07|Friday March|01:00 -1100"),
    ("Asia/Kolkata", "07 Mar 2025|2025-03-07|Friday March|17:30 +0530"),
])
func strftimeNowReadsTheClockInItsTimeZone(zone: String, expected: String) throws {
    // 2025-03-07 12:00 UTC, formatted in the template's zone: the same on a machine in any zone.
    var template = try ChatTemplate(source: "{{ strftime_now('%d %b %Y') }}|{{ strftime_now('%Y-%m-%d') }}|{{ strftime_now('%A %B') }}|{{ strftime_now('%H:%M %z') }}")
    template.now = { ChatFixtures.fixedNow }
    template.timeZone = TimeZone(identifier: zone)   // the expected %z shows it was found
    #expect(try template.render(messages: [], addGenerationPrompt: false) == expected)
}

@Test func strftimeNowDefaultsToTheLocalTimeZone() throws {
    // Without a zone, local time as Python's datetime.now(): the same as C's localtime here.
    var template = try ChatTemplate(source: "{{ strftime_now('%Y-%m-%d %H:%M') }}")
    template.now = { ChatFixtures.fixedNow }
    var seconds = time_t(1_741_348_800), parts = tm()
    localtime_r(&seconds, &parts)
    let local = String(format: "%04d-%02d-%02d %02d:%02d", parts.tm_year + 1900, parts.tm_mon + 1, parts.tm_mday, parts.tm_hour, parts.tm_min)
    #expect(try template.render(messages: [], addGenerationPrompt: false) == local)
}

@Test func llama32TakesTheDateFromStrftimeNowLikeTransformersWithDateString() throws {
    // The fixture passes date_string "23 Nov 2026"; without it, the template calls strftime_now("%d %b %Y").
    let date = Date(timeIntervalSince1970: 1_795_435_200)  // 2026-11-23 12:00 UTC
    let source = try ChatFixtures.templateSource("llama-3.2-vision-instruct")
    var template = try ChatTemplate(source: source, specialTokens: ["bos_token": "<|begin_of_text|>", "eos_token": "<|eot_id|>"])
    template.now = { date }
    template.timeZone = ChatFixtures.fixedZone
    let expected = try ChatFixtures.cases().first { $0.template == "llama-3.2-vision-instruct" && $0.conversation == "system-user" && $0.addGenerationPrompt }!
    #expect(expected.context["date_string"] == "23 Nov 2026")
    #expect(try template.render(messages: expected.messages, addGenerationPrompt: true) == expected.rendered)
}

@Test func contextHasToolsAndDocumentsAsNoneAndSpecialTokens() throws {
    let template = try ChatTemplate(source: "{{ tools is none }} {{ documents is none }} {{ tools is defined }} {{ bos_token }}{{ eos_token }} {{ add_generation_prompt }}",
                                    specialTokens: ["bos_token": "<s>", "eos_token": "</s>"])
    #expect(try template.render(messages: [], addGenerationPrompt: true) == "True True True <s></s> True")
    #expect(try template.render(messages: [], addGenerationPrompt: false, extraContext: ["tools": [["type": "function"]]]) == "False True True <s></s> False")
}

@Test func reasoningFieldsAreAliasedAsTransformersDoes() throws {
    let template = try ChatTemplate(source: "{% for m in messages %}{{ m | tojson }}{% endfor %}")
    let message: JSONValue = ["role": "assistant", "content": "x", "reasoning": "because"]
    #expect(try template.render(messages: [message], addGenerationPrompt: false)
        == #"{"thinking": "because", "role": "assistant", "content": "x", "reasoning": "because", "reasoning_content": "because"}"#)
}

@Test func hostileArithmeticFailsInsteadOfTrapping() throws {
    // Swift traps on integer overflow and huge allocations; each of these must be a TemplateError.
    for source in ["{{ 'a' * 10000000000 }}", "{{ [1] * 100000000000 }}", "{{ 2 ** 64 }}", "{{ 9223372036854775807 + 1 }}",
                   "{{ -(-9223372036854775807 - 1) }}", "{{ (-9223372036854775807 - 1) // -1 }}", "{{ 1 // 0 }}", "{{ 1.5 % 0 }}", "{{ 1e300 | int }}", "{{ '1e300' | int }}"] {
        #expect(throws: TemplateError.self, "\(source)") { try ChatTemplate(source: source).render(messages: [], addGenerationPrompt: false) }
    }
    let template = try ChatTemplate(source: "{{ 1 ** 1000000000000 }} {{ (-9223372036854775807 - 1) is divisibleby(-1) }} {{ 'nan' | int(3) }}")
    #expect(try template.render(messages: [], addGenerationPrompt: false) == "1 True 3")
}
