// The automaton side of `BoundedRegex`: Thompson's construction from the syntax tree to a program,
// and Pike's VM that runs it (see BoundedRegex.swift for the algorithm and its bound).

/// One instruction of a compiled pattern.
enum RegexInstruction: Sendable {
    /// Consume one character equal to the scalar (case-folded under `(?i)`).
    case scalar(Unicode.Scalar)
    /// Consume any character but `\n`.
    case any
    /// Consume one character in the class.
    case charClass(RegexCharClass)
    /// Continue at both targets; the first has priority.
    case split(Int, Int)
    case jump(Int)
    /// Record the current position in capture slot k.
    case save(Int)
    case assert(RegexAssertion)
    /// Continue only if look-around k holds here.
    case look(Int)
    case match
}

/// A look-around assertion: its own program, direction, polarity and (look-behind) width.
struct RegexLook: Sendable {
    let program: RegexProgram
    let ahead: Bool
    let negated: Bool
    let width: Int
}

/// A compiled pattern (`code[0]` is the entry point).
struct RegexProgram: Sendable {
    var code: [RegexInstruction]
    var looks: [RegexLook]
    var slotCount: Int
    var ignoreCase: Bool

    /// Thompson's construction for the whole pattern: `save 0, body, save 1, match`.
    static func compile(_ parsed: ParsedRegex, limit: Int) throws(BoundedRegexError) -> RegexProgram {
        var budget = limit
        return try compile(parsed.root, parsed: parsed, budget: &budget, wholeMatch: true)
    }

    private static func compile(_ node: RegexNode, parsed: ParsedRegex, budget: inout Int,
                                wholeMatch: Bool) throws(BoundedRegexError) -> RegexProgram {
        var compiler = RegexCompiler(parsed: parsed, budget: budget)
        if wholeMatch { try compiler.append(.save(0)) }
        try compiler.emit(node)
        if wholeMatch { try compiler.append(.save(1)) }
        try compiler.append(.match)
        budget = compiler.budget
        return RegexProgram(code: compiler.code, looks: compiler.looks, slotCount: 2 * (parsed.groupCount + 1),
                            ignoreCase: parsed.ignoreCase)
    }

    private struct RegexCompiler {
        let parsed: ParsedRegex
        var budget: Int
        var code: [RegexInstruction] = []
        var looks: [RegexLook] = []

        init(parsed: ParsedRegex, budget: Int) {
            self.parsed = parsed
            self.budget = budget
        }

        @discardableResult
        mutating func append(_ instruction: RegexInstruction) throws(BoundedRegexError) -> Int {
            budget -= 1
            guard budget >= 0 else {
                throw .tooComplex(instructions: BoundedRegex.maxInstructions - budget, limit: BoundedRegex.maxInstructions)
            }
            code.append(instruction)
            return code.count - 1
        }

        mutating func emit(_ node: RegexNode) throws(BoundedRegexError) {
            switch node {
            case .empty:
                break
            case .literal(let c):
                try append(.scalar(c))
            case .anyButNewline:
                try append(.any)
            case .charClass(let set):
                try append(.charClass(set))
            case .concat(let parts):
                for part in parts { try emit(part) }
            case .alternation(let branches):
                // split b1, next; b1; jump end; next: split b2, next'; ... ; bn; end:
                var exits: [Int] = []
                for (k, branch) in branches.enumerated() {
                    if k == branches.count - 1 {
                        try emit(branch)
                    } else {
                        let split = try append(.split(0, 0))
                        try emit(branch)
                        exits.append(try append(.jump(0)))
                        code[split] = .split(split + 1, code.count)
                    }
                }
                for exit in exits { code[exit] = .jump(code.count) }
            case .group(let inner, let number):
                if let number { try append(.save(2 * number)) }
                try emit(inner)
                if let number { try append(.save(2 * number + 1)) }
            case .repetition(let inner, let min, let max, let greedy):
                for _ in 0..<min { try emit(inner) }
                if let max {
                    // n−m nested optional copies: each may be skipped straight to the end.
                    var splits: [Int] = []
                    for _ in min..<max {
                        splits.append(try append(.split(0, 0)))
                        try emit(inner)
                    }
                    for split in splits {
                        code[split] = greedy ? .split(split + 1, code.count) : .split(code.count, split + 1)
                    }
                } else {
                    // loop: split body, end; body; jump loop; end:
                    let split = try append(.split(0, 0))
                    try emit(inner)
                    try append(.jump(split))
                    code[split] = greedy ? .split(split + 1, code.count) : .split(code.count, split + 1)
                }
            case .assertion(let assertion):
                try append(.assert(assertion))
            case .look(let body, let ahead, let negated):
                let program = try RegexProgram.compile(body, parsed: parsed, budget: &budget, wholeMatch: false)
                looks.append(RegexLook(program: program, ahead: ahead, negated: negated, width: body.fixedWidth ?? 0))
                try append(.look(looks.count - 1))
            }
        }
    }
}

/// One simulation of a program over one input (Pike's VM).
struct RegexRun {
    let program: RegexProgram
    let input: [Unicode.Scalar]
    /// Look-around results already computed, keyed by look index × (input count + 1) + position.
    private var lookCache: [Int: Bool] = [:]

    init(program: RegexProgram, input: [Unicode.Scalar]) {
        self.program = program
        self.input = input
    }

    /// The threads alive at one position, in priority order, each program counter at most once.
    private struct ThreadList {
        var threads: [(pc: Int, slots: [Int])] = []
        var seen: [Int]
        var generation = 0

        init(size: Int) { seen = Array(repeating: -1, count: size) }

