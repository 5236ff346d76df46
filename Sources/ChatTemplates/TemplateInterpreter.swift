// Renders a parsed template against a context, with jinja2's scoping and control flow.
//
// Reference: jinja2 3.1 (`compiler.py`, `runtime.LoopContext`). Scoping as jinja2 compiles it: `if` has
// no scope of its own; each `for` iteration runs in a fresh scope that reads the enclosing ones, so a
// `set` inside a loop is gone in the next iteration and after the loop (templates use `namespace` to carry
// state out). The loop filter (`for x in xs if cond`) is applied before `loop.length` and friends are
// computed. A macro runs in a fresh scope over the scope it was defined in, with its parameters bound
// (missing ones are Undefined, defaults evaluated at call time) and `caller` when invoked from a `call`
// block; it returns its output as a string. Errors carry the position of the expression that failed.
import Foundation

final class Scope {
    private var variables: [String: TemplateValue] = [:]
    private let parent: Scope?
    /// The names the code of the frame this scope runs refers to (see TemplateScoping).
    private var frameSymbols: Set<String> = []

    init(parent: Scope?) {
        self.parent = parent
    }

    func lookup(_ name: String) -> TemplateValue? {
        if let value = variables[name] { return value }
        return parent?.lookup(name)
    }

    func set(_ name: String, _ value: TemplateValue) {
        variables[name] = value
    }

    /// Starts running `frame` in this scope: a name the frame assigns before reading it starts Undefined
    /// unless an enclosing frame refers to it (then it starts as that variable, found by lookup).
    func enter(_ frame: Frame) {
        frameSymbols = frame.symbols
        for name in frame.storedFirst where !(parent?.enclosingFrameRefers(to: name) ?? false) {
            variables[name] = .undefined(hint: "'\(name)' is undefined")
        }
    }

    private func enclosingFrameRefers(to name: String) -> Bool {
        frameSymbols.contains(name) || (parent?.enclosingFrameRefers(to: name) ?? false)
    }
}

/// State shared by a render and the macros it calls.
final class RenderState {
    /// Nested macro calls; recursion deeper than `maxMacroDepth` fails instead of overflowing the stack.
    var macroDepth = 0
    static let maxMacroDepth = 64
}

struct TemplateInterpreter {
    let map: SourceMap
    let state: RenderState
    /// Evaluating as jinja2's compile-time `as_const`: variables and calls are impossible, slices go
    /// through getitem.
    let folding: Bool
    var output = ""

    private enum Flow {
        case normal, breakLoop, continueLoop
    }

    init(map: SourceMap, state: RenderState = RenderState(), folding: Bool = false) {
        self.map = map
        self.state = state
        self.folding = folding
    }

    mutating func render(_ nodes: [Node], scope: Scope) throws {
        _ = try execute(nodes, scope)
    }

    private mutating func execute(_ nodes: [Node], _ scope: Scope) throws -> Flow {
        for node in nodes {
            let flow = try execute(node, scope)
            if flow != .normal { return flow }
        }
        return .normal
    }

    private mutating func execute(_ node: Node, _ scope: Scope) throws -> Flow {
        switch node {
        case .text(let text):
            output += text
        case .output(let expr, let foldable):
            // jinja2's compile-time folding (see Node.output); any failure there falls back to rendering.
            if foldable, let folded = try? TemplateInterpreter(map: map, state: state, folding: true).evaluateNode(expr, scope) {
                output += folded.pyStr
            } else {
                output += try evaluate(expr, scope).pyStr
            }
        case .ifChain(let branches, let otherwise):
            for (condition, body) in branches where try evaluate(condition, scope).isTruthy {
                return try execute(body, scope)
            }
            return try execute(otherwise, scope)
        case .forLoop(let target, let iterable, let filter, let body, let otherwise, let offset):
            return try executeLoop(target, iterable, filter, body, otherwise, offset, scope)
        case .set(let target, let expr, let offset):
            try assign(target, try evaluate(expr, scope), scope, at: offset)
        case .setBlock(let name, let body):
            var inner = TemplateInterpreter(map: map, state: state)
            _ = try inner.execute(body, scope)
            scope.set(name, .string(inner.output))
        case .breakLoop:
            return .breakLoop
        case .continueLoop:
            return .continueLoop
        case .block(let frame):
            return try execute(frame, Scope(parent: scope))
        case .macro(let name, let parameters, let body, let offset):
            scope.set(name, .callable(makeMacro(name, parameters, body, definedIn: scope, at: offset)))
        case .callBlock(let call, let parameters, let body, let offset):
            guard case .call(let callee, let args, let kwargs, let callOffset) = call else { return .normal }
            let caller = makeMacro("caller", parameters, body, definedIn: scope, at: offset)
            let function = try evaluate(callee, scope)
            var (argValues, kwargValues) = try evaluateArguments(args, kwargs, scope, at: callOffset)
            kwargValues.append(("caller", .callable(caller)))
            output += try located(callOffset) {
                guard case .callable(let c) = function else { throw ValueFailure.runtime("'\(function.typeName)' object is not callable") }
                return try c.body(argValues, kwargValues)
            }.pyStr
        }
        return .normal
    }

