// BoundedRegex: Python `re` semantics on a table of cases (expectations produced by CPython 3.11's
// `re.search` / `re.fullmatch`), agreement with NSRegularExpression on patterns both dialects read
// the same way, bounded time on patterns that make a backtracking engine explode, and refusals.
import Foundation
import Testing
@testable import Formats

/// (pattern, input, re.search found a match, re.fullmatch found a match), from CPython 3.11.
let pythonRegexCases: [(String, String, Bool, Bool)] = [
    (#"layer\.0\."#, "encoder.layer.0.attention.self.query", true, false),
    (#"layer\.0\."#, "encoder.layer.10.output.dense", false, false),
    (#"layer\.0\."#, "layer.0.", true, true),
    (#"attention\.self"#, "encoder.layer.0.attention.self.query", true, false),
    (#"attention\.self"#, "encoder.layer.0.attention.output.dense", false, false),
    (#"^model\.layers\.\d+\.(self_attn|mlp)\.[qkv]_proj$"#, "model.layers.12.self_attn.q_proj", true, true),
    (#"^model\.layers\.\d+\.(self_attn|mlp)\.[qkv]_proj$"#, "model.layers.x.self_attn.q_proj", false, false),
    (#"^model\.layers\.\d+\.(self_attn|mlp)\.[qkv]_proj$"#, "model.layers.3.mlp.k_proj\n", true, false),
    (#"^model\.layers\.\d+\.(self_attn|mlp)\.[qkv]_proj$"#, "xmodel.layers.1.mlp.v_proj", false, false),
    (#"(?:q|k|v)_proj"#, "q_proj", true, true),
    (#"(?:q|k|v)_proj"#, "o_proj", false, false),
    (#"(?:q|k|v)_proj"#, "model.k_proj.x", true, false),
    (#"[^.]+"#, "lm_head", true, true),
    (#"[^.]+"#, "a.b", true, false),
    (#"[^.]+"#, "", false, false),
    (#"\w+\.\W"#, "a.-", true, true),
    (#"\w+\.\W"#, "a.b", false, false),
    (#"\w+\.\W"#, "é.!", true, true),
    (#"\s|\S\d"#, "ab", false, false),
    (#"\s|\S\d"#, "a b", true, false),
    (#"\s|\S\d"#, "a1", true, true),
    (#"[a-c-]{2,3}"#, "-ab", true, true),
    (#"[a-c-]{2,3}"#, "d", false, false),
    (#"[a-c-]{2,3}"#, "ab", true, true),
    (#"[a-c-]{2,3}"#, "abcd", true, false),
    (#"x{2}y{1,}z{,2}"#, "xxyz", true, true),
    (#"x{2}y{1,}z{,2}"#, "xyz", false, false),
    (#"x{2}y{1,}z{,2}"#, "xxyyyzzz", true, false),
    (#"x{2}y{1,}z{,2}"#, "xxyzz", true, true),
    (#"a{3,}"#, "aa", false, false),
    (#"a{3,}"#, "aaa", true, true),
    (#"a{3,}"#, "aaaaa", true, true),
    (#"(a|ab)(c|bcd)(d*)"#, "abcd", true, true),
    (#"(a|ab)(c|bcd)(d*)"#, "abcdd", true, true),
    (#"(a|ab)(c|bcd)(d*)"#, "acd", true, true),
    (#".*?k_proj"#, "model.k_proj", true, true),
    (#".*?k_proj"#, "k_pro", false, false),
    (#"colou?r"#, "color", true, true),
    (#"colou?r"#, "colour", true, true),
    (#"colou?r"#, "colouur", false, false),
    (#"\bproj\b"#, "q.proj", true, false),
    (#"\bproj\b"#, "q_proj", false, false),
    (#"\bproj\b"#, "proj", true, true),
    (#"\Bproj"#, "q_proj", true, false),
    (#"\Bproj"#, "q.proj", false, false),
    (#"a$"#, "a", true, true),
    (#"a$"#, "a\n", true, false),
    (#"a$"#, "a\n\n", false, false),
    (#"a\Z"#, "a", true, true),
    (#"a\Z"#, "a\n", false, false),
    (#"\Aa"#, "ab", true, false),
    (#"\Aa"#, "ba", false, false),
    (#"(?i)Q_PROJ|lm_head"#, "q_proj", true, true),
    (#"(?i)Q_PROJ|lm_head"#, "LM_HEAD", true, true),
    (#"(?i)Q_PROJ|lm_head"#, "k_proj", false, false),
    (#"layers\.(?!0\.)\d+"#, "layers.0.x", false, false),
    (#"layers\.(?!0\.)\d+"#, "layers.1.x", true, false),
    (#"layers\.(?!0\.)\d+"#, "layers.01", true, true),
    (#"(?<=experts)\.\d"#, "experts.3", true, false),
    (#"(?<=experts)\.\d"#, "expert.3", false, false),
    (#"(?<!mlp)\.up"#, "mlp.up", false, false),
    (#"(?<!mlp)\.up"#, "ffn.up", true, false),
    (#"[\d.]+"#, "1.2", true, true),
    (#"[\d.]+"#, "x", false, false),
    (#"\x41\u00e9\."#, "Aé.", true, true),
    (#"\x41\u00e9\."#, "Ae.", false, false),
    (#"a|"#, "", true, true),
    (#"a|"#, "b", true, false),
    (#"(a*)*b"#, "aaab", true, true),
    (#"(a*)*b"#, "aaa", false, false),
    (#"()"#, "", true, true),
    (#"()"#, "x", true, false),
    (#"[]a]+"#, "]a]", true, true),
    (#"[]a]+"#, "b", false, false),
    (#"a{x}"#, "a{x}", true, true),
    (#"a{x}"#, "ax", false, false),
    (#"(?P<n>ab)+"#, "abab", true, true),
    (#"(?P<n>ab)+"#, "aba", true, false),
]

@Test func matchesAsPythonDoes() throws {
    for (pattern, input, search, full) in pythonRegexCases {
        let regex = try BoundedRegex(pattern)
        #expect(regex.search(input) == search, "re.search(\(pattern), \(input.debugDescription))")
        #expect(regex.fullMatch(input) == full, "re.fullmatch(\(pattern), \(input.debugDescription))")
    }
}

/// The spellings where Python and ICU differ (PythonRegex used to translate them), read as Python does.
@Test func pythonDialectRules() throws {
    func full(_ pattern: String, _ input: String) throws -> Bool { try BoundedRegex(pattern).fullMatch(input) }
    #expect(try full("a{,3}b{2}c{1,}d{x}e{}", "aabbcd{x}e{}"))
    #expect(try full("[[a&]]", "[]") && full("[[a&]]", "&]"))
    #expect(try full("[]a][^]b]", "]c") && !full("[]a][^]b]", "]]"))
    #expect(try full(#"[\b]"#, "\u{8}"))
    #expect(try full(#"\{x\}[{}]"#, "{x}}"))
    #expect(try BoundedRegex(#"a\Z"#).search("a\n") == false && BoundedRegex("a$").search("a\n"))
}

@Test func namedGroupsAreCaptured() throws {
    let regex = try BoundedRegex(#"(?:^|.*?\.)layers\.(?P<idx>\d+)\."#)
    #expect(regex.prefixMatch("model.layers.12.mlp.up_proj")?.group("idx") == "12")
    #expect(regex.prefixMatch("model.layers.x.mlp")?.group("idx") == nil)
    // Leftmost-first: the lazy prefix takes the first layers component, as Python's backtracking does.
    #expect(regex.prefixMatch("a.layers.1.layers.2.b")?.group("idx") == "1")
    #expect(try BoundedRegex("(a|ab)(c|bcd)(d*)").prefixMatch("abcd")?.group(1) == "a")
}

/// Patterns that take exponential time in a backtracking engine finish in one pass here.
@Test(arguments: [
    (#"(.*.*)*$x"#, String(repeating: "a", count: 2000)),
    (#"(a+)+b"#, String(repeating: "a", count: 5000)),
    (#"(a|aa)*c"#, String(repeating: "a", count: 5000)),
    (#"(x+x+)+y"#, String(repeating: "x", count: 5000)),
    (#"(\w*)*\.(?!x)"#, String(repeating: "w", count: 2000)),
])
func pathologicalPatternsFinishQuickly(pattern: String, input: String) throws {
    let regex = try BoundedRegex(pattern)
    let clock = ContinuousClock()
    let elapsed = clock.measure {
        #expect(!regex.search(input))
        #expect(!regex.fullMatch(input))
    }
    #expect(elapsed < .seconds(5), "\(pattern) took \(elapsed)")
}

/// On patterns written the same in both dialects, search agrees with NSRegularExpression.
@Test func agreesWithNSRegularExpression() throws {
    let patterns = [
        #"layer\.0\."#, #"attention\.(self|output)"#, #"^encoder"#, #"dense$"#, #"\d+\.(query|key)"#,
        #"[qkv]"#, #"[^a-z.]"#, #"l.y.r"#, #"(?:intermediate|output)\.dense"#, #"e{2}"#, #"t{1,2}e"#,
        #".*self.*"#, #"\bkey\b"#, #"x|y|z"#, #"^$"#, #"a?b+c*"#, #"pooler\.\w+"#,
    ]
    let names = ["encoder.layer.0.attention.self.query", "encoder.layer.11.attention.output.dense",
                 "encoder.layer.3.intermediate.dense", "pooler.dense", "embeddings.word_embeddings", "", "keyx.key"]
    for pattern in patterns {
        let ours = try BoundedRegex(pattern)
        let icu = try NSRegularExpression(pattern: pattern)
        for name in names {
            let expected = icu.firstMatch(in: name, range: NSRange(name.startIndex..., in: name)) != nil
            #expect(ours.search(name) == expected, "\(pattern) on \(name)")
        }
    }
}

@Test(arguments: [
    (#"(a)\1"#, "backreference"),
    (#"(?P<x>a)(?P=x)"#, "backreference"),
    (#"a*+"#, "possessive"),
    (#"(?>a)"#, "atomic"),
    (#"(?(1)a|b)"#, "conditional"),
    (#"(?s).*"#, "inline flag"),
])
func unsupportedSyntaxIsNamed(pattern: String, construct: String) {
    #expect {
        try BoundedRegex(pattern)
    } throws: { error in
        guard case .unsupported(let what, _) = error as? BoundedRegexError else { return false }
        return what.contains(construct) && "\(error)".contains(construct)
    }
}

@Test(arguments: ["(", "a)", "[a-", "*", "a**", "[z-a]", #"\q"#, "x{3,2}", "(?<=a+)b", #"a\"#])
func invalidSyntaxIsRefused(pattern: String) {
    #expect(throws: BoundedRegexError.self) { try BoundedRegex(pattern) }
}

@Test func lengthAndSizeAreLimited() throws {
    #expect(throws: BoundedRegexError.tooLong(length: 1025, limit: 1024)) {
        try BoundedRegex(String(repeating: "a", count: 1025))
    }
    _ = try BoundedRegex(String(repeating: "a", count: 1024))
    #expect {
        try BoundedRegex("(a{1000}){1000}")
    } throws: { error in
        if case .tooComplex = error as? BoundedRegexError { return true }
        return false
    }
}
