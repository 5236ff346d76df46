// jinja2's built-in filters and tests that chat templates use, with transformers' `tojson`.
//
// Reference: jinja2 3.1 `filters.py` and `tests.py`; each function below follows the jinja2 function of
// the same name (`do_trim`, `do_title`, `do_indent`, `sync_do_selectattr`, ...), including how it treats
// Undefined (`trim`, `string`, `upper` print it as ""; `length` is 0; `items`, `list`, `join` see no
// items; `tojson` fails). Names not listed here are refused when the template is parsed.
import Foundation

enum TemplateFilters {
    static let filterNames: Set<String> = [
        "abs", "attr", "capitalize", "count", "d", "default", "dictsort", "e", "escape", "first", "float", "int",
        "indent", "items", "join", "last", "length", "list", "lower", "map", "max", "min", "reject", "rejectattr",
        "replace", "reverse", "round", "safe", "select", "selectattr", "sort", "string", "sum", "title", "tojson",
        "trim", "unique", "upper", "wordcount",
    ]

    static let testNames: Set<String> = [
        "boolean", "callable", "defined", "divisibleby", "eq", "equalto", "==", "escaped", "even", "false", "float",
        "ge", ">=", "gt", "greaterthan", ">", "in", "integer", "iterable", "le", "<=", "lower", "lt", "lessthan", "<",
        "mapping", "ne", "!=", "none", "number", "odd", "sameas", "sequence", "string", "true", "undefined", "upper",
        "filter", "test",
    ]

    // MARK: - Filters