    private func assign(_ target: AssignTarget, _ value: TemplateValue, _ scope: Scope, at offset: Int) throws {
        switch target {
        case .name(let name):
            scope.set(name, value)
        case .tuple(let names):
            let items = try located(offset) { try value.iterate() }
            guard items.count == names.count else {
                throw map.runtime("cannot unpack \(items.count) values into \(names.count) names", at: offset)
            }
            for (name, item) in zip(names, items) { scope.set(name, item) }
        case .attribute(let name, let attribute):
            guard case .namespace(let ns) = scope.lookup(name) ?? .undefined(hint: "") else {
                throw map.runtime("cannot assign attribute on non-namespace object '\(name)'", at: offset)
            }
            if attribute.hasPrefix("_") {
                throw map.runtime("Chat templates cannot store underscore-prefixed attributes on a namespace, but got '\(attribute)'", at: offset)
            }
            ns.attributes[.string(attribute)] = value
        }
    }

    /// Runs a frame's body in `scope`, a fresh scope for that frame.
    private mutating func execute(_ frame: Frame, _ scope: Scope) throws -> Flow {
        scope.enter(frame)
        return try execute(frame.nodes, scope)
    }

    private mutating func executeLoop(_ target: AssignTarget, _ iterable: Expr, _ filter: Expr?, _ body: Frame,
                                      _ otherwise: Frame, _ offset: Int, _ scope: Scope) throws -> Flow {
        let source = try evaluate(iterable, scope)
        var items = try located(offset) { try source.iterate() }
        if let filter {
            items = try items.filter { item in
                let probe = Scope(parent: scope)
                try assign(target, item, probe, at: offset)
                return try evaluate(filter, probe).isTruthy
            }
        }
        // The else block is a frame of its own in jinja2: its assignments stay inside.
        if items.isEmpty { return try execute(otherwise, Scope(parent: scope)) }
        for (i, item) in items.enumerated() {
            let iteration = Scope(parent: scope)
            iteration.enter(body)
            iteration.set("loop", loopObject(index: i, items: items))
            try assign(target, item, iteration, at: offset)
            if try execute(body.nodes, iteration) == .breakLoop { break }
        }
        return .normal
    }

    private func makeMacro(_ name: String, _ parameters: [(String, Expr?)], _ body: Frame, definedIn scope: Scope,
                           at offset: Int) -> TemplateCallable {
        let map = self.map, state = self.state
        return TemplateCallable(name: name) { args, kwargs in
            guard args.count <= parameters.count else {
                throw ValueFailure.runtime("macro '\(name)' takes not more than \(parameters.count) argument(s)")
            }
            let local = Scope(parent: scope)
            local.enter(body)
            for (key, value) in kwargs {
                if key == "caller" {
                    local.set(key, value)
                } else if !parameters.contains(where: { $0.0 == key }) {
                    throw ValueFailure.runtime("macro '\(name)' takes no keyword argument '\(key)'")
                }
            }
            let interpreter = TemplateInterpreter(map: map, state: state)
            for (i, (parameter, defaultValue)) in parameters.enumerated() {
                if i < args.count {
                    local.set(parameter, args[i])
                } else if let given = kwargs.first(where: { $0.0 == parameter }) {
                    local.set(parameter, given.1)
                } else if let defaultValue {
                    local.set(parameter, try interpreter.evaluate(defaultValue, local))
                } else {
                    local.set(parameter, .undefined(hint: "parameter '\(parameter)' was not provided"))
                }
            }
            guard state.macroDepth < RenderState.maxMacroDepth else {
                throw map.runtime("macro '\(name)' nested deeper than \(RenderState.maxMacroDepth) calls", at: offset)
            }
            state.macroDepth += 1
            defer { state.macroDepth -= 1 }
            var inner = TemplateInterpreter(map: map, state: state)
            _ = try inner.execute(body.nodes, local)
            return .string(inner.output)
        }
    }

