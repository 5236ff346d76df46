// Token <-> id maps shared by the models and the added tokens.
//
// Keys are arrays of Unicode scalars, not `String`s: Swift compares strings by canonical
// equivalence, so "é" and "e\u{301}" would collide, while the reference compares bytes.

/// A token's text as Unicode scalars, compared exactly (code point by code point).
typealias Scalars = [Unicode.Scalar]

extension Array where Element == Unicode.Scalar {
    init(_ string: String) { self = Array(string.unicodeScalars) }

    /// The scalars as a `String`, unchanged (no normalization).
    var string: String {
        var view = String.UnicodeScalarView()
        view.append(contentsOf: self)
        return String(view)
    }
}

/// A model's vocabulary: token text to id and back.
struct Vocabulary: Sendable {
    private(set) var ids: [Scalars: Int] = [:]
    private(set) var tokens: [Int: String] = [:]

    /// Reads `{"token": id, ...}`; ids must be unique.
    init(_ json: JSONReader) throws {
        for (key, value) in try json.members() {
            let id = try value.int()
            guard tokens[id] == nil else { throw value.invalid("a unique id (\(id) is repeated)") }
            ids[Scalars(key)] = id
            tokens[id] = key
        }
    }

    func id(_ token: Scalars) -> Int? { ids[token] }

    var count: Int { tokens.count }
}