    static func apply(_ name: String, to value: TemplateValue, _ call: Arguments) throws -> TemplateValue {
        switch name {
        case "trim":
            try call.check(max: 1, names: ["chars"])
            return .string(pyStrip(value.pyStr, try call.string(0, "chars"), leading: true, trailing: true))
        case "length", "count":
            return .int(try length(of: value))
        case "lower": return .string(pyLower(value.pyStr))
        case "upper": return .string(pyUpper(value.pyStr))
        case "capitalize": return .string(pyCapitalize(value.pyStr))
        case "title": return .string(jinjaTitle(value.pyStr))
        case "string": return .string(value.pyStr)
        case "safe": return value
        case "e", "escape": return .string(htmlEscape(value.pyStr))
        case "replace":
            try call.check(max: 3, names: ["old", "new", "count"])
            guard let old = call.value(0, "old"), let new = call.value(1, "new") else { throw ValueFailure.runtime("replace() needs old and new") }
            return .string(pyReplace(value.pyStr, old.pyStr, new.pyStr, count: try call.int(2, "count") ?? -1))
        case "join":
            try call.check(max: 2, names: ["d", "attribute"])
            let separator = call.value(0, "d")?.pyStr ?? ""
            var items = try value.iterate()
            if let attribute = call.value(1, "attribute") { items = try items.map { try lookup($0, attribute) } }
            return .string(items.map(\.pyStr).joined(separator: separator))
        case "tojson":
            try call.check(max: 4, names: ["ensure_ascii", "indent", "separators", "sort_keys"])
            if call.bool(0, "ensure_ascii", false) { throw ValueFailure.unsupported("tojson(ensure_ascii=True) is not supported") }
            let encoder = try PythonJSONEncoder(indent: call.value(1, "indent") ?? .none, separators: call.value(2, "separators") ?? .none,
                                                sortKeys: call.bool(3, "sort_keys", false))
            return .string(try encoder.encode(value))
        case "default", "d":
            try call.check(max: 2, names: ["default_value", "boolean"])
            let fallback = call.value(0, "default_value") ?? .string("")
            if value.isUndefined || (call.bool(1, "boolean", false) && !value.isTruthy) { return fallback }
            return value
        case "int": return try toInt(try value.defined(), call)
        case "float":
            _ = try value.defined()  // int() and float() of Undefined fail in jinja2
            if let n = value.number { return .float(n) }
            if case .string(let s) = value, let f = Double(pyStrip(s, nil, leading: true, trailing: true)) { return .float(f) }
            return call.value(0, "default") ?? .float(0)
        case "abs":
            switch value {
            case .int(let i):
                guard i != .min else { throw ValueFailure.unsupported("integer overflow in abs") }
                return .int(Swift.abs(i))
            case .bool(let b): return .int(b ? 1 : 0)
            case .float(let f): return .float(Swift.abs(f))
            default: throw ValueFailure.runtime("bad operand type for abs(): '\(value.typeName)'")
            }
        case "round":
            try call.check(max: 2, names: ["precision", "method"])
            guard let n = try value.defined().number else { throw ValueFailure.runtime("type \(value.typeName) doesn't define __round__ method") }
            let precision = try call.int(0, "precision") ?? 0
            let method = try call.string(1, "method") ?? "common"
            // Python's round() of an int (or bool) is an int; math.floor/ceil over 10**precision give floats.
            if method == "common", let i = value.integer, precision >= 0 { return .int(i) }
            let scale = pow(10.0, Double(precision))
            let rule: FloatingPointRoundingRule
            switch method {
            case "common": rule = .toNearestOrEven  // Python round(): half to even
            case "ceil": rule = .up
            case "floor": rule = .down
            default: throw ValueFailure.runtime("method must be common, ceil or floor")
            }
            return .float((n * scale).rounded(rule) / scale)
        case "first":
            return try value.iterate().first ?? .undefined(hint: "No first item, sequence was empty.")
        case "last":
            return try value.iterate().last ?? .undefined(hint: "No last item, sequence was empty.")
        case "list": return .list(try value.iterate())
        case "reverse":
            if case .string(let s) = value { return .string(String(String.UnicodeScalarView(s.unicodeScalars.reversed()))) }
            return .list(try value.iterate().reversed())
        case "items":
            switch value {
            case .undefined: return .list([])
            case .dict(let d): return .list(d.entries.map { .tuple([$0.key, $0.value]) })
            default: throw ValueFailure.runtime("Can only get item pairs from a mapping.")
            }
        case "dictsort":
            try call.check(max: 3, names: ["case_sensitive", "by", "reverse"])
            guard case .dict(let d) = value else { throw ValueFailure.runtime("dictsort: expected a mapping") }
            let caseSensitive = call.bool(0, "case_sensitive", false)
            let byValue = (try call.string(1, "by") ?? "key") == "value"
            var pairs = d.entries
            try stableSort(&pairs, reverse: call.bool(2, "reverse", false)) { sortKey(byValue ? $0.value : $0.key, caseSensitive) }
            return .list(pairs.map { .tuple([$0.key, $0.value]) })
        case "sort":
            try call.check(max: 3, names: ["reverse", "case_sensitive", "attribute"])
            var items = try value.iterate()
            let caseSensitive = call.bool(1, "case_sensitive", false)
            let attribute = call.value(2, "attribute")
            try stableSort(&items, reverse: call.bool(0, "reverse", false)) { item in
                sortKey(try attribute.map { try lookup(item, $0) } ?? item, caseSensitive)
            }
            return .list(items)
        case "unique":
            try call.check(max: 2, names: ["case_sensitive", "attribute"])
            let caseSensitive = call.bool(0, "case_sensitive", false)
            let attribute = call.value(1, "attribute")
            var seen: [TemplateValue] = []
            var out: [TemplateValue] = []
            for item in try value.iterate() {
                let key = sortKey(try attribute.map { try lookup(item, $0) } ?? item, caseSensitive)
                switch key {
                case .list, .dict, .namespace: throw ValueFailure.runtime("unhashable type: '\(key.typeName)'")
                default: break
                }
                if !seen.contains(where: { $0.pyEquals(key) }) {
                    seen.append(key)
                    out.append(item)
                }
            }
            return .list(out)
        case "select", "reject", "selectattr", "rejectattr":
            // jinja2 iterates only a truthy value (`if value: for item in value`), so None selects nothing.
            return .list(value.isTruthy ? try selectOrReject(name, value, call) : [])
        case "map":
            return .list(value.isTruthy ? try map(value, call) : [])
        case "attr":
            guard let attribute = try call.string(0, "name") else { throw ValueFailure.runtime("attr() needs a name") }
            return try value.attribute(attribute)
        case "indent":
            return .string(try indent(value.pyStr, call))
        case "sum":
            try call.check(max: 2, names: ["attribute", "start"])
            var total = call.value(1, "start") ?? .int(0)
            for item in try value.iterate() {
                total = try TemplateOperators.binary("+", total, try call.value(0, "attribute").map { try lookup(item, $0) } ?? item)
            }
            return total
        case "min", "max":
            try call.check(max: 2, names: ["case_sensitive", "attribute"])
            let caseSensitive = call.bool(0, "case_sensitive", false)
            let attribute = call.value(1, "attribute")
            var best: (TemplateValue, TemplateValue)? = nil
            for item in try value.iterate() {
                let key = sortKey(try attribute.map { try lookup(item, $0) } ?? item, caseSensitive)
                guard let current = best else {
                    best = (key, item)
                    continue
                }
                guard let less = (name == "min" ? key.pyLess(current.0) : current.0.pyLess(key)) else {
                    throw ValueFailure.runtime("'<' not supported between instances of '\(key.typeName)' and '\(current.0.typeName)'")
                }
                if less { best = (key, item) }
            }
            return best?.1 ?? .undefined(hint: "No aggregated item, sequence was empty.")
        case "wordcount":
            return .int(try pySplit(value.pyStr, nil, maxSplit: -1).count)
        default:
            throw ValueFailure.unsupported("no filter named '\(name)'")
        }
    }

