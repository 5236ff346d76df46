// Which adapters a request runs on, with what weight: none (the base), one as trained, one scaled,
// or several composed. /infer reads `adapter` (+ `scale`) or `adapters`; the /v1 routes read the
// `adapters` extension field beside `model`.
import Formats
import HTTP

/// The adapters of one request, in the order given.
struct AdapterSelection: Equatable {
    struct Part: Equatable {
        var id: String
        var scale: Float
    }

    var parts: [Part]

    static let base = AdapterSelection(parts: [])
    static let maxParts = 8

    init(parts: [Part]) { self.parts = parts }

    init(id: String?) { parts = id.map { [Part(id: $0, scale: 1)] } ?? [] }

    /// The one adapter as trained (nil for the base or anything composed or scaled).
    var plainAdapter: String? { parts.count == 1 && parts[0].scale == 1 ? parts[0].id : nil }

    /// What responses and metrics call it: the ids joined by "+", nil for the base.
    var label: String? { parts.isEmpty ? nil : parts.map(\.id).joined(separator: "+") }

    /// `adapters: [{"id", "scale"}]`, or `adapter` with an optional `scale` when `single` is given.
    static func parse(_ body: JSONBody, single: String?) throws -> AdapterSelection {
        let list = body.object["adapters"].flatMap { $0.isNull ? nil : $0 }
        if let list {
            guard single == nil else {
                throw HTTPError.badRequest("give either adapter or adapters, not both", code: "invalid_field")
            }
            guard let items = list.arrayValue, !items.isEmpty, items.count <= maxParts else {
                throw HTTPError.badRequest("field adapters must be a list of 1 to \(maxParts) objects {\"id\", \"scale\"}", code: "invalid_field")
            }
            let parts = try items.enumerated().map { index, item -> Part in
                guard let object = item.objectValue else {
                    throw HTTPError.badRequest("field adapters[\(index)] must be an object {\"id\", \"scale\"}", code: "invalid_field")
                }
                for key in object.keys where key != "id" && key != "scale" {
                    throw HTTPError.badRequest("unknown field adapters[\(index)].\(key); expected id and scale", code: "invalid_field")
                }
                guard let id = object["id"]?.stringValue else {
                    throw HTTPError.badRequest("field adapters[\(index)].id must be a string", code: "invalid_field")
                }
                return Part(id: id, scale: try scale(object["scale"], field: "adapters[\(index)].scale"))
            }
            if let repeated = parts.map(\.id).firstRepeated {
                throw HTTPError.badRequest("adapter \(repeated) appears twice in adapters", code: "invalid_field")
            }
            return AdapterSelection(parts: parts)
        }
        let scaleValue = body.object["scale"].flatMap { $0.isNull ? nil : $0 }
        guard let single else {
            if scaleValue != nil { throw HTTPError.badRequest("field scale needs an adapter", code: "invalid_field") }
            return .base
        }
        return AdapterSelection(parts: [Part(id: single, scale: try scale(scaleValue, field: "scale"))])
    }

    private static func scale(_ value: JSONValue?, field: String) throws -> Float {
        guard let value, !value.isNull else { return 1 }
        guard let number = value.numberValue?.doubleValue, number.isFinite, abs(number) <= 100 else {
            throw HTTPError.badRequest("field \(field) must be a number in -100...100", code: "invalid_field")
        }
        return Float(number)
    }
}

private extension Array where Element: Hashable {
    var firstRepeated: Element? {
        var seen = Set<Element>()
        return first { !seen.insert($0).inserted }
    }
}
