// The `tojson` filter as transformers defines it: Python's `json.dumps(x, ensure_ascii=False,
// indent=indent, separators=separators, sort_keys=sort_keys)` (not jinja2's HTML-escaping default).
//
// Reference: transformers `utils/chat_template_utils.py` (`tojson`) and CPython `json.encoder`:
// default separators are `(', ', ': ')` without indent and `(',', ': ')` with it; an integer indent is
// that many spaces, a string indent is used as is; empty containers print as `[]` / `{}`; floats use
// `float.__repr__` (`NaN`, `Infinity` for the non-finite); strings escape `"`, `\`, `\n`, `\r`, `\t`,
// `\b`, `\f` and other control characters as `\u00xx`, everything else raw (ensure_ascii=False);
// non-string keys become strings (`true`, `1`, `null`).

struct PythonJSONEncoder {
    var indent: String? = nil
    var itemSeparator = ", "
    var keySeparator = ": "
    var sortKeys = false

    init(indent: TemplateValue, separators: TemplateValue, sortKeys: Bool) throws {
        switch indent {
        case .none, .undefined: self.indent = nil
        case .int(let n): self.indent = String(repeating: " ", count: max(0, n))
        case .string(let s): self.indent = s
        default: throw ValueFailure.runtime("tojson: indent must be an integer or a string")
        }
        if self.indent != nil { itemSeparator = "," }
        switch separators {
        case .none, .undefined: break
        case .list(let pair) where pair.count == 2, .tuple(let pair) where pair.count == 2:
            guard case .string(let item) = pair[0], case .string(let key) = pair[1] else { fallthrough }
            itemSeparator = item
            keySeparator = key
        default: throw ValueFailure.runtime("tojson: separators must be a pair of strings")
        }
        self.sortKeys = sortKeys
    }

    func encode(_ value: TemplateValue) throws -> String {
        var out = ""
        try write(value, depth: 0, to: &out)
        return out
    }

    private func newline(_ depth: Int, _ out: inout String) {
        guard let indent else { return }
        out += "\n" + String(repeating: indent, count: depth)
    }

    private func write(_ value: TemplateValue, depth: Int, to out: inout String) throws {
        switch value {
        case .none: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .int(let i): out += String(i)
        case .float(let f):
            if f.isNaN { out += "NaN" } else if f.isInfinite { out += f < 0 ? "-Infinity" : "Infinity" } else { out += pythonFloatRepr(f) }
        case .string(let s): PythonJSONEncoder.writeString(s, to: &out)
        case .list(let items), .tuple(let items):
            if items.isEmpty {
                out += "[]"
                return
            }
            out += "["
            for (i, item) in items.enumerated() {
                if i > 0 { out += itemSeparator }
                newline(depth + 1, &out)
                try write(item, depth: depth + 1, to: &out)
            }
            newline(depth, &out)
            out += "]"
        case .dict(let dict):
            if dict.count == 0 {
                out += "{}"
                return
            }
            var entries = try dict.entries.map { (key: try PythonJSONEncoder.keyString($0.key), value: $0.value) }
            if sortKeys {
                entries.sort { $0.key.unicodeScalars.lexicographicallyPrecedes($1.key.unicodeScalars) { $0.value < $1.value } }
            }
            out += "{"
            for (i, entry) in entries.enumerated() {
                if i > 0 { out += itemSeparator }
                newline(depth + 1, &out)
                PythonJSONEncoder.writeString(entry.key, to: &out)
                out += keySeparator
                try write(entry.value, depth: depth + 1, to: &out)
            }
            newline(depth, &out)
            out += "}"
        case .undefined, .namespace, .callable:
            throw ValueFailure.runtime("Object of type \(value.typeName) is not JSON serializable")
        }
    }

    private static func keyString(_ key: TemplateValue) throws -> String {
        switch key {
        case .string(let s): return s
        case .none: return "null"
        case .bool(let b): return b ? "true" : "false"
        case .int(let i): return String(i)
        case .float(let f): return pythonFloatRepr(f)
        default: throw ValueFailure.runtime("keys must be str, int, float, bool or None, not \(key.typeName)")
        }
    }

    static func writeString(_ s: String, to out: inout String) {
        var view = String.UnicodeScalarView()
        view.append("\"")
        for c in s.unicodeScalars {
            switch c {
            case "\"": view.append(contentsOf: "\\\"".unicodeScalars)
            case "\\": view.append(contentsOf: "\\\\".unicodeScalars)
            case "\n": view.append(contentsOf: "\\n".unicodeScalars)
            case "\r": view.append(contentsOf: "\\r".unicodeScalars)
            case "\t": view.append(contentsOf: "\\t".unicodeScalars)
            case "\u{08}": view.append(contentsOf: "\\b".unicodeScalars)
            case "\u{0C}": view.append(contentsOf: "\\f".unicodeScalars)
            default:
                if c.value < 0x20 {
                    let hex = String(c.value, radix: 16)
                    view.append(contentsOf: ("\\u" + String(repeating: "0", count: 4 - hex.count) + hex).unicodeScalars)
                } else {
                    view.append(c)
                }
            }
        }
        view.append("\"")
        out += String(view)
    }
}
