// Runtime values of the template engine with Python's semantics, since jinja2 evaluates templates on
// Python objects: truthiness, `str()` (what `{{ x }}` prints: `None`, `True`, `1.0`, `['a', 1]`),
// `repr()`, `==` across int/float/bool, ordering, and jinja2's default `Undefined` (prints as empty,
// is falsy, iterates as empty, and fails on attribute access, arithmetic and calls).
//
// Reference: Python 3 data model (`float.__repr__`, `str.__repr__`, `bool` as an `int` subclass) and
// jinja2 3.1 `runtime.Undefined`. Tuples (from `(a, b)`, `dict.items()`, `|items`, `|dictsort`) print as
// `(a, b)` and otherwise behave as read-only lists.
import Formats

/// An error raised while evaluating a value, before the interpreter attaches the source position.
enum ValueFailure: Error {
    case runtime(String)
    case unsupported(String)
    case raised(String)
}

/// A dictionary that keeps insertion order, as Python's `dict`. Keys compare with Python's `==`.
struct TemplateDict {
    private(set) var entries: [(key: TemplateValue, value: TemplateValue)] = []

    subscript(key: TemplateValue) -> TemplateValue? {
        get { entries.first { $0.key.pyEquals(key) }?.value }
        set {
            if let i = entries.firstIndex(where: { $0.key.pyEquals(key) }) {
                if let newValue { entries[i].value = newValue } else { entries.remove(at: i) }
            } else if let newValue {
                entries.append((key, newValue))
            }
        }
    }


    var count: Int { entries.count }
    var keys: [TemplateValue] { entries.map(\.key) }
}

/// jinja2's `namespace(...)`: the one mutable object a template can assign attributes on (`set ns.x`).
final class TemplateNamespace {
    var attributes = TemplateDict()
}

/// A function the template can call: globals (`range`, `namespace`, `raise_exception`, ...), methods
/// bound to a value (`text.strip`), and `loop.cycle`.
struct TemplateCallable {
    let name: String
    let body: (_ args: [TemplateValue], _ kwargs: [(String, TemplateValue)]) throws -> TemplateValue
}

/// A value during rendering.
enum TemplateValue {
    /// jinja2's `Undefined`; `hint` is the message jinja2 gives when it is used where it fails.
    case undefined(hint: String)
    case none
    case bool(Bool)
    case int(Int)
    case float(Double)
    case string(String)
    case list([TemplateValue])
    /// A Python tuple: a list that prints as `(a, b)` and never equals a list.
    case tuple([TemplateValue])
    case dict(TemplateDict)
    case namespace(TemplateNamespace)
    case callable(TemplateCallable)

    /// The value a request's JSON becomes: objects keep their member order; integers stay integers.
    init(json: JSONValue) {
        switch json {
        case .null: self = .none
        case .bool(let b): self = .bool(b)
        case .number(let n):
            if n.isInteger, let i = n.intValue { self = .int(i) } else { self = .float(n.doubleValue) }
        case .string(let s): self = .string(s)
        case .array(let a): self = .list(a.map(TemplateValue.init(json:)))
        case .object(let o):
            var dict = TemplateDict()
            for (key, value) in o { dict[.string(key)] = TemplateValue(json: value) }
            self = .dict(dict)
        }
    }

    init(_ literal: Literal) {
        switch literal {
        case .none: self = .none
        case .bool(let b): self = .bool(b)
        case .int(let i): self = .int(i)
        case .float(let f): self = .float(f)
        case .string(let s): self = .string(s)
        }
    }

    /// The elements of a list or tuple.
    var elements: [TemplateValue]? {
        switch self {
        case .list(let l), .tuple(let l): return l
        default: return nil
        }
    }

    var isUndefined: Bool {
        if case .undefined = self { return true }
        return false
    }

    /// Python's type name, for error messages as Python words them.
    var typeName: String {
        switch self {
        case .undefined: return "Undefined"
        case .none: return "NoneType"
        case .bool: return "bool"
        case .int: return "int"
        case .float: return "float"
        case .string: return "str"
        case .list: return "list"
        case .tuple: return "tuple"
        case .dict: return "dict"
        case .namespace: return "Namespace"
        case .callable: return "function"
        }
    }