    /// jinja2's `loop` variable for iteration `index` (0-based) of `items`.
    private func loopObject(index: Int, items: [TemplateValue]) -> TemplateValue {
        var loop = TemplateDict()
        let count = items.count
        loop[string: "index"] = .int(index + 1)
        loop[string: "index0"] = .int(index)
        loop[string: "revindex"] = .int(count - index)
        loop[string: "revindex0"] = .int(count - index - 1)
        loop[string: "first"] = .bool(index == 0)
        loop[string: "last"] = .bool(index == count - 1)
        loop[string: "length"] = .int(count)
        loop[string: "depth"] = .int(1)
        loop[string: "depth0"] = .int(0)
        loop[string: "previtem"] = index > 0 ? items[index - 1] : .undefined(hint: "there is no previous item")
        loop[string: "nextitem"] = index + 1 < count ? items[index + 1] : .undefined(hint: "there is no next item")
        loop[string: "cycle"] = .callable(TemplateCallable(name: "cycle") { args, _ in
            guard !args.isEmpty else { throw ValueFailure.runtime("no items for cycling given") }
            return args[index % args.count]
        })
        return .dict(loop)
    }

    /// Runs `body`, turning a value failure into a positioned `TemplateError`.
    private func located<T>(_ offset: Int, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let failure as ValueFailure {
            switch failure {
            case .runtime(let message): throw map.runtime(message, at: offset)
            case .unsupported(let message): throw map.unsupported(message, at: offset)
            case .raised(let message): throw TemplateError.raised(message)
            }
        }
    }

    // MARK: - Expressions

    private func isNegativeNumber(_ value: TemplateValue) -> Bool {
        switch value {
        case .int(let i): return i < 0
        case .float(let f): return f.sign == .minus
        default: return false
        }
    }

    /// Call arguments with `*items` and `**mapping` expanded.
    private func evaluateArguments(_ args: [Expr], _ kwargs: [(String, Expr)], _ scope: Scope, at offset: Int) throws
        -> ([TemplateValue], [(String, TemplateValue)]) {
        var positional: [TemplateValue] = []
        for arg in args {
            if case .starred(let inner, let offset) = arg {
                let items = try evaluate(inner, scope)
                positional += try located(offset) { try items.iterate() }
            } else {
                positional.append(try evaluate(arg, scope))
            }
        }
        var keywords: [(String, TemplateValue)] = []
        for (key, expr) in kwargs {
            let value = try evaluate(expr, scope)
            guard key == "**" else {
                keywords.append((key, value))
                continue
            }
            guard case .dict(let d) = value else { throw map.runtime("argument after ** must be a mapping, not \(value.typeName)", at: offset) }
            for entry in d.entries { keywords.append((entry.key.pyStr, entry.value)) }
        }
        return (positional, keywords)
    }

    func evaluate(_ expr: Expr, _ scope: Scope) throws -> TemplateValue {
        // jinja2's optimizer replaces a constant subexpression by its value when that value is a plain
        // literal (`has_safe_repr`); this only changes results where a slice is involved (Node.output).
        if !folding, expr.containsSlice, !expr.isLiteral,
           let folded = try? TemplateInterpreter(map: map, state: state, folding: true).evaluateNode(expr, scope), folded.hasSafeRepr {
            return folded
        }
        return try evaluateNode(expr, scope)
    }

