// CPython's `str` operations on Swift strings, by Unicode scalar (Python's unit of string indexing):
// strip with a character set, split with and without a separator, replace with a count, title,
// capitalize, splitlines. Used by the string methods and the filters.

func pyStrip(_ s: String, _ chars: String?, leading: Bool, trailing: Bool) -> String {
    let set = chars.map { Set($0.unicodeScalars) }
    func strip(_ c: Unicode.Scalar) -> Bool { set?.contains(c) ?? isPythonSpace(c) }
    let scalars = Array(s.unicodeScalars)
    var from = 0, to = scalars.count
    if leading { while from < to && strip(scalars[from]) { from += 1 } }
    if trailing { while to > from && strip(scalars[to - 1]) { to -= 1 } }
    return String(String.UnicodeScalarView(scalars[from..<to]))
}

/// Python's `str.split(sep, maxsplit)`.
func pySplit(_ s: String, _ separator: String?, maxSplit: Int) throws -> [String] {
    let scalars = Array(s.unicodeScalars)
    var parts: [String] = []
    func text(_ r: Range<Int>) -> String { String(String.UnicodeScalarView(scalars[r])) }
    guard let separator else {
        var i = 0
        while true {
            while i < scalars.count && isPythonSpace(scalars[i]) { i += 1 }
            if i >= scalars.count { break }
            if maxSplit >= 0 && parts.count == maxSplit {
                var end = scalars.count
                while end > i && isPythonSpace(scalars[end - 1]) { end -= 1 }
                parts.append(text(i..<end))
                break
            }
            let start = i
            while i < scalars.count && !isPythonSpace(scalars[i]) { i += 1 }
            parts.append(text(start..<i))
        }
        return parts
    }
    let sep = Array(separator.unicodeScalars)
    guard !sep.isEmpty else { throw ValueFailure.runtime("empty separator") }
    var start = 0, i = 0
    while i + sep.count <= scalars.count {
        if (maxSplit < 0 || parts.count < maxSplit) && Array(scalars[i..<i + sep.count]) == sep {
            parts.append(text(start..<i))
            i += sep.count
            start = i
        } else {
            i += 1
        }
    }
    parts.append(text(start..<scalars.count))
    return parts
}

/// Python's `str.replace(old, new, count)`.
func pyReplace(_ s: String, _ old: String, _ new: String, count: Int) -> String {
    let scalars = Array(s.unicodeScalars), pattern = Array(old.unicodeScalars)
    var out = String.UnicodeScalarView()
    var done = 0, i = 0
    if pattern.isEmpty {
        for c in scalars {
            if count < 0 || done < count {
                out.append(contentsOf: new.unicodeScalars)
                done += 1
            }
            out.append(c)
        }
        if count < 0 || done < count { out.append(contentsOf: new.unicodeScalars) }
        return String(out)
    }
    while i < scalars.count {
        if (count < 0 || done < count) && i + pattern.count <= scalars.count && Array(scalars[i..<i + pattern.count]) == pattern {
            out.append(contentsOf: new.unicodeScalars)
            i += pattern.count
            done += 1
        } else {
            out.append(scalars[i])
            i += 1
        }
    }
    return String(out)
}

func pyLower(_ s: String) -> String { s.lowercased() }
func pyUpper(_ s: String) -> String { s.uppercased() }

/// Python's `str.capitalize()`: first character upper case, the rest lower case.
func pyCapitalize(_ s: String) -> String {
    guard let first = s.unicodeScalars.first else { return s }
    return String(first).uppercased() + String(String.UnicodeScalarView(s.unicodeScalars.dropFirst())).lowercased()
}

/// Python's `str.title()`: a cased character after an uncased one starts a word.
func pyTitle(_ s: String) -> String {
    var out = ""
    var previousCased = false
    for c in s.unicodeScalars {
        let cased = c.properties.isCased
        out += previousCased ? String(c).lowercased() : String(c).uppercased()
        previousCased = cased
    }
    return out
}

/// Python's `str.splitlines()` on `\n`, `\r\n` and `\r` (with a trailing empty part when the text ends
/// in a newline, which callers drop).
func pySplitLines(_ s: String) -> [String] {
    var lines: [String] = []
    var current = String.UnicodeScalarView()
    var previousCR = false
    for c in s.unicodeScalars {
        if c == "\n" && previousCR {
            previousCR = false
            continue
        }
        previousCR = c == "\r"
        if c == "\n" || c == "\r" || c == "\u{0B}" || c == "\u{0C}" || c == "\u{1C}" || c == "\u{1D}" || c == "\u{1E}"
            || c == "\u{85}" || c == "\u{2028}" || c == "\u{2029}" {
            lines.append(String(current))
            current = String.UnicodeScalarView()
        } else {
            current.append(c)
        }
    }
    lines.append(String(current))
    return lines
}

/// Python's `str.islower()` / `str.isupper()`: at least one cased character, and none of the other case
/// (title case counts as upper for `islower` and as lower for `isupper`).
func pyIsCase(_ s: String, lower: Bool) -> Bool {
    var sawCased = false
    for c in s.unicodeScalars where c.properties.isCased {
        sawCased = true
        let isUpperOrTitle = c.properties.isUppercase || c.properties.generalCategory == .titlecaseLetter
        let isLowerOrTitle = c.properties.isLowercase || c.properties.generalCategory == .titlecaseLetter
        if lower ? isUpperOrTitle : isLowerOrTitle { return false }
    }
    return sawCased
}
