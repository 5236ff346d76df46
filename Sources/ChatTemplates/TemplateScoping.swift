// Which variables of a frame start out undefined, as jinja2's compile-time scoping makes them.
//
// Reference: jinja2 3.1 `idtracking.py` and `compiler.py`. jinja2 resolves names per frame when it
// compiles: a name a frame (the template, a `for` body, a macro, ...) assigns unconditionally
// (`{% set x = ... %}` or a macro definition outside any `if`) is a local of that frame for its whole
// body. If the frame reads it before that assignment, the local starts from the enclosing scope
// (`resolve`); if an enclosing frame refers to the name (reads, assigns or binds it in its own code), the
// local starts as that frame's variable (an alias); otherwise it starts missing, so a nested loop or macro
// body that reads it before the assignment runs sees Undefined, even when the context has a variable of
// that name: `{% for i in [1] %}{{ n }}{% endfor %}{% set n = 5 %}` renders "" with n=0 in the context.
// `if` bodies share their frame; `for` (and its `else`), `macro`, `call` and `generation` bodies are
// frames of their own, so their reads and writes do not count for the enclosing frame.

enum TemplateScoping {
    /// For a frame with body `nodes`: the names it assigns before reading them (`storedFirst`), and all
    /// the names its own code refers to (`symbols`).
    static func analyze(_ nodes: [Node]) -> (storedFirst: Set<String>, symbols: Set<String>) {
        var loaded = Set<String>()
        var result = Set<String>()
        var stored = Set<String>()
        visit(nodes, conditional: false, loaded: &loaded, result: &result, stored: &stored)
        return (result, loaded.union(stored))
    }

    private static func visit(_ nodes: [Node], conditional: Bool, loaded: inout Set<String>, result: inout Set<String>,
                              stored: inout Set<String>) {
        func store(_ name: String) {
            stored.insert(name)
            if conditional {
                loaded.insert(name)  // a store in one branch keeps the outer value: resolved from the context
            } else if !loaded.contains(name) {
                result.insert(name)
            }
        }
        for node in nodes {
            switch node {
            case .text, .breakLoop, .continueLoop, .block:
                break
            case .output(let expr, _):
                loaded.formUnion(expr.names)
            case .ifChain(let branches, let otherwise):
                for (condition, body) in branches {
                    loaded.formUnion(condition.names)
                    visit(body, conditional: true, loaded: &loaded, result: &result, stored: &stored)
                }
                visit(otherwise, conditional: true, loaded: &loaded, result: &result, stored: &stored)
            case .forLoop(_, let iterable, _, _, _, _):
                loaded.formUnion(iterable.names)
            case .set(let target, let expr, _):
                loaded.formUnion(expr.names)
                switch target {
                case .name(let name): store(name)
                case .tuple(let names): names.forEach(store)
                case .attribute(let name, _): loaded.insert(name)
                }
            case .setBlock(let name, _):
                store(name)
            case .macro(let name, _, _, _):
                store(name)
            case .callBlock(let call, _, _, _):
                loaded.formUnion(call.names)
            }
        }
    }
}

extension Expr {
    /// The variable names the expression reads.
    var names: Set<String> {
        func union(_ exprs: [Expr?]) -> Set<String> { exprs.reduce(into: Set<String>()) { $0.formUnion($1?.names ?? []) } }
        switch self {
        case .name(let name, _): return [name]
        case .literal: return []
        case .starred(let inner, _): return inner.names
        case .list(let items, _), .tuple(let items, _): return union(items)
        case .dict(let pairs, _): return union(pairs.flatMap { [$0.0, $0.1] })
        case .attribute(let target, _, _): return target.names
        case .item(let target, let key, _): return union([target, key])
        case .slice(let target, let start, let stop, let step, _): return union([target, start, stop, step])
        case .call(let target, let args, let kwargs, _), .filter(let target, _, let args, let kwargs, _):
            return union([target] + args + kwargs.map(\.1))
        case .test(let target, _, let args, _, _): return union([target] + args)
        case .not(let operand, _), .negate(let operand, _), .plus(let operand, _): return operand.names
        case .binary(_, let left, let right, _), .and(let left, let right, _), .or(let left, let right, _): return union([left, right])
        case .compare(let first, let rest, _): return union([first] + rest.map(\.1))
        case .conditional(let condition, let then, let otherwise, _): return union([condition, then, otherwise])
        }
    }
}
