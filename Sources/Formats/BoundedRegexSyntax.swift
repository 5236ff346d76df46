// The pattern side of `BoundedRegex`: its error enum, its syntax tree, and a parser for the subset of
// Python `re` syntax (3.11, `str` patterns, sre_parse.py) that module-name patterns use.
//
// Anything the parser accepts compiles to an automaton that `BoundedRegex` simulates in time
// polynomial in the pattern and the input. Backreferences cannot be matched that way (matching
// with them is NP-hard), so they are refused by name, as are the few other constructs that need
// backtracking (atomic groups, possessive quantifiers, conditionals) or change meaning mid-pattern
// (scoped and non-`i` inline flags).

/// Why a pattern was refused by `BoundedRegex`.
public enum BoundedRegexError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The pattern is longer than the limit (in Unicode scalars).
    case tooLong(length: Int, limit: Int)
    /// The pattern uses a construct the bounded matcher does not support, e.g. a backreference.
    case unsupported(construct: String, offset: Int)
    /// The pattern is not valid Python `re` syntax.
    case syntax(detail: String, offset: Int)
    /// The compiled automaton would exceed the instruction limit (large counted repeats).
    case tooComplex(instructions: Int, limit: Int)

    public var description: String {
        switch self {
        case .tooLong(let length, let limit):
            return "the pattern is \(length) characters long; at most \(limit) are allowed"
        case .unsupported(let construct, let offset):
            return "\(construct) at position \(offset) is not supported (only patterns that can be matched "
                + "without backtracking are)"
        case .syntax(let detail, let offset):
            return "\(detail) at position \(offset)"
        case .tooComplex(let instructions, let limit):
            return "the pattern expands to more than \(limit) automaton states (\(instructions)); "
                + "use smaller repeat counts"
        }
    }
}

/// A zero-width condition on the position between two characters.
enum RegexAssertion: Sendable {
    /// `^` and `\A`: the start of the input.
    case start
    /// `$`: the end of the input, or just before a final `\n` (Python without MULTILINE).
    case end
    /// `\Z`: the end of the input only.
    case absoluteEnd
    /// `\b`
    case wordBoundary
    /// `\B`
    case notWordBoundary
}

/// One member of a character class.
enum RegexClassItem: Sendable {
    case range(UInt32, UInt32)
    /// `\d` (Unicode decimal digits), `\w` (alphanumerics and `_`), `\s` (white space); `negated` for
    /// `\D`, `\W`, `\S`.
    case digit(negated: Bool)
    case word(negated: Bool)
    case space(negated: Bool)
}

/// A character class: `[...]`, `[^...]`, or a shorthand such as `\d`.
struct RegexCharClass: Sendable {
    var items: [RegexClassItem]
    var negated: Bool

    func contains(_ c: Unicode.Scalar) -> Bool {
        let hit = items.contains { item in
            switch item {
            case .range(let lo, let hi): return lo <= c.value && c.value <= hi
            case .digit(let negated): return isRegexDigit(c) != negated
            case .word(let negated): return isRegexWord(c) != negated
            case .space(let negated): return c.properties.isWhitespace != negated
            }
        }
        return hit != negated
    }
}

/// Python's `\d` for `str` patterns: any Unicode decimal digit.
func isRegexDigit(_ c: Unicode.Scalar) -> Bool { c.properties.numericType == .decimal }

/// Python's `\w` for `str` patterns: `str.isalnum()` or `_`.
func isRegexWord(_ c: Unicode.Scalar) -> Bool {
    c == "_" || c.properties.isAlphabetic || c.properties.numericType != nil
}

/// The syntax tree of a parsed pattern.
indirect enum RegexNode: Sendable {
    case empty
    case literal(Unicode.Scalar)
    /// `.`: any character but `\n`.
    case anyButNewline
    case charClass(RegexCharClass)
    case concat([RegexNode])
    case alternation([RegexNode])
    /// `(...)` with its group number, or a non-capturing group (`number == nil`).
    case group(RegexNode, number: Int?)
    case repetition(RegexNode, min: Int, max: Int?, greedy: Bool)
    case assertion(RegexAssertion)
    /// `(?=...)`, `(?!...)`, `(?<=...)`, `(?<!...)`.
    case look(RegexNode, ahead: Bool, negated: Bool)

    /// The number of characters every match has, or nil when it varies (Python's look-behind needs one).
    var fixedWidth: Int? {
        switch self {
        case .empty, .assertion, .look: return 0
        case .literal, .anyButNewline, .charClass: return 1
        case .concat(let parts):
            var total = 0
            for part in parts {
                guard let w = part.fixedWidth else { return nil }
                total += w
            }
            return total
        case .alternation(let branches):
            let widths = branches.map(\.fixedWidth)
            guard let first = widths.first, let w = first, widths.allSatisfy({ $0 == w }) else { return nil }
            return w
        case .group(let inner, _): return inner.fixedWidth
        case .repetition(let inner, let min, let max, _):
            guard max == min, let w = inner.fixedWidth else { return nil }
            return w * min
        }
    }
}