    static func length(of value: TemplateValue) throws -> Int {
        switch value {
        case .undefined: return 0
        case .string(let s): return s.unicodeScalars.count
        case .list(let l), .tuple(let l): return l.count
        case .dict(let d): return d.count
        default: throw ValueFailure.runtime("object of type '\(value.typeName)' has no len()")
        }
    }

    /// jinja2's attribute getter for `attribute=` arguments: dotted paths, each part by item then
    /// attribute; integer parts index lists.
    static func lookup(_ item: TemplateValue, _ attribute: TemplateValue) throws -> TemplateValue {
        if case .int = attribute { return try item.item(attribute) }
        var current = item
        for part in attribute.pyStr.split(separator: ".", omittingEmptySubsequences: false) {
            let key: TemplateValue = Int(part).map { .int($0) } ?? .string(String(part))
            current = try current.item(key)
        }
        return current
    }

    private static func sortKey(_ value: TemplateValue, _ caseSensitive: Bool) -> TemplateValue {
        if !caseSensitive, case .string(let s) = value { return .string(pyLower(s)) }
        return value
    }

    /// A stable sort by Python ordering; fails as Python does on unorderable types.
    private static func stableSort<T>(_ items: inout [T], reverse: Bool, key: (T) throws -> TemplateValue) throws {
        let keyed = try items.enumerated().map { (offset: $0.offset, key: try key($0.element), item: $0.element) }
        var failure: ValueFailure? = nil
        let sorted = keyed.sorted { a, b in
            let (x, y) = reverse ? (b.key, a.key) : (a.key, b.key)
            guard let less = x.pyLess(y) else {
                failure = .runtime("'<' not supported between instances of '\(x.typeName)' and '\(y.typeName)'")
                return false
            }
            if less { return true }
            if let greater = y.pyLess(x), greater { return false }
            return a.offset < b.offset
        }
        if let failure { throw failure }
        items = sorted.map(\.item)
    }

    private static func toInt(_ value: TemplateValue, _ call: Arguments) throws -> TemplateValue {
        let fallback = call.value(0, "default") ?? .int(0)
        switch value {
        case .int, .bool: return .int(value.integer!)
        case .float(let f):
            guard f.isFinite else { return fallback }
            return .int(try exactInt(f))
        case .string(let s):
            let base = try call.int(1, "base") ?? 10
            let text = pyStrip(s, nil, leading: true, trailing: true).replacingOccurrences(of: "_", with: "")
            if let i = Int(text, radix: base) { return .int(i) }
            if let f = Double(text), f.isFinite { return .int(try exactInt(f)) }
            return fallback
        default: return fallback
        }
    }

