// Which top-level variables start out undefined, as jinja2's compile-time scoping makes them.
//
// Reference: jinja2 3.1 `idtracking.py` and `compiler.py`. jinja2 resolves names per frame when it
// compiles: a name the template assigns unconditionally at top level (`{% set x = ... %}` or a macro
// definition outside any `if`) is a local of the top-level frame for the whole template. If the top level
// reads it before that assignment, the local starts from the context (`resolve`); otherwise it starts
// missing, so a loop or macro body that reads it before the assignment runs sees Undefined, even when
// the caller passed a variable of that name:
// `{% for i in [1] %}{{ n }}{% endfor %}{% set n = 5 %}` renders "" with n=0 in the context.
// `if` bodies share the top-level frame; `for`, `macro`, `call` and `generation` bodies are frames of
// their own, so their reads and writes do not count here.

enum TemplateScoping {
    /// The names to bind to Undefined before rendering `nodes` at top level.
    static func initiallyUndefined(_ nodes: [Node]) -> Set<String> {
        var loaded = Set<String>()
        var result = Set<String>()
        visit(nodes, conditional: false, loaded: &loaded, result: &result)
        return result
    }

    private static func visit(_ nodes: [Node], conditional: Bool, loaded: inout Set<String>, result: inout Set<String>) {
        func store(_ name: String) {
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
                    visit(body, conditional: true, loaded: &loaded, result: &result)
                }
                visit(otherwise, conditional: true, loaded: &loaded, result: &result)
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
