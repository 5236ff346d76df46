// The generation fields /infer and the OpenAI routes share (sampling, stop strings, streaming),
// read from a JSON body with errors naming the field.
import Formats
import HTTP
import Models

/// How to generate, as the request asked.
struct GenerationParameters {
    var maxTokens: Int
    var sampling: SamplingParameters
    /// Text that ends the generation where it begins (not included in the text).
    var stops: [String]
    var stream: Bool
    /// vLLM's extensions: EOS is not chosen before `minTokens` tokens; with `ignoreEos` generation goes
    /// on through EOS until `maxTokens` (benchmarks use both to fix the output length).
    var minTokens: Int
    var ignoreEos: Bool

    static let fields: Set<String> = ["temperature", "top_k", "top_p", "seed", "stop", "stream", "min_tokens", "ignore_eos"]
    static let maxStops = 16

    /// Reads the sampling fields; `defaultTemperature` is what an absent `temperature` means
    /// (0 = greedy for /infer, 1 for the OpenAI routes as in OpenAI's API).
    init(_ body: JSONBody, maxTokens: Int, defaultTemperature: Double) throws {
        self.maxTokens = maxTokens
        let temperature = try body.double("temperature") ?? defaultTemperature
        guard temperature >= 0, temperature <= 100 else {
            throw HTTPError.badRequest("field temperature must be in 0...100, got \(temperature)", code: "invalid_field")
        }
        let topK = try body.int("top_k") ?? 0
        guard topK >= 0 || topK == -1 else {
            throw HTTPError.badRequest("field top_k must be 0 or -1 (all tokens) or positive, got \(topK)", code: "invalid_field")
        }
        let topP = try body.double("top_p") ?? 1
        guard topP >= 0, topP <= 1 else {
            throw HTTPError.badRequest("field top_p must be in 0...1, got \(topP)", code: "invalid_field")
        }
        var seed: UInt64? = nil
        if let value = body.object["seed"], !value.isNull {
            guard let n = value.numberValue, n.isInteger, let i = n.intValue else {
                throw HTTPError.badRequest("field seed must be an integer, got \(value.typeName)", code: "invalid_field")
            }
            seed = UInt64(bitPattern: Int64(i))
        }
        sampling = SamplingParameters(temperature: temperature, topK: max(topK, 0), topP: topP, seed: seed)
        switch body.object["stop"] {
        case nil, .null?: stops = []
        case .string(let s)?: stops = [s]
        case .array(let items)?:
            stops = try items.enumerated().map { index, item in
                guard let s = item.stringValue else {
                    throw HTTPError.badRequest("field stop[\(index)] must be a string, got \(item.typeName)", code: "invalid_field")
                }
                return s
            }
        case let other?:
            throw HTTPError.badRequest("field stop must be a string or an array of strings, got \(other.typeName)", code: "invalid_field")
        }
        guard stops.count <= Self.maxStops else {
            throw HTTPError.badRequest("field stop holds \(stops.count) strings; at most \(Self.maxStops)", code: "invalid_field")
        }
        if stops.contains("") { throw HTTPError.badRequest("field stop must not hold an empty string", code: "invalid_field") }
        stream = try body.bool("stream") ?? false
        minTokens = try body.int("min_tokens") ?? 0
        guard (0...maxTokens).contains(minTokens) else {
            throw HTTPError.badRequest("field min_tokens must be in 0...max_tokens (\(maxTokens)), got \(minTokens)", code: "invalid_field")
        }
        ignoreEos = try body.bool("ignore_eos") ?? false
    }
}

extension JSONBody {
    /// A number (integer or not).
    func double(_ field: String) throws -> Double? {
        guard let value = object[field], !value.isNull else { return nil }
        guard let n = value.numberValue else {
            throw HTTPError.badRequest("field \(field) must be a number, got \(value.typeName)", code: "invalid_field")
        }
        return n.doubleValue
    }
}
