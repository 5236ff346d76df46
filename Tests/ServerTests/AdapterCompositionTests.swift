// Per-request adapter weights and compositions over HTTP: /infer's `scale` and `adapters`, the /v1
// routes' `adapters` extension, and their errors.
import Adapters
import FixtureSupport
import Foundation
import LinearAlgebra
import Models
import Testing

@Test func scaledAndComposedAdaptersOverHTTP() throws {
    let live = try LiveServer(model: "qwen2-tiny")
    defer { live.stop() }
    for name in ["qwen2-lora", "qwen2-layers", "qwen2-dora"] {
        #expect(try live.post("/adapters", json: #"{"id": "\#(name)", "path": "\#(name)"}"#).status == 201)
    }
    let base = try BaseModel.load(directory: Fixtures.model("qwen2-tiny"))
    guard case .decoder(let model) = base else { throw ModelError.unsupportedArchitecture("qwen2-tiny") }
    let lora = try LoRAAdapter(directory: Fixtures.adapter("qwen2-lora"), model: base)
    let layers = try LoRAAdapter(directory: Fixtures.adapter("qwen2-layers"), model: base)
    let tokens = [7, 70, 170, 17]
    func lastLogits(_ json: String) throws -> Matrix {
        let reply = try live.post("/infer", json: json)
        #expect(reply.status == 200, "\(reply.text)")
        return Matrix(nestedRows: floats(reply.json["logits"]))
    }
    func expected(_ overlay: any LinearOverlay) throws -> Matrix {
        let all = try model.logits(tokens: tokens, overlay: overlay)
        return all.rows((all.rows - 1)..<all.rows)
    }
    let scaled = try lastLogits(#"{"adapter": "qwen2-lora", "scale": 0.5, "tokens": [7, 70, 170, 17], "return_logits": "last"}"#)
    #expect(scaled.maxAbsDifference(try expected(UnmergedAdapter(lora, weight: 0.5))) < Tolerance.samePath)
    let composed = try lastLogits(#"{"adapters": [{"id": "qwen2-lora", "scale": 0.5}, {"id": "qwen2-layers"}], "tokens": [7, 70, 170, 17], "return_logits": "last"}"#)
    #expect(composed.maxAbsDifference(try expected(ComposedAdapter([("a", lora, 0.5), ("b", layers, 1)]))) < Tolerance.samePath)
    let reply = try live.post("/infer", json: #"{"adapters": [{"id": "qwen2-lora", "scale": 0.5}, {"id": "qwen2-layers"}], "tokens": [1, 2]}"#)
    #expect(reply.json["adapter"] as? String == "qwen2-lora+qwen2-layers" && reply.json["mode"] as? String == "unmerged")

    // Refusals, each naming the problem.
    let refusals: [(String, Int, String)] = [
        (#"{"adapters": [{"id": "nope"}], "tokens": [1]}"#, 404, "nope"),
        (#"{"adapters": [{"id": "qwen2-lora"}, {"id": "qwen2-dora"}], "tokens": [1]}"#, 400, "DoRA"),
        (#"{"adapters": [{"id": "qwen2-lora"}, {"id": "qwen2-lora"}], "tokens": [1]}"#, 400, "twice"),
        (#"{"adapter": "qwen2-lora", "scale": 0.5, "mode": "merged", "tokens": [1]}"#, 400, "unmerged"),
        (#"{"adapter": "qwen2-lora", "adapters": [{"id": "qwen2-layers"}], "tokens": [1]}"#, 400, "either"),
        (#"{"adapters": [{"id": "qwen2-lora", "scale": "big"}], "tokens": [1]}"#, 400, "scale"),
        (#"{"scale": 2, "tokens": [1]}"#, 400, "scale"),
    ]
    for (body, status, word) in refusals {
        let r = try live.post("/infer", json: body)
        #expect(r.status == status && r.text.contains(word), "\(body) → \(r.status) \(r.text)")
    }
}

@Test func openAIRoutesTakeTheAdaptersExtension() throws {
    let live = try GenerationFixtures.server("qwen2-bl")
    defer { live.stop() }
    #expect(try live.post("/v1/load_lora_adapter", json: #"{"lora_name": "tone", "lora_path": "qwen2-bl-lora"}"#).status == 200)
    let v1 = try live.post("/v1/completions", json: #"{"model": "qwen2-bl", "adapters": [{"id": "tone", "scale": 0.5}], "prompt": "Once upon a time", "max_tokens": 8, "temperature": 0}"#)
    #expect(v1.status == 200, "\(v1.text)")
    let text = ((v1.json["choices"] as? [[String: Any]])?.first?["text"] as? String) ?? ""
    let infer = try live.post("/infer", json: #"{"prompt": "Once upon a time", "max_tokens": 8, "adapter": "tone", "scale": 0.5}"#)
    #expect(infer.json["text"] as? String == text && infer.json["mode"] as? String == "unmerged")
    let both = try live.post("/v1/completions", json: #"{"model": "tone", "adapters": [{"id": "tone"}], "prompt": "x", "max_tokens": 2}"#)
    #expect(both.status == 400)
}