        mutating func reset() {
            threads.removeAll(keepingCapacity: true)
            generation += 1
        }

        /// Marks `pc` for this generation; false if it was already there.
        mutating func visit(_ pc: Int) -> Bool {
            if seen[pc] == generation { return false }
            seen[pc] = generation
            return true
        }
    }

    /// Runs the program from `start`. `anchored`: the match must begin at `start` (else the leftmost
    /// one is found, as `re.search`); `mustEndAt`: the match must end exactly there. Returns the
    /// capture slots of the match Python would report, or nil. With `wantSlots == false` it stops at
    /// the first match found (only whether one exists matters).
    mutating func match(start: Int, anchored: Bool, mustEndAt: Int?, wantSlots: Bool) -> [Int]? {
        let stop = mustEndAt ?? input.count
        var current = ThreadList(size: program.code.count)
        var next = ThreadList(size: program.code.count)
        let noSlots = Array(repeating: -1, count: program.slotCount)
        var matched: [Int]? = nil
        current.reset()
        addThread(&current, pc: 0, position: start, slots: noSlots)
        var position = start
        while true {
            next.reset()
            threads: for thread in current.threads {
                switch program.code[thread.pc] {
                case .match:
                    if let end = mustEndAt, position != end { continue }
                    if !wantSlots { return thread.slots }
                    matched = thread.slots
                    break threads  // lower-priority threads lose to this match
                case .scalar(let c):
                    if position < stop, equal(input[position], c) {
                        addThread(&next, pc: thread.pc + 1, position: position + 1, slots: thread.slots)
                    }
                case .any:
                    if position < stop, input[position] != "\n" {
                        addThread(&next, pc: thread.pc + 1, position: position + 1, slots: thread.slots)
                    }
                case .charClass(let set):
                    if position < stop, classContains(set, input[position]) {
                        addThread(&next, pc: thread.pc + 1, position: position + 1, slots: thread.slots)
                    }
                case .split, .jump, .save, .assert, .look:
                    preconditionFailure("addThread follows every empty transition")
                }
            }
            if position >= stop { break }
            position += 1
            if !anchored && matched == nil {
                // re.search: a new attempt starting here, after every earlier-starting one.
                addThread(&next, pc: 0, position: position, slots: noSlots)
            }
            // A search goes on even with no thread alive: a later start may still match.
            if next.threads.isEmpty && (anchored || matched != nil) { break }
            swap(&current, &next)
        }
        return matched
    }

    /// Adds the threads reachable from `pc` by empty transitions at `position`, depth first in
    /// priority order (an explicit stack: no recursion, whatever the program size).
    private mutating func addThread(_ list: inout ThreadList, pc: Int, position: Int, slots: [Int]) {
        var stack: [(pc: Int, slots: [Int])] = [(pc, slots)]
        while let (pc, slots) = stack.popLast() {
            guard list.visit(pc) else { continue }
            switch program.code[pc] {
            case .jump(let target):
                stack.append((target, slots))
            case .split(let first, let second):
                stack.append((second, slots))
                stack.append((first, slots))
            case .save(let k):
                var saved = slots
                saved[k] = position
                stack.append((pc + 1, saved))
            case .assert(let assertion):
                if holds(assertion, at: position) { stack.append((pc + 1, slots)) }
            case .look(let k):
                if lookHolds(k, at: position) { stack.append((pc + 1, slots)) }
            case .scalar, .any, .charClass, .match:
                list.threads.append((pc, slots))
            }
        }
    }

    private func holds(_ assertion: RegexAssertion, at p: Int) -> Bool {
        switch assertion {
        case .start: return p == 0
        case .end: return p == input.count || (p == input.count - 1 && input[p] == "\n")
        case .absoluteEnd: return p == input.count
        case .wordBoundary, .notWordBoundary:
            let before = p > 0 && isRegexWord(input[p - 1])
            let after = p < input.count && isRegexWord(input[p])
            return (before != after) == (assertion == .wordBoundary)
        }
    }

    private mutating func lookHolds(_ k: Int, at p: Int) -> Bool {
        let key = k * (input.count + 1) + p
        if let known = lookCache[key] { return known }
        let look = program.looks[k]
        var sub = RegexRun(program: look.program, input: input)
        let found: Bool
        if look.ahead {
            found = sub.match(start: p, anchored: true, mustEndAt: nil, wantSlots: false) != nil
        } else {
            found = p >= look.width && sub.match(start: p - look.width, anchored: true, mustEndAt: p, wantSlots: false) != nil
        }
        lookCache[key] = found != look.negated
        return found != look.negated
    }

    private func equal(_ c: Unicode.Scalar, _ p: Unicode.Scalar) -> Bool {
        c == p || (program.ignoreCase && folded(c) == folded(p))
    }

    private func classContains(_ set: RegexCharClass, _ c: Unicode.Scalar) -> Bool {
        if set.contains(c) { return true }
        guard program.ignoreCase else { return false }
        return [lowercased(c), uppercased(c)].contains { $0 != c && set.contains($0) }
    }
}

/// Simple (single-scalar) case mappings for `(?i)`; multi-scalar mappings leave the scalar as is.
private func lowercased(_ c: Unicode.Scalar) -> Unicode.Scalar {
    let m = c.properties.lowercaseMapping.unicodeScalars
    return m.count == 1 ? m.first! : c
}

private func uppercased(_ c: Unicode.Scalar) -> Unicode.Scalar {
    let m = c.properties.uppercaseMapping.unicodeScalars
    return m.count == 1 ? m.first! : c
}

private func folded(_ c: Unicode.Scalar) -> Unicode.Scalar { lowercased(c) }
