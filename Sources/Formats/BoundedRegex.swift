// A regular-expression matcher whose running time is bounded for every pattern and input: Python
// `re` syntax (the subset in BoundedRegexSyntax.swift), matched by simulating the pattern's NFA
// instead of backtracking through it.
//
// Algorithm: Thompson's construction + Pike's VM (Russ Cox, "Regular Expression Matching: the
// Virtual Machine Approach", 2009; RE2 and Rust's `regex` crate use the same idea). The pattern is
// compiled to a program of instructions (`scalar`, `any`, `class`, `split`, `jump`, `save`,
// `assert`, `look`, `match`); a counted repeat `x{m,n}` is written out as m copies of `x` and n−m
// nested optional copies. Matching walks the input once, left to right, keeping the set of program
// counters ("threads") alive at the current position, each at most once, in priority order
// (the order a backtracking matcher would try them), so the first thread to reach `match` is the
// match Python would report (leftmost-first, greedy/lazy as written) and its `save` slots are
// Python's groups. Per input character each instruction is visited at most once, so a match costs
// O(pattern × input), whatever the pattern: `(.*.*)*$x` on a long input, which sends a
// backtracking engine into exponential time, here takes one pass.
//
// Look-around, which a pure NFA cannot express, is evaluated as a separate bounded sub-match at a
// position (look-ahead: an anchored match of the body starting there; look-behind, whose body has a
// fixed width w in Python: a match of the body over exactly the w characters before), memoized per
// (assertion, position), so it stays polynomial. Backreferences are refused (`BoundedRegexError`).

/// A compiled pattern in Python `re` syntax, matched in time O(pattern × input) (see the file header).
///
/// Supported: literals, escapes (`\.`, `\d`, `\w`, `\s` and their negations, `\n`, `\xhh`, ...), `.`,
/// classes `[...]` with ranges and `^`, groups `(...)`, `(?:...)`, `(?P<name>...)`, alternation,
/// `*`, `+`, `?`, `{m}`, `{m,n}`, `{m,}`, `{,n}` (greedy or lazy), `^`, `$`, `\A`, `\Z`, `\b`, `\B`,
/// look-around and a leading `(?i)`. Refused: backreferences, atomic groups, possessive quantifiers,
/// conditionals, other inline flags.
public struct BoundedRegex: Sendable {
    /// The default longest pattern accepted, in Unicode scalars.
    public static let defaultMaxLength = 1024
    /// The largest automaton accepted (instructions, all look-around bodies included).
    static let maxInstructions = 20_000

    /// The pattern as written.
    public let pattern: String
    let program: RegexProgram
    let groupNames: [String: Int]

    /// Parses and compiles `pattern`; throws for syntax errors, unsupported constructs and patterns
    /// longer than `maxLength`.
    public init(_ pattern: String, maxLength: Int = BoundedRegex.defaultMaxLength) throws(BoundedRegexError) {
        let scalars = Array(pattern.unicodeScalars)
        guard scalars.count <= maxLength else { throw .tooLong(length: scalars.count, limit: maxLength) }
        let parsed = try RegexParser.parse(scalars)
        self.pattern = pattern
        self.groupNames = parsed.groupNames
        self.program = try RegexProgram.compile(parsed, limit: Self.maxInstructions)
    }

    /// Python's `re.search(pattern, text) is not None`: a match anywhere in `text`.
    public func search(_ text: String) -> Bool {
        var run = RegexRun(program: program, input: Array(text.unicodeScalars))
        return run.match(start: 0, anchored: false, mustEndAt: nil, wantSlots: false) != nil
    }

    /// Python's `re.fullmatch(pattern, text) is not None`: a match spanning all of `text`.
    public func fullMatch(_ text: String) -> Bool {
        let input = Array(text.unicodeScalars)
        var run = RegexRun(program: program, input: input)
        return run.match(start: 0, anchored: true, mustEndAt: input.count, wantSlots: false) != nil
    }

    /// Python's `re.match(pattern, text)`: a match starting at the beginning of `text` (any end),
    /// with its groups.
    public func prefixMatch(_ text: String) -> BoundedRegexMatch? {
        let input = Array(text.unicodeScalars)
        var run = RegexRun(program: program, input: input)
        guard let slots = run.match(start: 0, anchored: true, mustEndAt: nil, wantSlots: true) else { return nil }
        return BoundedRegexMatch(input: input, slots: slots, groupNames: groupNames)
    }
}

/// One match of a `BoundedRegex`, with the text of its groups.
public struct BoundedRegexMatch: Sendable {
    let input: [Unicode.Scalar]
    /// Group g spans `input[slots[2g]..<slots[2g+1]]`; -1 where the group did not take part.
    let slots: [Int]
    let groupNames: [String: Int]

    /// The text group `number` matched (0 is the whole match), or nil if it did not take part.
    public func group(_ number: Int) -> String? {
        guard 2 * number + 1 < slots.count else { return nil }
        let (lo, hi) = (slots[2 * number], slots[2 * number + 1])
        guard lo >= 0, hi >= lo else { return nil }
        return String(String.UnicodeScalarView(input[lo..<hi]))
    }

    /// The text the group `(?P<name>...)` matched, or nil.
    public func group(_ name: String) -> String? { groupNames[name].flatMap(group) }
}
