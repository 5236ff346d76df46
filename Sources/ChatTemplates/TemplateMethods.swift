// Attribute and item access, and the Python methods templates call on strings, dicts and lists.
//
// Reference: jinja2 3.1 `Environment.getattr` / `getitem` and `ImmutableSandboxedEnvironment`:
// `x.name` tries the Python attribute first (so `d.items` is the method even if the dict has an "items"
// key), then the item; `x[key]` tries the item first, then the attribute. A miss gives Undefined with
// jinja2's hint ("'dict object' has no attribute 'content'"), while any access on Undefined itself
// fails. The sandbox refuses methods that modify lists and dicts (`append`, `pop`, `update`, ...).
// String methods follow CPython's `str` (`strip(chars)`, `split(sep, maxsplit)`, `title`, ...).

private let dictMethodNames: Set<String> = ["items", "keys", "values", "get", "copy", "pop", "popitem", "update", "setdefault", "clear", "fromkeys"]
private let listMethodNames: Set<String> = ["index", "count", "copy", "append", "extend", "insert", "pop", "remove", "reverse", "sort", "clear"]
private let stringMethodNames: Set<String> = [
    "strip", "lstrip", "rstrip", "startswith", "endswith", "split", "rsplit", "splitlines", "upper", "lower", "title",
    "capitalize", "replace", "join", "count", "find", "rfind", "index", "isdigit", "isalpha", "isalnum", "isspace",
    "islower", "isupper", "swapcase", "casefold", "center", "ljust", "rjust", "zfill", "partition", "rpartition",
    "format", "format_map", "encode", "expandtabs", "removeprefix", "removesuffix", "isnumeric", "isdecimal", "istitle",
]

extension TemplateValue {
    /// `value.name` in a template.
    func attribute(_ name: String) throws -> TemplateValue {
        switch self {
        case .undefined(let hint):
            throw ValueFailure.runtime(hint)
        case .dict(let dict):
            if dictMethodNames.contains(name) { return boundMethod(name) }
            return dict[string: name] ?? .undefined(hint: "'dict object' has no attribute '\(name)'")
        case .list, .tuple:
            if listMethodNames.contains(name) { return boundMethod(name) }
        case .string:
            if stringMethodNames.contains(name) { return boundMethod(name) }
        case .namespace(let ns):
            return ns.attributes[string: name] ?? .undefined(hint: "'Namespace' object has no attribute '\(name)'")
        default:
            break
        }
        return .undefined(hint: "'\(jinjaObjectName)' has no attribute '\(name)'")
    }

    /// `value[key]` in a template.
    func item(_ key: TemplateValue) throws -> TemplateValue {
        switch self {
        case .undefined(let hint):
            throw ValueFailure.runtime(hint)
        case .dict(let dict):
            if let value = dict[key] { return value }
        case .list(let items), .tuple(let items):
            if let i = key.integer {
                let index = i < 0 ? items.count + i : i
                if items.indices.contains(index) { return items[index] }
                return .undefined(hint: "list object has no element \(i)")
            }
        case .string(let s):
            if let i = key.integer {
                let scalars = Array(s.unicodeScalars)
                let index = i < 0 ? scalars.count + i : i
                if scalars.indices.contains(index) { return .string(String(scalars[index])) }
                return .undefined(hint: "str object has no element \(i)")
            }
        default:
            break
        }
        if case .string(let name) = key { return try attribute(name) }
        if let i = key.integer { return .undefined(hint: "\(jinjaObjectName) has no element \(i)") }
        return .undefined(hint: "'\(jinjaObjectName)' has no attribute \(key.pyRepr)")
    }