    /// Fails with jinja2's UndefinedError when the value is undefined; returns it otherwise.
    func defined() throws -> TemplateValue {
        if case .undefined(let hint) = self { throw ValueFailure.runtime(hint) }
        return self
    }

    /// jinja2's `has_safe_repr`: values its optimizer may turn into a constant (None, bool, numbers,
    /// strings, and lists, tuples and dicts of them).
    var hasSafeRepr: Bool {
        switch self {
        case .none, .bool, .int, .float, .string: return true
        case .list(let items), .tuple(let items): return items.allSatisfy(\.hasSafeRepr)
        case .dict(let d): return d.entries.allSatisfy { $0.key.hasSafeRepr && $0.value.hasSafeRepr }
        case .undefined, .namespace, .callable: return false
        }
    }

    /// Python truthiness.
    var isTruthy: Bool {
        switch self {
        case .undefined, .none: return false
        case .bool(let b): return b
        case .int(let i): return i != 0
        case .float(let f): return f != 0
        case .string(let s): return !s.unicodeScalars.isEmpty
        case .list(let l), .tuple(let l): return !l.isEmpty
        case .dict(let d): return d.count > 0
        case .namespace, .callable: return true
        }
    }

    /// The number for arithmetic: bool is an int in Python.
    var number: Double? {
        switch self {
        case .bool(let b): return b ? 1 : 0
        case .int(let i): return Double(i)
        case .float(let f): return f
        default: return nil
        }
    }

    /// The exact integer of an int or bool.
    var integer: Int? {
        switch self {
        case .bool(let b): return b ? 1 : 0
        case .int(let i): return i
        default: return nil
        }
    }

    /// Python `str(value)`; undefined prints as the empty string.
    var pyStr: String {
        switch self {
        case .undefined: return ""
        case .string(let s): return s
        default: return pyRepr
        }
    }

    /// Python `repr(value)`.
    var pyRepr: String {
        switch self {
        case .undefined: return "Undefined"
        case .none: return "None"
        case .bool(let b): return b ? "True" : "False"
        case .int(let i): return String(i)
        case .float(let f): return pythonFloatRepr(f)
        case .string(let s): return pythonStringRepr(s)
        case .list(let l): return "[" + l.map(\.pyRepr).joined(separator: ", ") + "]"
        case .tuple(let l): return "(" + l.map(\.pyRepr).joined(separator: ", ") + (l.count == 1 ? ",)" : ")")
        case .dict(let d): return "{" + d.entries.map { $0.key.pyRepr + ": " + $0.value.pyRepr }.joined(separator: ", ") + "}"
        case .namespace(let n): return "<Namespace " + TemplateValue.dict(n.attributes).pyRepr + ">"
        case .callable(let c): return "<function \(c.name)>"
        }
    }

    /// Python `==`: numbers across int/float/bool, strings by code points, containers element-wise,
    /// dicts regardless of order; undefined equals only undefined.
    func pyEquals(_ other: TemplateValue) -> Bool {
        switch (self, other) {
        case (.undefined, .undefined), (.none, .none): return true
        case (.string(let a), .string(let b)): return a.unicodeScalars.elementsEqual(b.unicodeScalars)
        case (.list(let a), .list(let b)), (.tuple(let a), .tuple(let b)):
            return a.count == b.count && zip(a, b).allSatisfy { $0.pyEquals($1) }
        case (.dict(let a), .dict(let b)):
            return a.count == b.count && a.entries.allSatisfy { entry in b[entry.key].map { $0.pyEquals(entry.value) } ?? false }
        case (.namespace(let a), .namespace(let b)): return a === b
        default:
            if let x = integer, let y = other.integer { return x == y }
            if let x = number, let y = other.number { return x == y }
            return false
        }
    }

