// Builds the syntax tree of a chat template from the lexer's tokens, with jinja2's grammar and operator
// precedence.
//
// Reference: jinja2 3.1 `parser.py`. Precedence, loosest first: `a if b else c`; `or`; `and`; `not`;
// comparisons (`== != < <= > >= in`, `not in`, chained like Python); `+ -`; `~`; `* / // %`; `**`
// (left-associative, as jinja2); unary `- +`; then postfix `.attr`, `[index]`, `[a:b:c]`, `(call)`, and
// `|filter(...)` / `is test ...`, which bind tighter than every binary operator (`'a' + x | trim` is
// `'a' + (x|trim)`). Tags: `if/elif/else`, `for ... in ... [if ...]` with `else`, `break`, `continue`
// (jinja2.ext.loopcontrols), `set` (name, tuple, `ns.attr`, and the `{% set x %}...{% endset %}` block),
// `macro` (positional and keyword parameters with defaults) and `call` (the block is the macro's
// `caller()`), and transformers' `generation` block (rendered as its plain body). Other tags (`filter`,
// `include`, `raw`, ...) are refused here with their position, as are unknown filters and tests (jinja2
// also refuses those at compile time).

struct TemplateParser {
    private let tokens: [Token]
    private let map: SourceMap
    private var index = 0
    private var loopDepth = 0

    init(tokens: [Token], map: SourceMap) {
        self.tokens = tokens
        self.map = map
    }

    mutating func parseTemplate() throws -> [Node] {
        let (nodes, end) = try parseBody(until: [])
        if let end { throw map.syntax("unexpected '\(end.name)'", at: end.offset) }
        return nodes
    }

    // MARK: - Statements

    private var current: Token { tokens[index] }

    private mutating func advance() -> Token {
        let token = tokens[index]
        if index < tokens.count - 1 { index += 1 }
        return token
    }

    /// Parses nodes until a block tag named in `endTags` (returned, with the `{%` consumed and the name
    /// consumed) or the end of the template (nil).
    private mutating func parseBody(until endTags: Set<String>) throws -> ([Node], (name: String, offset: Int)?) {
        var nodes: [Node] = []
        while true {
            let token = current
            switch token.kind {
            case .end:
                return (nodes, nil)
            case .text(let text):
                _ = advance()
                nodes.append(.text(text))
            case .variableBegin:
                _ = advance()
                let expr = try parseTuple(withCondexpr: true)
                try expect(.variableEnd, "'}}'")
                nodes.append(.output(expr, foldable: expr.containsSlice))
            case .blockBegin:
                _ = advance()
                guard case .name(let tag) = current.kind else { throw map.syntax("tag name expected", at: current.offset) }
                let tagOffset = current.offset
                if endTags.contains(tag) {
                    _ = advance()
                    return (nodes, (tag, tagOffset))
                }
                nodes.append(try parseStatement(tag, at: tagOffset))
            default:
                throw map.syntax("unexpected token", at: token.offset)
            }
        }
    }

    private mutating func parseStatement(_ tag: String, at offset: Int) throws -> Node {
        _ = advance()
        switch tag {
        case "if":
            return try parseIf()
        case "for":
            return try parseFor(at: offset)
        case "set":
            return try parseSet(at: offset)
        case "break", "continue":
            guard loopDepth > 0 else { throw map.syntax("'\(tag)' outside of a loop", at: offset) }
            try expect(.blockEnd, "'%}'")
            return tag == "break" ? .breakLoop(at: offset) : .continueLoop(at: offset)
        case "generation":
            try expect(.blockEnd, "'%}'")
            let (body, end) = try parseBody(until: ["endgeneration"])
            guard end != nil else { throw map.syntax("missing 'endgeneration'", at: offset) }
            try expect(.blockEnd, "'%}'")
            return .block(Frame(body))
        case "macro":
            guard case .name(let name) = current.kind else { throw map.syntax("expected a macro name", at: current.offset) }
            _ = advance()
            let parameters = try parseParameters()
            try expect(.blockEnd, "'%}'")
            let outerDepth = loopDepth
            loopDepth = 0
            let (body, end) = try parseBody(until: ["endmacro"])
            loopDepth = outerDepth
            guard end != nil else { throw map.syntax("missing 'endmacro'", at: offset) }
            try expect(.blockEnd, "'%}'")
            return .macro(name, parameters, Frame(body, parameters: Set(parameters.map(\.0) + ["caller", "varargs", "kwargs"])), at: offset)
        case "call":
            let parameters = isOp("(") ? try parseParameters() : []
            let callOffset = current.offset
            let call = try parsePostfix(try parsePrimary())
            guard case .call = call else { throw map.syntax("expected a call", at: callOffset) }
            try expect(.blockEnd, "'%}'")
            let outerDepth = loopDepth
            loopDepth = 0
            let (body, end) = try parseBody(until: ["endcall"])
            loopDepth = outerDepth
            guard end != nil else { throw map.syntax("missing 'endcall'", at: offset) }
            try expect(.blockEnd, "'%}'")
            return .callBlock(call, parameters, Frame(body, parameters: Set(parameters.map(\.0))), at: offset)
        case "elif", "else", "endif", "endfor", "endset", "endgeneration", "endmacro", "endcall":
            throw map.syntax("unexpected '\(tag)'", at: offset)
        default:
            throw map.unsupported("the '\(tag)' tag is not supported", at: offset)
        }
    }

