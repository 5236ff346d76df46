// The functions a chat template can call without defining them: transformers' `raise_exception`,
// `strftime_now`, `namespace` and `dict`, and jinja2's `range`; plus transformers' aliasing of reasoning
// fields on messages.
//
// Reference: transformers `utils/chat_template_utils.py` (`raise_exception` raises jinja2's
// TemplateError with the message; `strftime_now(format)` is `datetime.now().strftime(format)`, local
// time, C library formatting; `TemplateNamespace` refuses `_`-prefixed names; `_alias_reasoning_fields`),
// jinja2 3.1 `defaults.DEFAULT_NAMESPACE` (`range`).
import Foundation

enum TemplateGlobals {
    static func functions(now: @escaping @Sendable () -> Date, timeZone: TimeZone?) -> [String: TemplateValue] {
        [
            "raise_exception": .callable(TemplateCallable(name: "raise_exception") { args, kwargs in
                throw ValueFailure.raised((args.first ?? kwargs.first?.1 ?? .none).pyStr)
            }),
            "strftime_now": .callable(TemplateCallable(name: "strftime_now") { args, _ in
                guard case .string(let format)? = args.first else { throw ValueFailure.runtime("strftime_now() needs a format string") }
                return .string(strftime(format, now(), in: timeZone))
            }),
            "namespace": .callable(TemplateCallable(name: "namespace") { args, kwargs in
                let ns = TemplateNamespace()
                if let first = args.first {
                    guard case .dict(let d) = first else { throw ValueFailure.runtime("namespace() takes a mapping") }
                    ns.attributes = d
                }
                for (key, value) in kwargs { ns.attributes[.string(key)] = value }
                for key in ns.attributes.keys where key.pyStr.hasPrefix("_") {
                    throw ValueFailure.runtime("Chat templates cannot store underscore-prefixed attributes on a namespace, but got \(key.pyRepr). Please rename the attribute.")
                }
                return .namespace(ns)
            }),
            "dict": .callable(TemplateCallable(name: "dict") { args, kwargs in
                var d = TemplateDict()
                if let first = args.first {
                    guard case .dict(let given) = first else { throw ValueFailure.unsupported("dict() from a non-mapping") }
                    d = given
                }
                for (key, value) in kwargs { d[.string(key)] = value }
                return .dict(d)
            }),
            "range": .callable(TemplateCallable(name: "range") { args, _ in
                let bounds = try args.map { v -> Int in
                    guard let i = v.integer else { throw ValueFailure.runtime("'\(v.typeName)' object cannot be interpreted as an integer") }
                    return i
                }
                let (start, stop, step): (Int, Int, Int)
                switch bounds.count {
                case 1: (start, stop, step) = (0, bounds[0], 1)
                case 2: (start, stop, step) = (bounds[0], bounds[1], 1)
                case 3: (start, stop, step) = (bounds[0], bounds[1], bounds[2])
                default: throw ValueFailure.runtime("range expected 1 to 3 arguments, got \(bounds.count)")
                }
                guard step != 0 else { throw ValueFailure.runtime("range() arg 3 must not be zero") }
                let values = Array(stride(from: start, to: stop, by: step))
                guard values.count <= 100_000 else { throw ValueFailure.runtime("range too big, refused by the sandbox") }
                return .list(values.map { .int($0) })
            }),
        ]
    }

    /// C `strftime` in local time, as Python's `datetime.strftime` calls it.
    /// C's `strftime` of `date` in `zone`, or in the local time zone when `zone` is nil.
    static func strftime(_ format: String, _ date: Date, in zone: TimeZone? = nil) -> String {
        var seconds = time_t(date.timeIntervalSince1970.rounded(.down))
        var parts = tm()
        var buffer = [CChar](repeating: 0, count: 512)
        guard let zone else {
            localtime_r(&seconds, &parts)
            return formatted(&buffer, format, &parts)
        }
        // The zone's wall clock as broken-down UTC, then its offset and name for %z and %Z.
        let offset = zone.secondsFromGMT(for: date)
        var shifted = seconds + time_t(offset)
        gmtime_r(&shifted, &parts)
        parts.tm_gmtoff = offset
        return (zone.abbreviation(for: date) ?? zone.identifier).withCString { name in
            parts.tm_zone = name
            return formatted(&buffer, format, &parts)
        }
    }

    private static func formatted(_ buffer: inout [CChar], _ format: String, _ parts: inout tm) -> String {
        let length = Foundation.strftime(&buffer, buffer.count, format, &parts)
        return String(decoding: buffer[..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// transformers' `_alias_reasoning_fields`: a message with `reasoning_content`, `thinking` or
    /// `reasoning` (the first non-null, in that order) gets it under `thinking` (first key) and
    /// `reasoning_content` too.
    static func aliasReasoning(_ message: TemplateValue) -> TemplateValue {
        guard case .dict(let d) = message else { return message }
        guard let reasoning = ["reasoning_content", "thinking", "reasoning"].lazy.compactMap({ key -> TemplateValue? in
            guard let v = d[string: key] else { return nil }
            if case .none = v { return nil }
            return v
        }).first else { return message }
        var aliased = TemplateDict()
        aliased[string: "thinking"] = reasoning
        for entry in d.entries { aliased[entry.key] = entry.key.pyEquals(.string("thinking")) ? reasoning : entry.value }
        aliased[string: "reasoning_content"] = reasoning
        return .dict(aliased)
    }
}

extension TemplateDict {
    subscript(string key: String) -> TemplateValue? {
        get { self[.string(key)] }
        set { self[.string(key)] = newValue }
    }
}
