// Splits a Jinja template into text and tag tokens, with jinja2's whitespace handling as transformers
// configures it: `trim_blocks=True`, `lstrip_blocks=True`, `keep_trailing_newline=False`.
//
// Reference: jinja2 3.1 `lexer.py` (`Lexer.tokeniter` and its rules). Mirrored exactly:
// - newlines in the source (`\r\n`, `\r`, `\n`) become `\n`, and one trailing newline is dropped;
// - `{%-`, `{{-`, `{#-` strip all whitespace (Python `str.rstrip`) before the tag; `-%}`, `-}}`, `-#}`
//   strip all whitespace after it;
// - lstrip_blocks: before `{%` or `{#` without `+`/`-`, spaces and tabs from the start of the line are
//   removed when nothing else precedes the tag on that line ("start of line" also holds after a token
//   whose text ended in a newline, as jinja2's `line_starting`);
// - trim_blocks: one newline directly after `%}` or `#}` is removed; `+%}` keeps it;
// - inside tags, `}}` and `%}` end the tag only when brackets are balanced (`{{ {'a': 1}}}`).
// Comments are dropped here. Positions are offsets in Unicode scalars (Python's string indexing).

enum TokenKind: Equatable {
    case text(String)
    case variableBegin, variableEnd, blockBegin, blockEnd
    case name(String)
    case string(String)
    case integer(Int)
    case float(Double)
    case op(String)
    case end
}

struct Token {
    let kind: TokenKind
    /// Offset in Unicode scalars of the normalized source.
    let offset: Int
}

/// Python's `str.isspace` for one scalar (what `\s`, `strip()` and `rstrip()` use).
func isPythonSpace(_ s: Unicode.Scalar) -> Bool {
    switch s.value {
    case 0x09...0x0D, 0x1C...0x20, 0x85, 0xA0, 0x1680, 0x2000...0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000:
        return true
    default:
        return false
    }
}

struct TemplateLexer {
    /// The normalized source: newlines unified, one trailing newline removed.
    let source: [Unicode.Scalar]
    let map: SourceMap
    private var pos = 0
    private var tokens: [Token] = []
    private var lineStarting = true

    init(_ text: String) {
        var scalars: [Unicode.Scalar] = []
        scalars.reserveCapacity(text.unicodeScalars.count)
        var previousCR = false
        for s in text.unicodeScalars {
            if s == "\r" {
                scalars.append("\n")
                previousCR = true
                continue
            }
            if s == "\n" && previousCR {
                previousCR = false
                continue
            }
            previousCR = false
            scalars.append(s)
        }
        if scalars.last == "\n" { scalars.removeLast() }
        source = scalars
        map = SourceMap(scalars)
    }

    mutating func tokenize() throws -> [Token] {
        while pos < source.count {
            guard let tagStart = nextTagStart(from: pos) else {
                emitText(from: pos, to: source.count)
                pos = source.count
                break
            }
            let opener = source[tagStart + 1]
            var after = tagStart + 2
            var sign: Unicode.Scalar? = nil
            if after < source.count, source[after] == "-" || source[after] == "+" {
                sign = source[after]
                after += 1
            }
            var textEnd = tagStart
            if sign == "-" {
                while textEnd > pos && isPythonSpace(source[textEnd - 1]) { textEnd -= 1 }
            } else if sign != "+" && opener != "{" {
                var lineStart = textEnd
                while lineStart > pos && source[lineStart - 1] != "\n" { lineStart -= 1 }
                let atLineStart = lineStart > pos || lineStarting
                if atLineStart && lineStart < textEnd && source[lineStart..<textEnd].allSatisfy(isPythonSpace) {
                    textEnd = lineStart
                }
            }
            emitText(from: pos, to: textEnd)
            pos = after
            if opener == "#" {
                try skipComment(openedAt: tagStart)
            } else {
                tokens.append(Token(kind: opener == "{" ? .variableBegin : .blockBegin, offset: tagStart))
                lineStarting = false
                try lexTag(isBlock: opener == "%", openedAt: tagStart)
            }
        }
        tokens.append(Token(kind: .end, offset: source.count))
        return tokens
    }

    private func nextTagStart(from start: Int) -> Int? {
        var i = start
        while i + 1 < source.count {
            if source[i] == "{" {
                let next = source[i + 1]
                if next == "{" || next == "%" || next == "#" { return i }
            }
            i += 1
        }
        return nil
    }

    private mutating func emitText(from: Int, to: Int) {
        guard to > from else { return }
        tokens.append(Token(kind: .text(String(String.UnicodeScalarView(source[from..<to]))), offset: from))
    }

    private func starts(with text: String, at index: Int) -> Bool {
        var i = index
        for s in text.unicodeScalars {
            guard i < source.count, source[i] == s else { return false }
            i += 1
        }
        return true
    }

    /// Consumes a closing delimiter at `pos` with its whitespace control, updating `lineStarting`.
    private mutating func closeTag(_ closer: String, trimNewline: Bool) -> Bool {
        let start = pos
        if starts(with: "-" + closer, at: pos) {
            pos += closer.unicodeScalars.count + 1
            while pos < source.count && isPythonSpace(source[pos]) { pos += 1 }
        } else if trimNewline && starts(with: "+" + closer, at: pos) {
            pos += closer.unicodeScalars.count + 1
        } else if starts(with: closer, at: pos) {
            pos += closer.unicodeScalars.count
            if trimNewline && pos < source.count && source[pos] == "\n" { pos += 1 }
        } else {
            return false
        }
        lineStarting = pos > start && source[pos - 1] == "\n"
        return true
    }

