// Path patterns such as `/v1/adapters/{name}/spectrum`: literal segments match
// exactly, `{param}` segments match any one non-empty segment and capture it
// (percent-decoded).

struct RoutePattern: Sendable, Hashable, CustomStringConvertible {
    enum Segment: Sendable, Hashable {
        case literal(String)
        case parameter(String)
    }

    let segments: [Segment]
    let description: String

    init(_ pattern: String) {
        description = pattern
        segments = pattern.split(separator: "/").map { part in
            if part.hasPrefix("{") && part.hasSuffix("}") && part.count > 2 {
                return .parameter(String(part.dropFirst().dropLast()))
            }
            return .literal(String(part))
        }
    }

    /// More literal segments wins when several patterns match one path.
    var literalCount: Int {
        segments.reduce(0) { if case .literal = $1 { return $0 + 1 } else { return $0 } }
    }

    /// The captured parameters if `path` (already split and decoded) matches.
    func match(_ path: [String]) -> [String: String]? {
        guard path.count == segments.count else { return nil }
        var parameters: [String: String] = [:]
        for (segment, part) in zip(segments, path) {
            switch segment {
            case .literal(let literal): if literal != part { return nil }
            case .parameter(let name): parameters[name] = part
            }
        }
        return parameters
    }
}
