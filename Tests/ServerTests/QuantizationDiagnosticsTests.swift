// GET /diagnostics/quantization: the error of quantizing each base weight, measured against the
// float weights the server has, with an adapter's update next to it.
import FixtureSupport
import Formats
import Foundation
import LinearAlgebra
import Testing

/// ‖W − dequant(Q(W))‖_F / ‖W‖_F computed here from the fixture file, for the module `name`.
private func relativeError(model: String, module name: String, type: QuantizationType) throws -> Double {
    let file = try SafetensorsFile(contentsOf: Fixtures.model(model).appendingPathComponent("model.safetensors"))
    let w = try file.matrix(name + ".weight")
    let dq = try QuantizedMatrix.quantize(w, as: type).dequantized()
    let e = zip(w.storage, dq.storage).reduce(0.0) { $0 + Double($1.0 - $1.1) * Double($1.0 - $1.1) }
    let n = w.storage.reduce(0.0) { $0 + Double($1) * Double($1) }
    return (e / n).squareRoot()
}

private func modules(_ reply: LiveServer.Reply) -> [[String: Any]] { reply.json["modules"] as? [[String: Any]] ?? [] }

@Test func aFloatBaseIsMeasuredForTheTypeAskedFor() throws {
    let live = try LiveServer(model: "qwen2-tiny")
    defer { live.stop() }
    #expect(try live.upload(id: "sql", adapter: "qwen2-lora").status == 201)
    let missing = try live.request("GET", "/diagnostics/quantization")
    #expect(missing.status == 400 && missing.text.contains("type="), "\(missing.text)")
    #expect(try live.request("GET", "/diagnostics/quantization?type=q9_9").status == 400)

    let reply = try live.request("GET", "/diagnostics/quantization?type=q4_0&adapter=sql&module=layers%5C.0%5C.&top=4")
    #expect(reply.status == 200, "\(reply.text)")
    let entries = modules(reply)
    #expect(entries.count == 7, "\(entries.map { $0["name"] ?? "" })")
    for entry in entries {
        let name = entry["name"] as! String
        let expected = try relativeError(model: "qwen2-tiny", module: name, type: .q4_0)
        let reported = entry["relative_error"] as! Double
        #expect(abs(reported - expected) < 1e-6 * max(1, expected), "\(name): \(reported) vs \(expected)")
        #expect(entry["type"] as? String == "Q4_0" && (entry["error_singular_values"] as? [Double])?.count == 4)
        let sigma = entry["error_singular_values"] as? [Double] ?? []
        #expect(sigma == sigma.sorted(by: >) && sigma.allSatisfy { $0 > 0 })
        // The fixture adapter updates every projection.
        let adapter = entry["adapter"] as? [String: Any]
        #expect(adapter != nil, "\(name): \(entry)")
        if let adapter, let overlap = adapter["subspace_overlap"] as? [String: Double] {
            #expect((0...1.000001).contains(overlap["left"]!) && (0...1.000001).contains(overlap["right"]!))
            #expect((adapter["update_norm"] as? Double ?? 0) > 0)
        }
    }
}

@Test func aBaseQuantizedAtLoadIsMeasuredAgainstItsOriginals() throws {
    let live = try LiveServer(model: "qwen2-tiny", quantization: .q4_1)
    defer { live.stop() }
    let reply = try live.request("GET", "/diagnostics/quantization?module=mlp")
    #expect(reply.status == 200, "\(reply.text)")
    let entries = modules(reply)
    #expect(entries.count == 2 * 3)   // gate, up, down of two layers
    for entry in entries {
        let name = entry["name"] as! String
        #expect(entry["type"] as? String == "Q4_1")
        let expected = try relativeError(model: "qwen2-tiny", module: name, type: .q4_1)
        let reported = entry["relative_error"] as! Double
        #expect(expected > 0.01 && abs(reported - expected) < 1e-6 * max(1, expected), "\(name): \(reported) vs \(expected)")
    }
}
