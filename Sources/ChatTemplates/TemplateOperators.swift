// Python's binary operators and `in` on template values, as jinja2 evaluates them.
//
// Reference: the Python 3 data model: `+` adds numbers or concatenates str/list (str + int is a
// TypeError), `*` repeats str/list, `/` is true division, `//` and `%` floor toward negative infinity,
// `**` gives int for non-negative int exponents; bool counts as int. `~` (jinja2) concatenates `str()`s.
// Undefined fails in every arithmetic operator (jinja2's Undefined), but not in `~`.
import Foundation

enum TemplateOperators {
    static func binary(_ op: String, _ left: TemplateValue, _ right: TemplateValue) throws -> TemplateValue {
        if op == "~" { return .string(left.pyStr + right.pyStr) }
        if op == "%", case .string(let format) = left {
            guard format.unicodeScalars.contains("%") else {
                // Without conversion specifiers Python returns the text when the argument is a mapping or
                // indexable (not a str), or an empty tuple; anything else is left unconverted.
                switch right {
                case .dict, .list, .undefined: return left  // Undefined has __getitem__ too
                case .tuple(let items) where items.isEmpty: return left
                default: throw ValueFailure.runtime("not all arguments converted during string formatting")
                }
            }
            throw ValueFailure.unsupported("printf-style string formatting with '%' is not supported")
        }
        _ = try left.defined()
        _ = try right.defined()
        switch (op, left, right) {
        case ("+", .string(let a), .string(let b)): return .string(a + b)
        case ("+", .list(let a), .list(let b)): return .list(a + b)
        case ("+", .tuple(let a), .tuple(let b)): return .tuple(a + b)
        case ("*", .string(let s), _) where right.integer != nil:
            return .string(String(repeating: s, count: try repeatCount(right.integer!, s.utf8.count)))
        case ("*", _, .string(let s)) where left.integer != nil:
            return .string(String(repeating: s, count: try repeatCount(left.integer!, s.utf8.count)))
        case ("*", .list(let l), _) where right.integer != nil:
            return .list(Array(repeatElement(l, count: try repeatCount(right.integer!, l.count)).joined()))
        case ("*", _, .list(let l)) where left.integer != nil:
            return .list(Array(repeatElement(l, count: try repeatCount(left.integer!, l.count)).joined()))
        case ("*", .tuple(let l), _) where right.integer != nil:
            return .tuple(Array(repeatElement(l, count: try repeatCount(right.integer!, l.count)).joined()))
        case ("*", _, .tuple(let l)) where left.integer != nil:
            return .tuple(Array(repeatElement(l, count: try repeatCount(left.integer!, l.count)).joined()))
        default: break
        }
        if let a = left.integer, let b = right.integer {
            switch op {
            case "+": return try checked(a.addingReportingOverflow(b), op)
            case "-": return try checked(a.subtractingReportingOverflow(b), op)
            case "*": return try checked(a.multipliedReportingOverflow(by: b), op)
            case "/":
                guard b != 0 else { throw ValueFailure.runtime("division by zero") }
                return .float(Double(a) / Double(b))
            case "//", "%":
                guard b != 0 else { throw ValueFailure.runtime("integer division or modulo by zero") }
                if a == .min && b == -1 {
                    if op == "%" { return .int(0) }
                    throw ValueFailure.unsupported("integer overflow in '\(op)'")
                }
                var q = a / b, r = a % b
                if r != 0 && (r < 0) != (b < 0) {
                    q -= 1
                    r += b
                }
                return .int(op == "//" ? q : r)
            case "**":
                if a == 0 && b < 0 { throw ValueFailure.runtime("0.0 cannot be raised to a negative power") }
                if b >= 0 {
                    // Exponentiation by squaring; overflow is refused (Python would switch to big integers).
                    var result = 1, base = a, exponent = b
                    while exponent > 0 {
                        if exponent & 1 == 1 { result = try checked(result.multipliedReportingOverflow(by: base), op).integer! }
                        exponent >>= 1
                        if exponent > 0 { base = try checked(base.multipliedReportingOverflow(by: base), op).integer! }
                    }
                    return .int(result)
                }
                return .float(pow(Double(a), Double(b)))
            default: break
            }
        }
        if let a = left.number, let b = right.number {
            switch op {
            case "+": return .float(a + b)
            case "-": return .float(a - b)
            case "*": return .float(a * b)
            case "/":
                guard b != 0 else { throw ValueFailure.runtime("float division by zero") }
                return .float(a / b)
            case "//", "%":
                guard b != 0 else { throw ValueFailure.runtime("float \(op == "//" ? "floor division" : "modulo") by zero") }
                let (q, r) = pythonFloatDivMod(a, b)
                return .float(op == "//" ? q : r)
            case "**":
                if a == 0 && b < 0 { throw ValueFailure.runtime("0.0 cannot be raised to a negative power") }
                if a < 0 && b != b.rounded() { throw ValueFailure.unsupported("a negative number to a fractional power is complex") }
                return .float(pow(a, b))
            default: break
            }
        }
        if op == "+", case .string = left {
            throw ValueFailure.runtime("can only concatenate str (not \"\(right.typeName)\") to str")
        }
        throw ValueFailure.runtime("unsupported operand type(s) for \(op): '\(left.typeName)' and '\(right.typeName)'")
    }

    /// The largest text or list `*` may build (Python would build it; a server should not).
    static let maxRepeatedElements = 1 << 24

    private static func repeatCount(_ count: Int, _ elementSize: Int) throws -> Int {
        let n = max(0, count)
        guard elementSize == 0 || n <= maxRepeatedElements / elementSize else {
            throw ValueFailure.unsupported("'*' would build more than \(maxRepeatedElements) elements")
        }
        return n
    }

    private static func checked(_ result: (partialValue: Int, overflow: Bool), _ op: String) throws -> TemplateValue {
        if result.overflow { throw ValueFailure.unsupported("integer overflow in '\(op)'") }
        return .int(result.partialValue)
    }

    /// Python `needle in haystack`.
    static func contains(_ haystack: TemplateValue, _ needle: TemplateValue) throws -> Bool {
        switch haystack {
        case .string(let s):
            guard case .string(let n) = needle else {
                throw ValueFailure.runtime("'in <string>' requires string as left operand, not \(needle.typeName)")
            }
            if n.isEmpty { return true }
            return try pySplit(s, n, maxSplit: 1).count > 1
        case .list(let l), .tuple(let l): return l.contains { $0.pyEquals(needle) }
        case .dict(let d):
            switch needle {
            case .list, .dict, .namespace: throw ValueFailure.runtime("unhashable type: '\(needle.typeName)'")
            default: return d[needle] != nil
            }
        case .undefined: return false
        default: throw ValueFailure.runtime("argument of type '\(haystack.typeName)' is not iterable")
        }
    }

    /// A comparison operator of a (possibly chained) comparison.
    static func compare(_ op: String, _ left: TemplateValue, _ right: TemplateValue) throws -> Bool {
        switch op {
        case "==": return left.pyEquals(right)
        case "!=": return !left.pyEquals(right)
        case "in": return try contains(right, left)
        case "not in": return try !contains(right, left)
        default:
            _ = try left.defined()
            _ = try right.defined()
            let result: Bool?
            switch op {
            case "<": result = left.pyLess(right)
            case ">": result = right.pyLess(left)
            case "<=": result = right.pyLess(left).map { !$0 }
            default: result = left.pyLess(right).map { !$0 }
            }
            guard let result else {
                throw ValueFailure.runtime("'\(op)' not supported between instances of '\(left.typeName)' and '\(right.typeName)'")
            }
            return result
        }
    }
}

/// CPython's `float_divmod`: the remainder from `fmod` takes the divisor's sign, and the quotient is
/// corrected so that `2.0 // 0.1` is 19.0 (not the 20.0 of `floor(2.0 / 0.1)`).
func pythonFloatDivMod(_ a: Double, _ b: Double) -> (Double, Double) {
    var mod = fmod(a, b)
    var div = (a - mod) / b
    if mod != 0 {
        if (b < 0) != (mod < 0) {
            mod += b
            div -= 1
        }
    } else {
        mod = b < 0 ? -0.0 : 0.0
    }
    var floorDiv: Double
    if div != 0 {
        floorDiv = div.rounded(.down)
        if div - floorDiv > 0.5 { floorDiv += 1 }
    } else {
        floorDiv = a / b < 0 ? -0.0 : 0.0
    }
    return (floorDiv, mod)
}
