// GET /diagnostics/quantization: what quantizing the base loses, per module, and whether an adapter
// lives where the loss is (see Diagnostics/QuantizationLoss.swift).
//
// Which error is measured depends on what the server holds:
// - a base quantized at load (`--quantize`): E = W − dequant(served), W read back from the mapped
//   safetensors files: exactly what the forward pass runs without;
// - a float32 base: E = W − dequant(Q_type(W)) for the `type` asked for (required);
// - a GGUF base holds only quantized weights, so W is unknown; with `type` the route measures what
//   quantizing the served (dequantized) weights again would lose, and without it says why it cannot.
import Adapters
import Diagnostics
import Formats
import Foundation
import HTTP
import LinearAlgebra
import Models

extension Routes {
    /// `GET /diagnostics/quantization[?type=q8_0|q4_0|q4_1][&adapter=ID][&module=REGEX][&top=K]`.
    func quantization(_ request: HTTPRequest) throws -> HTTPResponse {
        for item in request.queryItems where !["type", "adapter", "module", "top"].contains(item.name) {
            throw HTTPError.badRequest("unknown query parameter \(item.name); expected type, adapter, module and top", code: "invalid_field")
        }
        let requested = try request.query("type").map { text -> QuantizationType in
            guard let type = QuantizationType.allCases.first(where: { $0.name.lowercased() == text.lowercased() }), QuantizedMatrix.quantizable.contains(type) else {
                let choices = QuantizedMatrix.quantizable.map { $0.name.lowercased() }.joined(separator: ", ")
                throw HTTPError.badRequest("query parameter type must be one of \(choices), got \(text)", code: "invalid_field")
            }
            return type
        }
        var top = 8
        if let text = request.query("top") {
            guard let k = Int(text), (1...64).contains(k) else {
                throw HTTPError.badRequest("query parameter top must be an integer in 1...64, got \(text)", code: "invalid_field")
            }
            top = k
        }
        let filter = try moduleFilter(request)
        let lease = try request.query("adapter").map { try registry.lease(id: $0, mode: .unmerged) }
        defer { lease?.release() }
        let names = model.linearModules.map(\.name).filter { name in filter.map { $0.search(name) } ?? true }
        let originals = model.originalWeights
        var modules: [ModuleQuantizationError] = []
        for name in names {
            guard let linear = model.linear(named: name) else { throw DiagnosticsError.missingBaseWeight(module: name) }
            let served = linear.quantization
            let type: QuantizationType
            let weight: Matrix, dequantized: Matrix?
            let original = originals?.weight(ofModule: name)
                ?? (name == "lm_head" ? originals?.weight(ofModule: "model.embed_tokens") : nil)
            if let own = served, requested == nil || requested == own, let original {
                (type, weight, dequantized) = (own, original, linear.weight)
            } else if let asked = requested {
                // The float weights when the server has them; on a GGUF base, what quantizing the
                // served weights again loses.
                (type, weight, dequantized) = (asked, original ?? linear.weight, nil)
            } else if let own = served {
                throw HTTPError(.conflict, code: "originals_unavailable",
                                message: "the served weights were read quantized (\(own.name)) from a GGUF file, so the float weights they were made from are not here and their error cannot be measured; serve the Hugging Face safetensors model with --quantize \(own.name.lowercased()) for that, or pass type= to measure what quantizing these weights again would lose")
            } else {
                throw HTTPError.badRequest("the served base is float32; say which block type to measure with type=\(QuantizedMatrix.quantizable.map { $0.name.lowercased() }.joined(separator: "|"))",
                                           code: "invalid_field")
            }
            let update = lease?.adapter.updates[name]
            modules.append(try service.scheduler.run {
                try QuantizationLoss.module(name: name, weight: weight, type: type, served: dequantized, top: top, update: update)
            }.result)
        }
        return json(quantizationJSON(modules, adapter: request.query("adapter")))
    }
}

func quantizationJSON(_ modules: [ModuleQuantizationError], adapter: String?) -> JSONValue {
    func number(_ x: Double) -> JSONValue { .number(JSONNumber(x)) }
    func int(_ i: Int) -> JSONValue { .number(JSONNumber(i)) }
    let entries: [JSONValue] = modules.map { m in
        var fields: [(String, JSONValue)] = [
            ("name", .string(m.name)), ("shape", .array(m.shape.map(int))), ("type", .string(m.type.name)),
            ("weight_norm", number(m.weightNorm)), ("error_norm", number(m.errorNorm)), ("relative_error", number(m.relativeError)),
            ("error_singular_values", .array(m.topSingularValues.map { .number(JSONNumber($0)) })),
        ]
        if let u = m.update {
            fields.append(("adapter", .object([
                "update_norm": number(u.norm), "update_to_error": number(m.errorNorm > 0 ? u.norm / m.errorNorm : 0),
                "update_rank": int(u.rank), "top": int(u.top),
                "subspace_overlap": .object(["left": number(u.leftOverlap), "right": number(u.rightOverlap)]),
                "random_overlap": .object(["left": number(u.randomLeftOverlap), "right": number(u.randomRightOverlap)]),
            ])))
        }
        return .object(JSONObject(uniqueKeysWithValues: fields))
    }
    let weightSquares = modules.reduce(0.0) { $0 + $1.weightNorm * $1.weightNorm }
    let errorSquares = modules.reduce(0.0) { $0 + $1.errorNorm * $1.errorNorm }
    return .object([
        "adapter": adapter.map(JSONValue.string) ?? .null,
        "modules": .array(entries),
        "summary": .object([
            "modules": int(modules.count),
            "relative_error": number(weightSquares > 0 ? (errorSquares / weightSquares).squareRoot() : 0),
        ]),
    ])
}
