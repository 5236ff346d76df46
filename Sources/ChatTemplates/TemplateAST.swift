// The syntax tree of a chat template: what TemplateParser builds and TemplateInterpreter walks. Every
// node that can fail while rendering carries the offset (in Unicode scalars) of its source, for errors.

/// A constant in the template source.
enum Literal: Sendable {
    case none, bool(Bool), int(Int), float(Double), string(String)
}

indirect enum Expr: Sendable {
    case literal(Literal, at: Int)
    case name(String, at: Int)
    case list([Expr], at: Int)
    case tuple([Expr], at: Int)
    case dict([(Expr, Expr)], at: Int)
    case attribute(Expr, String, at: Int)
    case item(Expr, Expr, at: Int)
    case slice(Expr, Expr?, Expr?, Expr?, at: Int)
    case call(Expr, [Expr], [(String, Expr)], at: Int)
    case filter(Expr, String, [Expr], [(String, Expr)], at: Int)
    case test(Expr, String, [Expr], negated: Bool, at: Int)
    case not(Expr, at: Int)
    case negate(Expr, at: Int)
    case plus(Expr, at: Int)
    case binary(String, Expr, Expr, at: Int)
    case compare(Expr, [(String, Expr)], at: Int)
    case and(Expr, Expr, at: Int)
    case or(Expr, Expr, at: Int)
    case conditional(Expr, then: Expr, else: Expr?, at: Int)
    /// `*items` among call arguments (expanded into positional arguments); `**mapping` is stored as the
    /// keyword argument named "**".
    case starred(Expr, at: Int)
}

/// The left side of `set` or a `for` loop variable.
enum AssignTarget: Sendable {
    case name(String)
    case tuple([String])
    case attribute(String, String)
}

indirect enum Node: Sendable {
    case text(String)
    /// `{{ expr }}`. jinja2 first tries to evaluate an output expression at compile time (`as_const`:
    /// literals and operators, short-circuiting, no variables or calls) and only compiles it when that
    /// fails. The two agree except for slices: folded, they go through getitem, so slicing a number gives
    /// Undefined; compiled, they raise. `foldable` marks expressions with a slice, which the interpreter
    /// evaluates the folding way first.
    case output(Expr, foldable: Bool)
    case ifChain([(Expr, [Node])], otherwise: [Node])
    case forLoop(AssignTarget, Expr, filter: Expr?, body: Frame, otherwise: Frame, at: Int)
    case set(AssignTarget, Expr, at: Int)
    case setBlock(String, [Node])
    case breakLoop(at: Int)
    case continueLoop(at: Int)
    /// transformers' `generation` block, which it compiles as a call block: a frame of its own.
    case block(Frame)
    case macro(String, [(String, Expr?)], Frame, at: Int)
    /// `{% call [(params)] macro(args) %}body{% endcall %}`: the call, and the body as `caller`.
    case callBlock(Expr, [(String, Expr?)], Frame, at: Int)
}

/// The body of a jinja2 frame (the template, a `for` body or its `else`, a macro, a call or generation
/// block): its nodes, the names it assigns before reading them, and the names its own code refers to
/// (see TemplateScoping).
struct Frame: Sendable {
    let nodes: [Node]
    let storedFirst: Set<String>
    let symbols: Set<String>

    /// - Parameter parameters: names the frame binds on entry (loop variables, macro parameters).
    init(_ nodes: [Node], parameters: Set<String> = []) {
        self.nodes = nodes
        let analysis = TemplateScoping.analyze(nodes)
        storedFirst = analysis.storedFirst.subtracting(parameters)
        symbols = analysis.symbols.union(parameters)
    }
}

extension Expr {
    /// No variables and no calls: what jinja2's optimizer can evaluate at compile time (approximately; it
    /// also folds branches that are never taken).
    var isStaticConstant: Bool {
        func all(_ exprs: [Expr?]) -> Bool { exprs.allSatisfy { $0?.isStaticConstant ?? true } }
        switch self {
        case .literal: return true
        case .name, .call, .starred: return false
        case .list(let items, _), .tuple(let items, _): return all(items)
        case .dict(let pairs, _): return all(pairs.flatMap { [$0.0, $0.1] })
        case .attribute(let target, _, _): return target.isStaticConstant
        case .item(let target, let key, _): return all([target, key])
        case .slice(let target, let start, let stop, let step, _): return all([target, start, stop, step])
        case .filter(let target, let name, let args, let kwargs, _):
            return !["select", "reject", "selectattr", "rejectattr", "map"].contains(name) && all([target] + args + kwargs.map(\.1))
        case .test(let target, _, let args, _, _): return all([target] + args)
        case .not(let operand, _), .negate(let operand, _), .plus(let operand, _): return operand.isStaticConstant
        case .binary(_, let left, let right, _), .and(let left, let right, _), .or(let left, let right, _): return all([left, right])
        case .compare(let first, let rest, _): return all([first] + rest.map(\.1))
        case .conditional(let condition, let then, let otherwise, _): return all([condition, then, otherwise])
        }
    }

    var isLiteral: Bool {
        if case .literal = self { return true }
        return false
    }

    /// True when the expression has a construct jinja2 evaluates differently when it folds a constant at
    /// compile time (see `Node.output`): a slice, or `**` after a constant operand.
    var containsSlice: Bool {
        func any(_ exprs: [Expr?]) -> Bool { exprs.contains { $0?.containsSlice ?? false } }
        switch self {
        case .slice: return true
        case .binary("**", let left, _, _) where left.isStaticConstant: return true
        case .literal, .name: return false
        case .starred(let inner, _): return inner.containsSlice
        case .list(let items, _), .tuple(let items, _): return any(items)
        case .dict(let pairs, _): return any(pairs.flatMap { [$0.0, $0.1] })
        case .attribute(let target, _, _): return target.containsSlice
        case .item(let target, let key, _): return any([target, key])
        case .call(let target, let args, let kwargs, _), .filter(let target, _, let args, let kwargs, _):
            return any([target] + args + kwargs.map(\.1))
        case .test(let target, _, let args, _, _): return any([target] + args)
        case .not(let operand, _), .negate(let operand, _), .plus(let operand, _): return operand.containsSlice
        case .binary(_, let left, let right, _), .and(let left, let right, _), .or(let left, let right, _): return any([left, right])
        case .compare(let first, let rest, _): return any([first] + rest.map(\.1))
        case .conditional(let condition, let then, let otherwise, _): return any([condition, then, otherwise])
        }
    }
}