    private mutating func parseIf() throws -> Node {
        var branches: [(Expr, [Node])] = []
        var otherwise: [Node] = []
        var condition = try parseTuple(withCondexpr: true)
        while true {
            try expect(.blockEnd, "'%}'")
            let (body, end) = try parseBody(until: ["elif", "else", "endif"])
            branches.append((condition, body))
            guard let end else { throw map.syntax("missing 'endif'", at: current.offset) }
            if end.name == "elif" {
                condition = try parseTuple(withCondexpr: true)
                continue
            }
            if end.name == "else" {
                try expect(.blockEnd, "'%}'")
                let (elseBody, close) = try parseBody(until: ["endif"])
                guard close != nil else { throw map.syntax("missing 'endif'", at: current.offset) }
                otherwise = elseBody
            }
            try expect(.blockEnd, "'%}'")
            return .ifChain(branches, otherwise: otherwise)
        }
    }

    private mutating func parseFor(at offset: Int) throws -> Node {
        let target = try parseAssignTarget(allowAttribute: false)
        guard case .name("in") = current.kind else { throw map.syntax("expected 'in'", at: current.offset) }
        _ = advance()
        let iterable = try parseTuple(withCondexpr: false)
        var filter: Expr? = nil
        if case .name("if") = current.kind {
            _ = advance()
            filter = try parseTuple(withCondexpr: true)
        }
        if case .name("recursive") = current.kind {
            throw map.unsupported("recursive loops are not supported", at: current.offset)
        }
        try expect(.blockEnd, "'%}'")
        loopDepth += 1
        let (body, end) = try parseBody(until: ["else", "endfor"])
        loopDepth -= 1
        guard let end else { throw map.syntax("missing 'endfor'", at: offset) }
        var otherwise: [Node] = []
        if end.name == "else" {
            try expect(.blockEnd, "'%}'")
            let (elseBody, close) = try parseBody(until: ["endfor"])
            guard close != nil else { throw map.syntax("missing 'endfor'", at: offset) }
            otherwise = elseBody
        }
        try expect(.blockEnd, "'%}'")
        let targetNames: Set<String>
        switch target {
        case .name(let name): targetNames = [name, "loop"]
        case .tuple(let names): targetNames = Set(names + ["loop"])
        case .attribute: targetNames = ["loop"]
        }
        return .forLoop(target, iterable, filter: filter, body: Frame(body, parameters: targetNames), otherwise: Frame(otherwise), at: offset)
    }

    private mutating func parseSet(at offset: Int) throws -> Node {
        let target = try parseAssignTarget(allowAttribute: true)
        if case .op("=") = current.kind {
            _ = advance()
            let value = try parseTuple(withCondexpr: true)
            try expect(.blockEnd, "'%}'")
            return .set(target, value, at: offset)
        }
        guard case .name(let name) = target else { throw map.syntax("expected '='", at: current.offset) }
        if case .op("|") = current.kind {
            throw map.unsupported("filters on a set block are not supported", at: current.offset)
        }
        try expect(.blockEnd, "'%}'")
        let (body, end) = try parseBody(until: ["endset"])
        guard end != nil else { throw map.syntax("missing 'endset'", at: offset) }
        try expect(.blockEnd, "'%}'")
        return .setBlock(name, body)
    }