/// A parsed pattern: the tree, its named groups, and the inline `(?i)` flag.
struct ParsedRegex: Sendable {
    var root: RegexNode
    var groupCount: Int
    var groupNames: [String: Int]
    var ignoreCase: Bool
}

/// A recursive-descent parser for Python `re` syntax (sre_parse's rules for literals, `{`, classes).
struct RegexParser {
    /// Largest `{m,n}` bound accepted (the automaton is the repeated body written out).
    static let maxRepeat = 1000

    private let s: [Unicode.Scalar]
    private var i = 0
    private var groupCount = 0
    private var groupNames: [String: Int] = [:]
    private var ignoreCase = false

    private init(_ pattern: [Unicode.Scalar]) { s = pattern }

    static func parse(_ pattern: [Unicode.Scalar]) throws(BoundedRegexError) -> ParsedRegex {
        var parser = RegexParser(pattern)
        let root = try parser.parseAlternation()
        if parser.i < parser.s.count {
            // parseAlternation only stops early at a `)`.
            throw .syntax(detail: "unbalanced parenthesis", offset: parser.i)
        }
        return ParsedRegex(root: root, groupCount: parser.groupCount, groupNames: parser.groupNames,
                           ignoreCase: parser.ignoreCase)
    }

    private var atEnd: Bool { i >= s.count }
    private func peek(_ k: Int = 0) -> Unicode.Scalar? { i + k < s.count ? s[i + k] : nil }
    private func starts(with text: String) -> Bool {
        let t = Array(text.unicodeScalars)
        return i + t.count <= s.count && Array(s[i..<(i + t.count)]) == t
    }

    private mutating func parseAlternation() throws(BoundedRegexError) -> RegexNode {
        var branches = [try parseConcat()]
        while peek() == "|" {
            i += 1
            branches.append(try parseConcat())
        }
        return branches.count == 1 ? branches[0] : .alternation(branches)
    }

    private mutating func parseConcat() throws(BoundedRegexError) -> RegexNode {
        var items: [RegexNode] = []
        while let c = peek(), c != "|", c != ")" {
            let atomStart = i
            guard let atom = try parseAtom() else { continue }  // a flag group or a comment
            items.append(try parseQuantifiers(atom, atomStart: atomStart))
        }
        switch items.count {
        case 0: return .empty
        case 1: return items[0]
        default: return .concat(items)
        }
    }

    /// Applies the quantifiers after an atom (`*`, `+`, `?`, `{m,n}`, each optionally lazy).
    private mutating func parseQuantifiers(_ atom: RegexNode, atomStart: Int) throws(BoundedRegexError) -> RegexNode {
        var node = atom
        var quantified = false
        while let (min, max, length) = quantifier() {
            let at = i
            if quantified { throw .syntax(detail: "multiple repeat", offset: at) }
            switch node {
            case .assertion, .look, .empty: throw .syntax(detail: "nothing to repeat", offset: at)
            default: break
            }
            if let max, max < min { throw .syntax(detail: "min repeat greater than max repeat", offset: at) }
            if min > Self.maxRepeat || (max ?? 0) > Self.maxRepeat {
                throw .unsupported(construct: "a repeat count above \(Self.maxRepeat)", offset: at)
            }
            i += length
            var greedy = true
            if peek() == "?" {
                greedy = false
                i += 1
            } else if peek() == "+" {
                throw .unsupported(construct: "possessive quantifier", offset: i)
            }
            node = .repetition(node, min: min, max: max, greedy: greedy)
            quantified = true
        }
        return node
    }

    /// The quantifier at `i` as (min, max, length in scalars), or nil. A `{` that does not form
    /// `{m}`, `{m,}`, `{,n}` or `{m,n}` is a literal (sre_parse).
    private func quantifier() -> (Int, Int?, Int)? {
        switch peek() {
        case "*": return (0, nil, 1)
        case "+": return (1, nil, 1)
        case "?": return (0, 1, 1)
        case "{":
            var j = i + 1
            var low = ""
            var high = ""
            while j < s.count, s[j].properties.numericType == .decimal, s[j].isASCII { low.unicodeScalars.append(s[j]); j += 1 }
            var comma = false
            if j < s.count, s[j] == "," {
                comma = true
                j += 1
                while j < s.count, s[j].isASCII, s[j].properties.numericType == .decimal { high.unicodeScalars.append(s[j]); j += 1 }
            }
            guard j < s.count, s[j] == "}", !(low.isEmpty && !comma) else { return nil }
            let min = low.isEmpty ? 0 : Int(low.prefix(9)) ?? Int.max
            let max: Int? = comma ? (high.isEmpty ? nil : Int(high.prefix(9)) ?? Int.max) : min
            return (min, max, j + 1 - i)
        default: return nil
        }
    }