    /// Python ordering (`<`); nil when Python raises TypeError for these types.
    func pyLess(_ other: TemplateValue) -> Bool? {
        switch (self, other) {
        case (.string(let a), .string(let b)):
            return a.unicodeScalars.lexicographicallyPrecedes(b.unicodeScalars) { $0.value < $1.value }
        case (.list(let a), .list(let b)), (.tuple(let a), .tuple(let b)):
            for (x, y) in zip(a, b) where !x.pyEquals(y) { return x.pyLess(y) }
            return a.count < b.count
        default:
            if let x = integer, let y = other.integer { return x < y }
            if let x = number, let y = other.number { return x < y }
            return nil
        }
    }

    /// The items of a `for` loop or of filters that iterate: list elements, dict keys, string characters;
    /// undefined iterates as empty.
    func iterate() throws -> [TemplateValue] {
        switch self {
        case .undefined: return []
        case .list(let l), .tuple(let l): return l
        case .dict(let d): return d.keys
        case .string(let s): return s.unicodeScalars.map { .string(String($0)) }
        default: throw ValueFailure.runtime("'\(typeName)' object is not iterable")
        }
    }
}

/// Python's `repr(float)`: the shortest digits that round-trip, fixed notation for decimal exponents
/// -4..<16 and scientific (`1e-05`, `1.5e+16`) otherwise.
func pythonFloatRepr(_ value: Double) -> String {
    if value.isNaN { return "nan" }
    if value.isInfinite { return value < 0 ? "-inf" : "inf" }
    if value == 0 { return value.sign == .minus ? "-0.0" : "0.0" }
    // Swift's description is also the shortest round-trip form; take its digits and exponent.
    var text = Swift.abs(value).description
    var exponent = 0
    if let e = text.firstIndex(where: { $0 == "e" || $0 == "E" }) {
        exponent = Int(text[text.index(after: e)...])!
        text = String(text[..<e])
    }
    let parts = text.split(separator: ".", omittingEmptySubsequences: false)
    let whole = String(parts[0]), fraction = parts.count > 1 ? String(parts[1]) : ""
    var digits = whole + fraction
    var pointPosition = whole.count + exponent  // digits before the decimal point
    while digits.hasPrefix("0") && digits.count > 1 {
        digits.removeFirst()
        pointPosition -= 1
    }
    while digits.hasSuffix("0") && digits.count > 1 { digits.removeLast() }
    let decimalExponent = pointPosition - 1
    let sign = value < 0 ? "-" : ""
    if decimalExponent >= -4 && decimalExponent < 16 {
        if pointPosition <= 0 {
            return sign + "0." + String(repeating: "0", count: -pointPosition) + digits
        }
        if pointPosition >= digits.count {
            return sign + digits + String(repeating: "0", count: pointPosition - digits.count) + ".0"
        }
        let cut = digits.index(digits.startIndex, offsetBy: pointPosition)
        return sign + digits[..<cut] + "." + digits[cut...]
    }
    let mantissa = digits.count > 1 ? String(digits.first!) + "." + digits.dropFirst() : digits
    let expText = String(Swift.abs(decimalExponent))
    return sign + mantissa + "e" + (decimalExponent < 0 ? "-" : "+") + (expText.count < 2 ? "0" + expText : expText)
}

/// Python's `repr(str)`: single quotes unless the text has `'` and no `"`; backslash escapes for the
/// quote, `\\`, `\n`, `\r`, `\t` and other control characters.
func pythonStringRepr(_ text: String) -> String {
    let hasSingle = text.unicodeScalars.contains("'"), hasDouble = text.unicodeScalars.contains("\"")
    let quote: Unicode.Scalar = hasSingle && !hasDouble ? "\"" : "'"
    var out = String.UnicodeScalarView()
    out.append(quote)
    for s in text.unicodeScalars {
        switch s {
        case quote, "\\":
            out.append("\\")
            out.append(s)
        case "\n": out.append(contentsOf: "\\n".unicodeScalars)
        case "\r": out.append(contentsOf: "\\r".unicodeScalars)
        case "\t": out.append(contentsOf: "\\t".unicodeScalars)
        default:
            if s.value < 0x20 || (0x7F...0xA0).contains(s.value) {
                let hex = String(s.value, radix: 16)
                out.append(contentsOf: ("\\x" + (hex.count < 2 ? "0" + hex : hex)).unicodeScalars)
            } else {
                out.append(s)
            }
        }
    }
    out.append(quote)
    return String(out)
}