    private func evaluateNode(_ expr: Expr, _ scope: Scope) throws -> TemplateValue {
        switch expr {
        case .starred(_, let offset):
            throw map.syntax("'*' is only allowed among call arguments", at: offset)
        case .literal(let literal, _):
            return TemplateValue(literal)
        case .name(let name, let offset):
            if folding { throw map.runtime("not a constant", at: offset) }
            return scope.lookup(name) ?? .undefined(hint: "'\(name)' is undefined")
        case .list(let items, _):
            return .list(try items.map { try evaluate($0, scope) })
        case .tuple(let items, _):
            return .tuple(try items.map { try evaluate($0, scope) })
        case .dict(let pairs, let offset):
            var dict = TemplateDict()
            for (k, v) in pairs {
                let key = try evaluate(k, scope)
                switch key {
                case .list, .dict, .namespace, .undefined, .callable: throw map.runtime("unhashable type: '\(key.typeName)'", at: offset)
                default: dict[key] = try evaluate(v, scope)
                }
            }
            return .dict(dict)
        case .attribute(let target, let name, let offset):
            let value = try evaluate(target, scope)
            return try located(offset) { try value.attribute(name) }
        case .item(let target, let key, let offset):
            let value = try evaluate(target, scope), index = try evaluate(key, scope)
            return try located(offset) { try value.item(index) }
        case .slice(let target, let start, let stop, let step, let offset):
            let value = try evaluate(target, scope)
            let bounds = try [start, stop, step].map { try $0.map { try evaluate($0, scope) } ?? .none }
            if folding {
                _ = try located(offset) { try value.defined() }
                if let sliced = try? value.slice(bounds[0], bounds[1], bounds[2]) { return sliced }
                return .undefined(hint: "'\(value.typeName) object' has no attribute 'slice'")
            }
            return try located(offset) { try value.slice(bounds[0], bounds[1], bounds[2]) }
        case .call(let callee, let args, let kwargs, let offset):
            if folding { throw map.runtime("not a constant", at: offset) }
            let function = try evaluate(callee, scope)
            let (argValues, kwargValues) = try evaluateArguments(args, kwargs, scope, at: offset)
            return try located(offset) {
                switch function {
                case .callable(let c): return try c.body(argValues, kwargValues)
                case .undefined(let hint): throw ValueFailure.runtime(hint)
                default: throw ValueFailure.runtime("'\(function.typeName)' object is not callable")
                }
            }
        case .filter(let target, let name, let args, let kwargs, let offset):
            // select, reject, selectattr, rejectattr and map need the render context in jinja2: never folded.
            if folding && ["select", "reject", "selectattr", "rejectattr", "map"].contains(name) {
                throw map.runtime("not a constant", at: offset)
            }
            let value = try evaluate(target, scope)
            let (argValues, kwargValues) = try evaluateArguments(args, kwargs, scope, at: offset)
            let call = Arguments(argValues, kwargValues, function: name)
            return try located(offset) { try TemplateFilters.apply(name, to: value, call) }
        case .test(let target, let name, let args, let negated, let offset):
            let value = try evaluate(target, scope)
            let argValues = try args.map { try evaluate($0, scope) }
            return .bool(try located(offset) { try TemplateFilters.test(name, value, argValues) } != negated)
        case .not(let operand, _):
            return .bool(!(try evaluate(operand, scope).isTruthy))
        case .negate(let operand, let offset):
            let value = try evaluate(operand, scope)
            return try located(offset) {
                switch try value.defined() {
                case .int(let i):
                    guard i != .min else { throw ValueFailure.unsupported("integer overflow in unary -") }
                    return .int(-i)
                case .bool(let b): return .int(b ? -1 : 0)
                case .float(let f): return .float(-f)
                default: throw ValueFailure.runtime("bad operand type for unary -: '\(value.typeName)'")
                }
            }
        case .plus(let operand, let offset):
            let value = try evaluate(operand, scope)
            return try located(offset) {
                guard value.number != nil else { throw ValueFailure.runtime("bad operand type for unary +: '\(value.typeName)'") }
                return value.integer.map { .int($0) } ?? value
            }
        case .binary(let op, let left, let right, let offset):
            let l = try evaluate(left, scope), r = try evaluate(right, scope)
            if op == "**", !folding, left.isStaticConstant, isNegativeNumber(l) {
                // jinja2 writes a negative constant into its generated Python without parentheses, so at
                // run time `-4 ** x` is -(4 ** x). (When the whole power is constant it is folded first,
                // correctly, by the `evaluate` above.)
                return try located(offset) {
                    let magnitude = try TemplateOperators.binary("*", .int(-1), l)
                    return try TemplateOperators.binary("*", .int(-1), try TemplateOperators.binary("**", magnitude, r))
                }
            }
            return try located(offset) { try TemplateOperators.binary(op, l, r) }
        case .compare(let first, let rest, let offset):
            var left = try evaluate(first, scope)
            for (op, rightExpr) in rest {
                let right = try evaluate(rightExpr, scope)
                if !(try located(offset) { try TemplateOperators.compare(op, left, right) }) { return .bool(false) }
                left = right
            }
            return .bool(true)
        case .and(let left, let right, _):
            let l = try evaluate(left, scope)
            return l.isTruthy ? try evaluate(right, scope) : l
        case .or(let left, let right, _):
            let l = try evaluate(left, scope)
            return l.isTruthy ? l : try evaluate(right, scope)
        case .conditional(let condition, let then, let otherwise, _):
            if try evaluate(condition, scope).isTruthy { return try evaluate(then, scope) }
            guard let otherwise else {
                if folding { throw map.runtime("not a constant", at: 0) }
                return .undefined(hint: "the inline if-expression evaluated to false and no else section was defined.")
            }
            return try evaluate(otherwise, scope)
        }
    }
}
