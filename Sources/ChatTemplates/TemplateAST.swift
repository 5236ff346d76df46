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
    case output(Expr)
    case ifChain([(Expr, [Node])], otherwise: [Node])
    case forLoop(AssignTarget, Expr, filter: Expr?, body: [Node], otherwise: [Node], at: Int)
    case set(AssignTarget, Expr, at: Int)
    case setBlock(String, [Node])
    case breakLoop(at: Int)
    case continueLoop(at: Int)
    case block([Node])
    case macro(String, [(String, Expr?)], [Node], at: Int)
    /// `{% call [(params)] macro(args) %}body{% endcall %}`: the call, and the body as `caller`.
    case callBlock(Expr, [(String, Expr?)], [Node], at: Int)
}