    /// One atom, or nil for constructs that match nothing themselves (`(?i)`, `(?#...)`).
    private mutating func parseAtom() throws(BoundedRegexError) -> RegexNode? {
        let start = i
        let c = s[i]
        switch c {
        case "(": return try parseGroup()
        case "[": return .charClass(try parseClass())
        case ".": i += 1; return .anyButNewline
        case "^": i += 1; return .assertion(.start)
        case "$": i += 1; return .assertion(.end)
        case "\\": return try parseEscape()
        case "*", "+", "?": throw .syntax(detail: "nothing to repeat", offset: start)
        case "{":
            if quantifier() != nil { throw .syntax(detail: "nothing to repeat", offset: start) }
            i += 1
            return .literal(c)
        default:
            i += 1
            return .literal(c)
        }
    }

    private mutating func parseGroup() throws(BoundedRegexError) -> RegexNode? {
        let start = i
        i += 1  // "("
        var number: Int? = nil
        if peek() == "?" {
            if starts(with: "?:") {
                i += 2
            } else if starts(with: "?P<") {
                i += 3
                var name = ""
                while let c = peek(), c != ">" { name.unicodeScalars.append(c); i += 1 }
                guard peek() == ">", isIdentifier(name) else { throw .syntax(detail: "bad group name", offset: start) }
                i += 1
                guard groupNames[name] == nil else {
                    throw .syntax(detail: "redefinition of group name \(name)", offset: start)
                }
                groupCount += 1
                groupNames[name] = groupCount
                number = groupCount
            } else if starts(with: "?P=") {
                throw .unsupported(construct: "backreference (?P=...)", offset: start)
            } else if starts(with: "?=") || starts(with: "?!") || starts(with: "?<=") || starts(with: "?<!") {
                let ahead = !starts(with: "?<")
                let negated = ahead ? peek(1) == "!" : peek(2) == "!"
                i += ahead ? 2 : 3
                let body = try parseAlternation()
                try closeGroup(start)
                if !ahead && body.fixedWidth == nil {
                    throw .syntax(detail: "look-behind requires fixed-width pattern", offset: start)
                }
                return .look(body, ahead: ahead, negated: negated)
            } else if starts(with: "?#") {
                while let c = peek(), c != ")" { i += 1 }
                try closeGroup(start)
                return nil
            } else if starts(with: "?(") {
                throw .unsupported(construct: "conditional group (?(...)...)", offset: start)
            } else if starts(with: "?>") {
                throw .unsupported(construct: "atomic group (?>...)", offset: start)
            } else {
                return try parseFlags(start)
            }
        } else {
            groupCount += 1
            number = groupCount
        }
        let body = try parseAlternation()
        try closeGroup(start)
        return .group(body, number: number)
    }

    /// `(?i)` at the start of the pattern (Python 3.11 refuses global flags elsewhere). `(?u)` is the
    /// default for `str` patterns. Other flags and scoped `(?i:...)` are refused.
    private mutating func parseFlags(_ start: Int) throws(BoundedRegexError) -> RegexNode? {
        i += 1  // "?"
        var flags = ""
        while let c = peek(), c.properties.isAlphabetic { flags.unicodeScalars.append(c); i += 1 }
        guard peek() == ")" else {
            if peek() == ":" || peek() == "-" {
                throw .unsupported(construct: "scoped inline flags (?\(flags)...)", offset: start)
            }
            throw .syntax(detail: "unknown extension ?\(flags)\(peek().map { String($0) } ?? "")", offset: start)
        }
        guard !flags.isEmpty else { throw .syntax(detail: "missing flag", offset: start) }
        for flag in flags.unicodeScalars {
            switch flag {
            case "i": ignoreCase = true
            case "u": break
            case "a", "L", "m", "s", "x":
                throw .unsupported(construct: "inline flag (?\(flag))", offset: start)
            default: throw .syntax(detail: "unknown flag \(flag)", offset: start)
            }
        }
        guard start == 0 else {
            throw .syntax(detail: "global flags not at the start of the expression", offset: start)
        }
        i += 1
        return nil
    }

    private mutating func closeGroup(_ start: Int) throws(BoundedRegexError) {
        guard peek() == ")" else { throw .syntax(detail: "missing ), unterminated subpattern", offset: start) }
        i += 1
    }

