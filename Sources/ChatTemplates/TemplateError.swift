// Errors of the chat template engine: syntax and unsupported features found when a template is parsed,
// runtime failures while rendering, and `raise_exception(...)` calls made by the template itself.
//
// Positions are 1-based line and column (in Unicode scalars) of the template source, with the source line
// as a snippet, so a bad template from a model directory can be fixed without guessing.

/// A position in a template's source.
public struct SourceLocation: Sendable, Equatable, CustomStringConvertible {
    /// 1-based line.
    public let line: Int
    /// 1-based column, counted in Unicode scalars.
    public let column: Int

    public var description: String { "\(line):\(column)" }
}

/// Why a chat template could not be parsed or rendered.
public enum TemplateError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The template is not valid Jinja (as jinja2 would also refuse it).
    case syntax(String, at: SourceLocation, snippet: String)
    /// Valid Jinja that this engine does not implement (a tag, filter, test or method); never rendered
    /// approximately.
    case unsupported(String, at: SourceLocation, snippet: String)
    /// Rendering failed: an undefined value used where jinja2 raises, a type error, a bad argument.
    case runtime(String, at: SourceLocation, snippet: String)
    /// The template called `raise_exception(message)`: the conversation does not fit the template
    /// (for example roles that do not alternate). The server answers 400 with `message`.
    case raised(String)
    /// A model directory's chat template configuration is malformed.
    case invalidConfiguration(String)

    public var description: String {
        switch self {
        case .syntax(let message, let at, let snippet):
            return "template syntax error at \(at): \(message)\n  \(snippet)"
        case .unsupported(let message, let at, let snippet):
            return "unsupported in chat template at \(at): \(message)\n  \(snippet)"
        case .runtime(let message, let at, let snippet):
            return "chat template error at \(at): \(message)\n  \(snippet)"
        case .raised(let message):
            return "chat template raised an exception: \(message)"
        case .invalidConfiguration(let message):
            return "invalid chat template configuration: \(message)"
        }
    }
}

/// Maps scalar offsets of a template source to line, column and the line's text.
struct SourceMap: Sendable {
    let scalars: [Unicode.Scalar]
    /// Offsets at which each line starts.
    private let lineStarts: [Int]

    init(_ scalars: [Unicode.Scalar]) {
        self.scalars = scalars
        var starts = [0]
        for (i, s) in scalars.enumerated() where s == "\n" { starts.append(i + 1) }
        lineStarts = starts
    }

    func location(of offset: Int) -> SourceLocation {
        var low = 0, high = lineStarts.count - 1
        while low < high {
            let mid = (low + high + 1) / 2
            if lineStarts[mid] <= offset { low = mid } else { high = mid - 1 }
        }
        return SourceLocation(line: low + 1, column: offset - lineStarts[low] + 1)
    }

    /// The source line containing `offset`, cut to at most 120 scalars around it.
    func snippet(at offset: Int) -> String {
        let loc = location(of: offset)
        let start = lineStarts[loc.line - 1]
        var end = start
        while end < scalars.count && scalars[end] != "\n" { end += 1 }
        let from = max(start, offset - 60), to = min(end, offset + 60)
        var text = String(String.UnicodeScalarView(scalars[from..<to]))
        if from > start { text = "…" + text }
        if to < end { text += "…" }
        return text
    }

    func syntax(_ message: String, at offset: Int) -> TemplateError {
        .syntax(message, at: location(of: offset), snippet: snippet(at: offset))
    }

    func unsupported(_ message: String, at offset: Int) -> TemplateError {
        .unsupported(message, at: location(of: offset), snippet: snippet(at: offset))
    }

    func runtime(_ message: String, at offset: Int) -> TemplateError {
        .runtime(message, at: location(of: offset), snippet: snippet(at: offset))
    }
}