    /// `value[start:stop:step]` with Python's slice rules.
    func slice(_ start: TemplateValue, _ stop: TemplateValue, _ step: TemplateValue) throws -> TemplateValue {
        func bound(_ v: TemplateValue) throws -> Int? {
            switch v {
            case .none, .undefined: return nil
            default:
                guard let i = v.integer else { throw ValueFailure.runtime("slice indices must be integers or None") }
                return i
            }
        }
        let stepValue = try bound(step) ?? 1
        guard stepValue != 0 else { throw ValueFailure.runtime("slice step cannot be zero") }
        func indices(count: Int) throws -> [Int] {
            func clamp(_ i: Int?, _ defaultValue: Int) -> Int {
                guard var i else { return defaultValue }
                if i < 0 { i += count }
                return stepValue > 0 ? min(max(i, 0), count) : min(max(i, -1), count - 1)
            }
            let from = clamp(try bound(start), stepValue > 0 ? 0 : count - 1)
            let to = clamp(try bound(stop), stepValue > 0 ? count : -1)
            return Array(stride(from: from, to: to, by: stepValue))
        }
        switch self {
        case .undefined(let hint): throw ValueFailure.runtime(hint)
        case .list(let items): return .list(try indices(count: items.count).map { items[$0] })
        case .tuple(let items): return .tuple(try indices(count: items.count).map { items[$0] })
        case .string(let s):
            let scalars = Array(s.unicodeScalars)
            return .string(String(String.UnicodeScalarView(try indices(count: scalars.count).map { scalars[$0] })))
        default: throw ValueFailure.runtime("'\(typeName)' object is not subscriptable")
        }
    }

    /// How jinja2 names an object in "has no attribute" hints.
    private var jinjaObjectName: String {
        switch self {
        case .none: return "None"
        case .dict: return "dict object"
        case .list: return "list object"
        case .tuple: return "tuple object"
        case .string: return "str object"
        case .int: return "int object"
        case .float: return "float object"
        case .bool: return "bool object"
        default: return "\(typeName) object"
        }
    }

    private func boundMethod(_ name: String) -> TemplateValue {
        let receiver = self
        return .callable(TemplateCallable(name: name) { args, kwargs in
            let call = Arguments(args, kwargs, function: name)
            switch receiver {
            case .string(let s): return try stringMethod(s, name, call)
            case .dict(let d): return try dictMethod(d, name, call)
            case .list(let l), .tuple(let l): return try listMethod(l, name, call)
            default: throw ValueFailure.unsupported("method '\(name)'")
            }
        })
    }
}

/// Positional and keyword arguments of a call, read by position or name as Python binds them.
struct Arguments {
    let args: [TemplateValue]
    let kwargs: [(String, TemplateValue)]
    let function: String

    init(_ args: [TemplateValue], _ kwargs: [(String, TemplateValue)], function: String) {
        self.args = args
        self.kwargs = kwargs
        self.function = function
    }

    /// The argument at `position` or named `name`; nil when not given.
    func value(_ position: Int, _ name: String) -> TemplateValue? {
        if position < args.count { return args[position] }
        return kwargs.first { $0.0 == name }?.1
    }

    func string(_ position: Int, _ name: String) throws -> String? {
        guard let v = value(position, name) else { return nil }
        switch v {
        case .none: return nil
        case .string(let s): return s
        default: throw ValueFailure.runtime("\(function)(): argument '\(name)' must be a string, not \(v.typeName)")
        }
    }

    func int(_ position: Int, _ name: String) throws -> Int? {
        guard let v = value(position, name) else { return nil }
        if case .none = v { return nil }
        guard let i = v.integer else { throw ValueFailure.runtime("\(function)(): argument '\(name)' must be an integer, not \(v.typeName)") }
        return i
    }

    func bool(_ position: Int, _ name: String, _ defaultValue: Bool) -> Bool {
        value(position, name)?.isTruthy ?? defaultValue
    }

    /// Refuses more positional arguments than `count` and unknown keyword names.
    func check(max count: Int, names: [String] = []) throws {
        if args.count > count { throw ValueFailure.runtime("\(function)() takes at most \(count) arguments (\(args.count) given)") }
        for (key, _) in kwargs where !names.contains(key) {
            throw ValueFailure.runtime("\(function)() got an unexpected keyword argument '\(key)'")
        }
    }
}