    /// Python's `int(float)`, refused beyond 64 bits (Python would give a big integer).
    private static func exactInt(_ f: Double) throws -> Int {
        guard let i = Int(exactly: f.rounded(.towardZero)) else { throw ValueFailure.unsupported("\(pythonFloatRepr(f)) does not fit a 64-bit integer") }
        return i
    }

    /// jinja2's `do_title`: words start after `-`, whitespace, `(`, `{`, `[` or `<`; first character of each
    /// piece upper case, the rest lower case.
    private static func jinjaTitle(_ s: String) -> String {
        func isSeparator(_ c: Unicode.Scalar) -> Bool { isPythonSpace(c) || "-({[<".unicodeScalars.contains(c) }
        var out = ""
        var piece = String.UnicodeScalarView()
        var pieceIsSeparator: Bool? = nil
        func flush() {
            guard let first = piece.first else { return }
            out += String(first).uppercased() + String(String.UnicodeScalarView(piece.dropFirst())).lowercased()
            piece = String.UnicodeScalarView()
        }
        for c in s.unicodeScalars {
            let sep = isSeparator(c)
            if pieceIsSeparator != nil && pieceIsSeparator != sep { flush() }
            pieceIsSeparator = sep
            piece.append(c)
        }
        flush()
        return out
    }