    /// `(name, name=default, ...)` of a macro or call block.
    private mutating func parseParameters() throws -> [(String, Expr?)] {
        try expect(.op("("), "'('")
        var parameters: [(String, Expr?)] = []
        while !isOp(")") {
            if !parameters.isEmpty { try expect(.op(","), "','") }
            if isOp(")") { break }
            guard case .name(let name) = current.kind else { throw map.syntax("expected a parameter name", at: current.offset) }
            _ = advance()
            var defaultValue: Expr? = nil
            if isOp("=") {
                _ = advance()
                defaultValue = try parseCondexpr()
            } else if parameters.contains(where: { $0.1 != nil }) {
                throw map.syntax("non-default argument follows default argument", at: current.offset)
            }
            parameters.append((name, defaultValue))
        }
        _ = advance()
        return parameters
    }

    private mutating func parseAssignTarget(allowAttribute: Bool) throws -> AssignTarget {
        var names: [String] = []
        var sawComma = false
        let parenthesized = current.kind == .op("(")
        if parenthesized { _ = advance() }
        while true {
            guard case .name(let name) = current.kind else { throw map.syntax("expected a variable name", at: current.offset) }
            _ = advance()
            if allowAttribute, names.isEmpty, case .op(".") = current.kind {
                _ = advance()
                guard case .name(let attribute) = current.kind else { throw map.syntax("expected an attribute name", at: current.offset) }
                _ = advance()
                return .attribute(name, attribute)
            }
            names.append(name)
            guard case .op(",") = current.kind else { break }
            sawComma = true
            _ = advance()
            if case .name("in") = current.kind { break }
            if case .op("=") = current.kind { break }
            if case .op(")") = current.kind { break }
        }
        if parenthesized { try expect(.op(")"), "')'") }
        return sawComma || parenthesized && names.count > 1 ? .tuple(names) : .name(names[0])
    }

    private mutating func expect(_ kind: TokenKind, _ what: String) throws {
        guard current.kind == kind else { throw map.syntax("expected \(what)", at: current.offset) }
        _ = advance()
    }

    // MARK: - Expressions

    private func isName(_ name: String) -> Bool {
        if case .name(name) = current.kind { return true }
        return false
    }

    private func isOp(_ op: String) -> Bool {
        if case .op(op) = current.kind { return true }
        return false
    }

    /// Comma-separated expressions: a tuple when there is a comma, else the single expression.
    private mutating func parseTuple(withCondexpr: Bool, explicitParentheses: Bool = false) throws -> Expr {
        let offset = current.offset
        var items: [Expr] = []
        var sawComma = false
        while true {
            if !items.isEmpty {
                guard isOp(",") else { break }
                _ = advance()
                sawComma = true
            }
            if current.kind == .variableEnd || current.kind == .blockEnd || isOp(")")
                || (!withCondexpr && isName("if")) {
                if items.isEmpty && !explicitParentheses { throw map.syntax("expected an expression", at: current.offset) }
                break
            }
            items.append(withCondexpr ? try parseCondexpr() : try parseOr())
        }
        if !sawComma && items.count == 1 { return items[0] }
        return .tuple(items, at: offset)
    }

    private mutating func parseCondexpr() throws -> Expr {
        let offset = current.offset
        var expr = try parseOr()
        while isName("if") {
            _ = advance()
            let condition = try parseOr()
            var otherwise: Expr? = nil
            if isName("else") {
                _ = advance()
                otherwise = try parseCondexpr()
            }
            expr = .conditional(condition, then: expr, else: otherwise, at: offset)
        }
        return expr
    }

    private mutating func parseOr() throws -> Expr {
        var left = try parseAnd()
        while isName("or") {
            let offset = advance().offset
            left = .or(left, try parseAnd(), at: offset)
        }
        return left
    }

    private mutating func parseAnd() throws -> Expr {
        var left = try parseNot()
        while isName("and") {
            let offset = advance().offset
            left = .and(left, try parseNot(), at: offset)
        }
        return left
    }

    private mutating func parseNot() throws -> Expr {
        if isName("not") {
            let offset = advance().offset
            return .not(try parseNot(), at: offset)
        }
        return try parseCompare()
    }

    private mutating func parseCompare() throws -> Expr {
        let offset = current.offset
        let left = try parseMath1()
        var ops: [(String, Expr)] = []
        while true {
            if case .op(let op) = current.kind, ["==", "!=", "<", "<=", ">", ">="].contains(op) {
                _ = advance()
                ops.append((op, try parseMath1()))
            } else if isName("in") {
                _ = advance()
                ops.append(("in", try parseMath1()))
            } else if isName("not"), index + 1 < tokens.count, tokens[index + 1].kind == .name("in") {
                _ = advance()
                _ = advance()
                ops.append(("not in", try parseMath1()))
            } else {
                break
            }
        }
        return ops.isEmpty ? left : .compare(left, ops, at: offset)
    }