private func stringMethod(_ s: String, _ name: String, _ call: Arguments) throws -> TemplateValue {
    switch name {
    case "strip", "lstrip", "rstrip":
        try call.check(max: 1)
        let chars = try call.string(0, "chars")
        return .string(pyStrip(s, chars, leading: name != "rstrip", trailing: name != "lstrip"))
    case "startswith", "endswith":
        try call.check(max: 1)
        guard let arg = call.value(0, "prefix") else { throw ValueFailure.runtime("\(name)() takes at least 1 argument") }
        let candidates: [TemplateValue]
        candidates = arg.elements ?? [arg]
        for candidate in candidates {
            guard case .string(let p) = candidate else { throw ValueFailure.runtime("\(name) first arg must be str or a tuple of str, not \(candidate.typeName)") }
            let hit = name == "startswith" ? s.unicodeScalars.starts(with: p.unicodeScalars)
                : Array(s.unicodeScalars).reversed().starts(with: Array(p.unicodeScalars).reversed())
            if hit { return .bool(true) }
        }
        return .bool(false)
    case "split":
        try call.check(max: 2, names: ["sep", "maxsplit"])
        return .list(try pySplit(s, try call.string(0, "sep"), maxSplit: try call.int(1, "maxsplit") ?? -1).map { .string($0) })
    case "splitlines":
        try call.check(max: 0)
        var lines = pySplitLines(s)
        if lines.last == "" { lines.removeLast() }
        return .list(lines.map { .string($0) })
    case "upper": return .string(pyUpper(s))
    case "lower": return .string(pyLower(s))
    case "title": return .string(pyTitle(s))
    case "capitalize": return .string(pyCapitalize(s))
    case "replace":
        try call.check(max: 3, names: ["count"])
        guard let old = try call.string(0, "old"), let new = try call.string(1, "new") else {
            throw ValueFailure.runtime("replace() takes at least 2 arguments")
        }
        return .string(pyReplace(s, old, new, count: try call.int(2, "count") ?? -1))
    case "join":
        try call.check(max: 1)
        guard let items = call.value(0, "iterable") else { throw ValueFailure.runtime("join() takes exactly one argument") }
        return .string(try items.iterate().map { item -> String in
            guard case .string(let text) = item else { throw ValueFailure.runtime("sequence item: expected str instance, \(item.typeName) found") }
            return text
        }.joined(separator: s))
    case "count", "find":
        try call.check(max: 1)
        guard let sub = try call.string(0, "sub") else { throw ValueFailure.runtime("\(name)() takes at least 1 argument") }
        let parts = try pySplit(s, sub.isEmpty ? nil : sub, maxSplit: -1)
        if name == "count" { return .int(sub.isEmpty ? s.unicodeScalars.count + 1 : parts.count - 1) }
        if sub.isEmpty { return .int(0) }
        return .int(parts.count > 1 ? parts[0].unicodeScalars.count : -1)
    case "isdigit": return .bool(!s.isEmpty && s.unicodeScalars.allSatisfy { $0.properties.numericType == .decimal || $0.properties.numericType == .digit })
    case "isalpha": return .bool(!s.isEmpty && s.unicodeScalars.allSatisfy { $0.properties.isAlphabetic })
    case "isspace": return .bool(!s.isEmpty && s.unicodeScalars.allSatisfy(isPythonSpace))
    case "removeprefix":
        guard let p = try call.string(0, "prefix") else { throw ValueFailure.runtime("removeprefix() takes exactly one argument") }
        return .string(s.unicodeScalars.starts(with: p.unicodeScalars) ? String(String.UnicodeScalarView(s.unicodeScalars.dropFirst(p.unicodeScalars.count))) : s)
    default:
        throw ValueFailure.unsupported("the string method '\(name)' is not supported")
    }
}

private func dictMethod(_ d: TemplateDict, _ name: String, _ call: Arguments) throws -> TemplateValue {
    switch name {
    case "items": return .list(d.entries.map { .tuple([$0.key, $0.value]) })
    case "keys": return .list(d.keys)
    case "values": return .list(d.entries.map(\.value))
    case "get":
        try call.check(max: 2)
        guard let key = call.value(0, "key") else { throw ValueFailure.runtime("get expected at least 1 argument") }
        return d[key] ?? call.value(1, "default") ?? .none
    case "copy": return .dict(d)
    default: throw ValueFailure.runtime("access to attribute '\(name)' of 'dict' object is unsafe.")
    }
}

private func listMethod(_ l: [TemplateValue], _ name: String, _ call: Arguments) throws -> TemplateValue {
    switch name {
    case "index":
        guard let x = call.value(0, "value"), let i = l.firstIndex(where: { $0.pyEquals(x) }) else {
            throw ValueFailure.runtime("list.index(x): x not in list")
        }
        return .int(i)
    case "count":
        guard let x = call.value(0, "value") else { throw ValueFailure.runtime("count() takes exactly one argument") }
        return .int(l.filter { $0.pyEquals(x) }.count)
    case "copy": return .list(l)
    default: throw ValueFailure.runtime("access to attribute '\(name)' of 'list' object is unsafe.")
    }
}