    private static func htmlEscape(_ s: String) -> String {
        var out = ""
        for c in s.unicodeScalars {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&#34;"
            case "'": out += "&#39;"
            default: out.unicodeScalars.append(c)
            }
        }
        return out
    }

    /// jinja2's `do_indent` (3.1), including its trailing-newline quirk.
    private static func indent(_ text: String, _ call: Arguments) throws -> String {
        try call.check(max: 3, names: ["width", "first", "blank"])
        let indention: String
        switch call.value(0, "width") ?? .int(4) {
        case .string(let s): indention = s
        case let w:
            guard let n = w.integer else { throw ValueFailure.runtime("indent width must be an integer or a string") }
            indention = String(repeating: " ", count: max(0, n))
        }
        var lines = pySplitLines(text + "\n")
        lines.removeLast()
        var result: String
        if call.bool(2, "blank", false) {
            result = lines.joined(separator: "\n" + indention)
        } else {
            result = lines.first ?? ""
            if lines.count > 1 {
                result += "\n" + lines.dropFirst().map { $0.isEmpty ? $0 : indention + $0 }.joined(separator: "\n")
            }
        }
        if call.bool(1, "first", false) { result = indention + result }
        return result
    }

    private static func selectOrReject(_ name: String, _ value: TemplateValue, _ call: Arguments) throws -> [TemplateValue] {
        let byAttribute = name.hasSuffix("attr")
        let keep = name.hasPrefix("select")
        var position = 0
        var attribute: TemplateValue? = nil
        if byAttribute {
            guard let a = call.args.first else { throw ValueFailure.runtime("\(name)() needs an attribute name") }
            attribute = a
            position = 1
        }
        let testName: String? = position < call.args.count ? call.args[position].pyStr : nil
        let testArgs = position + 1 < call.args.count ? Array(call.args[(position + 1)...]) : []
        if let testName, !testNames.contains(testName) { throw ValueFailure.unsupported("no test named '\(testName)'") }
        return try value.iterate().filter { item in
            let subject = try attribute.map { try lookup(item, $0) } ?? item
            let passed = try testName.map { try test($0, subject, testArgs) } ?? subject.isTruthy
            return passed == keep
        }
    }

    private static func map(_ value: TemplateValue, _ call: Arguments) throws -> [TemplateValue] {
        let items = try value.iterate()
        if let attribute = call.kwargs.first(where: { $0.0 == "attribute" })?.1 {
            let fallback = call.kwargs.first { $0.0 == "default" }?.1
            return try items.map { item in
                let v = try lookup(item, attribute)
                if v.isUndefined, let fallback { return fallback }
                return v
            }
        }
        guard let filterName = call.args.first?.pyStr else { throw ValueFailure.runtime("map() needs a filter name or attribute=") }
        guard filterNames.contains(filterName) else { throw ValueFailure.unsupported("no filter named '\(filterName)'") }
        let rest = Arguments(Array(call.args.dropFirst()), call.kwargs, function: filterName)
        return try items.map { try apply(filterName, to: $0, rest) }
    }

    // MARK: - Tests

    /// Tests that take one argument; the others take none (jinja2 raises TypeError for a wrong count).
    private static let oneArgumentTests: Set<String> = [
        "divisibleby", "eq", "equalto", "==", "ne", "!=", "lt", "lessthan", "<", "gt", "greaterthan", ">", "le", "<=",
        "ge", ">=", "in", "sameas",
    ]

    static func test(_ name: String, _ value: TemplateValue, _ args: [TemplateValue]) throws -> Bool {
        let expected = oneArgumentTests.contains(name) ? 1 : 0
        guard args.count == expected else {
            throw ValueFailure.runtime("test_\(name)() takes \(expected + 1) positional argument(s) but \(args.count + 1) were given")
        }
        func argument() throws -> TemplateValue {
            guard let first = args.first else { throw ValueFailure.runtime("test '\(name)' needs an argument") }
            return first
        }
        func ordered(_ less: (TemplateValue, TemplateValue) -> Bool?) throws -> Bool {
            let other = try argument()
            guard let result = less(value, other) else {
                throw ValueFailure.runtime("comparison not supported between instances of '\(value.typeName)' and '\(other.typeName)'")
            }
            return result
        }
        switch name {
        case "defined": return !value.isUndefined
        case "undefined": return value.isUndefined
        case "none": if case .none = value { return true } else { return false }
        case "boolean": if case .bool = value { return true } else { return false }
        case "true": if case .bool(true) = value { return true } else { return false }
        case "false": if case .bool(false) = value { return true } else { return false }
        case "integer": if case .int = value { return true } else { return false }
        case "float": if case .float = value { return true } else { return false }
        case "number": return value.number != nil
        case "string": if case .string = value { return true } else { return false }
        case "mapping": if case .dict = value { return true } else { return false }
        case "iterable", "sequence":
            switch value {
            case .undefined: return true  // Undefined has __iter__, __len__ and __getitem__
            case .string, .list, .tuple, .dict: return true
            default: return false
            }
        case "callable": if case .callable = value { return true } else { return false }
        case "escaped": return false
        case "odd", "even":
            // jinja2: `value % 2 == 1` / `value % 2 == 0` with Python's `%` (so floats work too).
            let remainder = try TemplateOperators.binary("%", value, .int(2))
            return remainder.pyEquals(.int(name == "odd" ? 1 : 0))
        case "divisibleby":
            return try TemplateOperators.binary("%", value, try argument()).pyEquals(.int(0))
        case "eq", "equalto", "==": return value.pyEquals(try argument())
        case "ne", "!=": return !value.pyEquals(try argument())
        case "lt", "lessthan", "<": return try ordered { $0.pyLess($1) }
        case "gt", "greaterthan", ">": return try ordered { $1.pyLess($0) }
        case "le", "<=": return try ordered { a, b in b.pyLess(a).map { !$0 } }
        case "ge", ">=": return try ordered { a, b in a.pyLess(b).map { !$0 } }
        case "in": return try TemplateOperators.contains(try argument(), value)
        case "lower": return pyIsCase(value.pyStr, lower: true)
        case "upper": return pyIsCase(value.pyStr, lower: false)
        case "sameas":
            let other = try argument()
            switch (value, other) {
            case (.none, .none): return true
            case (.bool(let a), .bool(let b)): return a == b
            case (.namespace(let a), .namespace(let b)): return a === b
            default: return false
            }
        case "filter": return filterNames.contains(value.pyStr)
        case "test": return testNames.contains(value.pyStr)
        default: throw ValueFailure.unsupported("no test named '\(name)'")
        }
    }
}