    private mutating func parseMath1() throws -> Expr {
        var left = try parseConcat()
        while case .op(let op) = current.kind, op == "+" || op == "-" {
            let offset = advance().offset
            left = .binary(op, left, try parseConcat(), at: offset)
        }
        return left
    }

    private mutating func parseConcat() throws -> Expr {
        var left = try parseMath2()
        while isOp("~") {
            let offset = advance().offset
            left = .binary("~", left, try parseMath2(), at: offset)
        }
        return left
    }

    private mutating func parseMath2() throws -> Expr {
        var left = try parsePow()
        while case .op(let op) = current.kind, ["*", "/", "//", "%"].contains(op) {
            let offset = advance().offset
            left = .binary(op, left, try parsePow(), at: offset)
        }
        return left
    }

    private mutating func parsePow() throws -> Expr {
        var left = try parseUnary(withFilter: true)
        while isOp("**") {
            let offset = advance().offset
            left = .binary("**", left, try parseUnary(withFilter: true), at: offset)
        }
        return left
    }

    private mutating func parseUnary(withFilter: Bool) throws -> Expr {
        let offset = current.offset
        var node: Expr
        if isOp("-") {
            _ = advance()
            node = .negate(try parseUnary(withFilter: false), at: offset)
        } else if isOp("+") {
            _ = advance()
            node = .plus(try parseUnary(withFilter: false), at: offset)
        } else {
            node = try parsePrimary()
        }
        node = try parsePostfix(node)
        if withFilter { node = try parseFilterExpr(node) }
        return node
    }

    private mutating func parsePrimary() throws -> Expr {
        let token = current
        switch token.kind {
        case .name(let name):
            _ = advance()
            switch name {
            case "true", "True": return .literal(.bool(true), at: token.offset)
            case "false", "False": return .literal(.bool(false), at: token.offset)
            case "none", "None": return .literal(.none, at: token.offset)
            default: return .name(name, at: token.offset)
            }
        case .string(var text):
            _ = advance()
            while case .string(let more) = current.kind {  // adjacent literals concatenate
                text += more
                _ = advance()
            }
            return .literal(.string(text), at: token.offset)
        case .integer(let value):
            _ = advance()
            return .literal(.int(value), at: token.offset)
        case .float(let value):
            _ = advance()
            return .literal(.float(value), at: token.offset)
        case .op("("):
            _ = advance()
            let expr = try parseTuple(withCondexpr: true, explicitParentheses: true)
            try expect(.op(")"), "')'")
            return expr
        case .op("["):
            _ = advance()
            var items: [Expr] = []
            while !isOp("]") {
                if !items.isEmpty { try expect(.op(","), "','") }
                if isOp("]") { break }
                items.append(try parseCondexpr())
            }
            _ = advance()
            return .list(items, at: token.offset)
        case .op("{"):
            _ = advance()
            var items: [(Expr, Expr)] = []
            while !isOp("}") {
                if !items.isEmpty { try expect(.op(","), "','") }
                if isOp("}") { break }
                let key = try parseCondexpr()
                try expect(.op(":"), "':'")
                items.append((key, try parseCondexpr()))
            }
            _ = advance()
            return .dict(items, at: token.offset)
        default:
            throw map.syntax("unexpected token in expression", at: token.offset)
        }
    }

    private mutating func parsePostfix(_ start: Expr) throws -> Expr {
        var node = start
        while true {
            if isOp(".") {
                let offset = advance().offset
                switch current.kind {
                case .name(let name):
                    _ = advance()
                    node = .attribute(node, name, at: offset)
                case .integer(let value):
                    _ = advance()
                    node = .item(node, .literal(.int(value), at: offset), at: offset)
                default:
                    throw map.syntax("expected an attribute name after '.'", at: current.offset)
                }
            } else if isOp("[") {
                node = try parseSubscript(node)
            } else if isOp("(") {
                node = try parseCall(node)
            } else {
                return node
            }
        }
    }