    private func isIdentifier(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, !(first.properties.numericType == .decimal) else { return false }
        return name.unicodeScalars.allSatisfy(isRegexWord)
    }

    /// An escape outside a class: a shorthand class, an assertion, or a literal.
    private mutating func parseEscape() throws(BoundedRegexError) -> RegexNode {
        let start = i
        guard let c = peek(1) else { throw .syntax(detail: "bad escape (end of pattern)", offset: start) }
        switch c {
        case "A": i += 2; return .assertion(.start)
        case "Z": i += 2; return .assertion(.absoluteEnd)
        case "b": i += 2; return .assertion(.wordBoundary)
        case "B": i += 2; return .assertion(.notWordBoundary)
        case "1"..."9":
            throw .unsupported(construct: "backreference \\\(c)", offset: start)
        default:
            switch try parseClassEscape() {
            case .literal(let v): return .literal(Unicode.Scalar(v)!)
            case .item(let item): return .charClass(RegexCharClass(items: [item], negated: false))
            }
        }
    }

    private enum ClassEscape {
        case literal(UInt32)
        case item(RegexClassItem)
    }

    /// An escape that means the same inside and outside a class (`i` is at the backslash).
    private mutating func parseClassEscape() throws(BoundedRegexError) -> ClassEscape {
        let start = i
        guard let c = peek(1) else { throw .syntax(detail: "bad escape (end of pattern)", offset: start) }
        i += 2
        switch c {
        case "d": return .item(.digit(negated: false))
        case "D": return .item(.digit(negated: true))
        case "w": return .item(.word(negated: false))
        case "W": return .item(.word(negated: true))
        case "s": return .item(.space(negated: false))
        case "S": return .item(.space(negated: true))
        case "n": return .literal(0x0A)
        case "t": return .literal(0x09)
        case "r": return .literal(0x0D)
        case "f": return .literal(0x0C)
        case "v": return .literal(0x0B)
        case "a": return .literal(0x07)
        case "0": return .literal(try octal(start))
        case "x": return .literal(try hex(digits: 2, start))
        case "u": return .literal(try hex(digits: 4, start))
        case "U": return .literal(try hex(digits: 8, start))
        default:
            if c.isASCII && (c.properties.isAlphabetic || c.properties.numericType != nil) {
                throw .syntax(detail: "bad escape \\\(c)", offset: start)
            }
            return .literal(c.value)
        }
    }

    private mutating func octal(_ start: Int) throws(BoundedRegexError) -> UInt32 {
        var value: UInt32 = 0
        var n = 0
        while n < 2, let c = peek(), ("0"..."7").contains(c) { value = value * 8 + (c.value - 48); i += 1; n += 1 }
        return value
    }

    private mutating func hex(digits: Int, _ start: Int) throws(BoundedRegexError) -> UInt32 {
        guard i + digits <= s.count, let v = UInt32(String(String.UnicodeScalarView(s[i..<(i + digits)])), radix: 16),
              Unicode.Scalar(v) != nil else {
            throw .syntax(detail: "incomplete or invalid escape", offset: start)
        }
        i += digits
        return v
    }

    /// `[...]` (sre_parse: a `]` first is a literal; `[` and `&` are literals; `-` first or last is a
    /// literal; `\b` is a backspace).
    private mutating func parseClass() throws(BoundedRegexError) -> RegexCharClass {
        let start = i
        i += 1
        var negated = false
        if peek() == "^" { negated = true; i += 1 }
        var items: [RegexClassItem] = []
        var first = true
        while true {
            guard let c = peek() else { throw .syntax(detail: "unterminated character set", offset: start) }
            if c == "]" && !first { i += 1; break }
            first = false
            let lo = try classAtom()
            if peek() == "-", let next = peek(1), next != "]" {
                let dash = i
                i += 1
                let hi = try classAtom()
                guard case .literal(let a) = lo, case .literal(let b) = hi else {
                    throw .syntax(detail: "bad character range", offset: dash)
                }
                guard a <= b else { throw .syntax(detail: "bad character range", offset: dash) }
                items.append(.range(a, b))
            } else {
                switch lo {
                case .literal(let v): items.append(.range(v, v))
                case .item(let item): items.append(item)
                }
            }
        }
        return RegexCharClass(items: items, negated: negated)
    }

    private mutating func classAtom() throws(BoundedRegexError) -> ClassEscape {
        guard let c = peek() else { throw .syntax(detail: "unterminated character set", offset: i) }
        guard c == "\\" else { i += 1; return .literal(c.value) }
        if peek(1) == "b" { i += 2; return .literal(0x08) }
        if let d = peek(1), ("1"..."9").contains(d) {
            throw .unsupported(construct: "octal escape \\\(d) in a character set", offset: i)
        }
        return try parseClassEscape()
    }
}