    private mutating func skipComment(openedAt start: Int) throws {
        while pos < source.count {
            if closeTag("#}", trimNewline: true) { return }
            pos += 1
        }
        throw map.syntax("missing end of comment tag", at: start)
    }

    private mutating func lexTag(isBlock: Bool, openedAt start: Int) throws {
        var brackets: [Unicode.Scalar] = []
        while true {
            while pos < source.count && isPythonSpace(source[pos]) { pos += 1 }
            guard pos < source.count else {
                throw map.syntax("unexpected end of template, expected '\(isBlock ? "%}" : "}}")'", at: start)
            }
            if brackets.isEmpty {
                let tokenStart = pos
                if closeTag(isBlock ? "%}" : "}}", trimNewline: isBlock) {
                    tokens.append(Token(kind: isBlock ? .blockEnd : .variableEnd, offset: tokenStart))
                    return
                }
            }
            let c = source[pos]
            let tokenStart = pos
            if c == "'" || c == "\"" {
                tokens.append(Token(kind: .string(try lexString(quote: c)), offset: tokenStart))
            } else if c.properties.numericType == .decimal && c.isASCII {
                tokens.append(Token(kind: lexNumber(), offset: tokenStart))
            } else if c == "_" || c.properties.isAlphabetic {
                while pos < source.count, source[pos] == "_" || source[pos].properties.isAlphabetic
                    || (source[pos].isASCII && source[pos].properties.numericType == .decimal) { pos += 1 }
                tokens.append(Token(kind: .name(String(String.UnicodeScalarView(source[tokenStart..<pos]))), offset: tokenStart))
            } else {
                let op = lexOperator()
                guard let op else { throw map.syntax("unexpected character '\(c)'", at: tokenStart) }
                switch op {
                case "(": brackets.append(")")
                case "[": brackets.append("]")
                case "{": brackets.append("}")
                case ")", "]", "}":
                    guard let expected = brackets.popLast() else { throw map.syntax("unexpected '\(op)'", at: tokenStart) }
                    if String(expected) != op { throw map.syntax("unexpected '\(op)', expected '\(expected)'", at: tokenStart) }
                default: break
                }
                tokens.append(Token(kind: .op(op), offset: tokenStart))
            }
        }
    }

    private mutating func lexOperator() -> String? {
        for op in ["//", "**", "==", "!=", "<=", ">="] where starts(with: op, at: pos) {
            pos += 2
            return op
        }
        let c = source[pos]
        if "+-/*%~[](){}<>=.:|,;".unicodeScalars.contains(c) {
            pos += 1
            return String(c)
        }
        return nil
    }

    private func isDigit(_ i: Int) -> Bool {
        i < source.count && source[i].isASCII && source[i].properties.numericType == .decimal
    }

    /// Digits with `_` separators, as jinja2's `(\d+_)*\d+`.
    private mutating func digits() -> String {
        var text = ""
        while pos < source.count {
            if isDigit(pos) {
                text.unicodeScalars.append(source[pos])
                pos += 1
            } else if source[pos] == "_" && isDigit(pos + 1) && !text.isEmpty {
                pos += 1
            } else {
                break
            }
        }
        return text
    }

    private mutating func lexNumber() -> TokenKind {
        var text = digits()
        var isFloat = false
        if pos < source.count && source[pos] == "." && isDigit(pos + 1) {
            pos += 1
            text += "." + digits()
            isFloat = true
        }
        if pos < source.count && (source[pos] == "e" || source[pos] == "E") {
            var probe = pos + 1
            if probe < source.count && (source[probe] == "+" || source[probe] == "-") { probe += 1 }
            if isDigit(probe) {
                text += "e" + (probe > pos + 1 ? String(source[pos + 1]) : "")
                pos = probe
                text += digits()
                isFloat = true
            }
        }
        if isFloat { return .float(Double(text) ?? .nan) }
        if let value = Int(text) { return .integer(value) }
        return .float(Double(text) ?? .infinity)
    }

    /// A quoted string with Python's escapes decoded (jinja2 decodes literals with "unicode-escape";
    /// unknown escapes such as `\d` stay as written).
    private mutating func lexString(quote: Unicode.Scalar) throws -> String {
        let start = pos
        pos += 1
        var out = String.UnicodeScalarView()
        while pos < source.count {
            let c = source[pos]
            if c == quote {
                pos += 1
                return String(out)
            }
            if c == "\\" && pos + 1 < source.count {
                let e = source[pos + 1]
                pos += 2
                switch e {
                case "n": out.append("\n")
                case "t": out.append("\t")
                case "r": out.append("\r")
                case "\\": out.append("\\")
                case "'": out.append("'")
                case "\"": out.append("\"")
                case "a": out.append("\u{07}")
                case "b": out.append("\u{08}")
                case "f": out.append("\u{0C}")
                case "v": out.append("\u{0B}")
                case "\n": break
                case "x", "u", "U":
                    let count = e == "x" ? 2 : (e == "u" ? 4 : 8)
                    guard pos + count <= source.count,
                          let value = UInt32(String(String.UnicodeScalarView(source[pos..<pos + count])), radix: 16),
                          let scalar = Unicode.Scalar(value)
                    else { throw map.syntax("invalid \\\(e) escape in string", at: pos - 2) }
                    out.append(scalar)
                    pos += count
                case "0"..."7":
                    var value = e.value - 48
                    var n = 1
                    while n < 3, pos < source.count, ("0"..."7").contains(source[pos]) {
                        value = value * 8 + source[pos].value - 48
                        pos += 1
                        n += 1
                    }
                    out.append(Unicode.Scalar(value)!)
                default:
                    out.append("\\")
                    out.append(e)
                }
                continue
            }
            out.append(c)
            pos += 1
        }
        throw map.syntax("unterminated string", at: start)
    }
}