    private mutating func parseSubscript(_ target: Expr) throws -> Expr {
        let offset = advance().offset
        var parts: [Expr?] = [nil]
        var colons = 0
        if isOp("]") {  // `x[]` subscripts with an empty tuple, as jinja2 parses it
            _ = advance()
            return .item(target, .tuple([], at: offset), at: offset)
        }
        while !isOp("]") {
            if isOp(":") {
                _ = advance()
                colons += 1
                guard colons <= 2 else { throw map.syntax("too many ':' in slice", at: current.offset) }
                parts.append(nil)
                continue
            }
            guard parts[parts.count - 1] == nil else { throw map.syntax("expected ']'", at: current.offset) }
            parts[parts.count - 1] = try parseCondexpr()
            if colons == 0 && isOp(",") {  // `x[a, b]`: a tuple key
                var items = [parts[0]!]
                while isOp(",") {
                    _ = advance()
                    if isOp("]") { break }
                    items.append(try parseCondexpr())
                }
                try expect(.op("]"), "']'")
                return .item(target, .tuple(items, at: offset), at: offset)
            }
        }
        _ = advance()
        if colons == 0 {
            guard let key = parts[0] else { throw map.syntax("expected a subscript", at: offset) }
            return .item(target, key, at: offset)
        }
        while parts.count < 3 { parts.append(nil) }
        return .slice(target, parts[0], parts[1], parts[2], at: offset)
    }

    private mutating func parseArguments() throws -> ([Expr], [(String, Expr)]) {
        try expect(.op("("), "'('")
        var args: [Expr] = []
        var kwargs: [(String, Expr)] = []
        while !isOp(")") {
            if !args.isEmpty || !kwargs.isEmpty { try expect(.op(","), "','") }
            if isOp(")") { break }
            if isOp("*") {
                let offset = advance().offset
                args.append(.starred(try parseCondexpr(), at: offset))
                continue
            }
            if isOp("**") {
                _ = advance()
                kwargs.append(("**", try parseCondexpr()))
                continue
            }
            if case .name(let key) = current.kind, index + 1 < tokens.count, tokens[index + 1].kind == .op("=") {
                _ = advance()
                _ = advance()
                kwargs.append((key, try parseCondexpr()))
            } else {
                guard kwargs.isEmpty else { throw map.syntax("positional argument after keyword argument", at: current.offset) }
                args.append(try parseCondexpr())
            }
        }
        _ = advance()
        return (args, kwargs)
    }

    private mutating func parseCall(_ callee: Expr) throws -> Expr {
        let offset = current.offset
        let (args, kwargs) = try parseArguments()
        return .call(callee, args, kwargs, at: offset)
    }

    private mutating func parseDottedName() throws -> String {
        guard case .name(var name) = current.kind else { throw map.syntax("expected a name", at: current.offset) }
        _ = advance()
        while isOp("."), index + 1 < tokens.count, case .name(let more) = tokens[index + 1].kind {
            _ = advance()
            _ = advance()
            name += "." + more
        }
        return name
    }

    private mutating func parseFilterExpr(_ start: Expr) throws -> Expr {
        var node = start
        while true {
            if isOp("|") {
                _ = advance()
                let offset = current.offset
                let name = try parseDottedName()
                guard TemplateFilters.filterNames.contains(name) else {
                    throw map.unsupported("no filter named '\(name)'", at: offset)
                }
                var args: [Expr] = [], kwargs: [(String, Expr)] = []
                if isOp("(") { (args, kwargs) = try parseArguments() }
                node = .filter(node, name, args, kwargs, at: offset)
            } else if isName("is") {
                _ = advance()
                var negated = false
                if isName("not") {
                    _ = advance()
                    negated = true
                }
                let offset = current.offset
                let name = try parseDottedName()
                guard TemplateFilters.testNames.contains(name) else {
                    throw map.unsupported("no test named '\(name)'", at: offset)
                }
                var args: [Expr] = []
                if isOp("(") {
                    let (positional, keywords) = try parseArguments()
                    guard keywords.isEmpty else { throw map.unsupported("keyword arguments to tests are not supported", at: offset) }
                    args = positional
                } else if try startsTestArgument() {
                    args = [try parsePostfix(try parsePrimary())]
                }
                node = .test(node, name, args, negated: negated, at: offset)
            } else if isOp("(") {
                node = try parseCall(node)
            } else {
                return node
            }
        }
    }

    /// jinja2 reads one bare argument after a test name (`is divisibleby 3`, `is equalto 'x'`): any
    /// primary except the names `else`, `or` and `and` (so `x is odd if y` reads `if` as the argument and
    /// fails, as in jinja2).
    private func startsTestArgument() throws -> Bool {
        switch current.kind {
        case .name(let name):
            if name == "is" { throw map.syntax("You cannot chain multiple tests with is", at: current.offset) }
            return !["else", "or", "and"].contains(name)
        case .string, .integer, .float: return true
        case .op(let op): return op == "[" || op == "{"
        default: return false
        }
    }
}
