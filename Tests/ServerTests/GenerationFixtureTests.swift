// Greedy generation from text equals transformers' generate() (greedy) on the tiny Llama
// (SentencePiece) and Qwen2 (byte-level BPE) fixtures, with and without a LoRA: same prompt ids,
// same generated ids (incl. stopping on a generation_config.json EOS), same text. Checked through
// the library (tokenizer + Generator) and through /infer on a live server. Tokens are compared with
// their margins (`GreedyAgreement`): a run may part from transformers' only at an argmax near-tie.
import Adapters
import FixtureSupport
import Foundation
import Models
import Server
import Testing
import Tokenizers

/// One case of Tests/Fixtures/generation/cases.json.
struct GenerationCase: Decodable, Sendable, CustomStringConvertible {
    let prompt: String
    let promptIds: [Int]
    let adapter: String?
    let generated: [Int]
    let text: String
    let finishedByEos: Bool

    enum CodingKeys: String, CodingKey {
        case prompt, adapter, generated, text
        case promptIds = "prompt_ids"
        case finishedByEos = "finished_by_eos"
    }

    var description: String { "\(prompt) + \(adapter ?? "base")" }
}

enum GenerationFixtures {
    static let directory = Fixtures.directory.appendingPathComponent("generation")
    static let models = ["llama-sp", "qwen2-bl"]
    static let maxNewTokens = 16

    static func model(_ name: String) -> URL { directory.appendingPathComponent("models/\(name)") }
    static func adapter(_ name: String) -> URL { directory.appendingPathComponent("adapters/\(name)") }

    static func cases(_ model: String) throws -> [GenerationCase] {
        let all = try JSONDecoder().decode([String: [GenerationCase]].self,
                                           from: Data(contentsOf: directory.appendingPathComponent("cases.json")))
        return all[model] ?? []
    }

    /// Eckart's margin for each of the reference's generated tokens (see `GreedyAgreement`), from one
    /// full forward pass over the prompt and the reference's tokens (unmerged adapter, if any).
    static func margins(_ c: GenerationCase, model name: String) throws -> [Float] {
        let base = try BaseModel.load(directory: model(name))
        guard case .decoder(let decoder) = base else { throw ModelError.unsupportedArchitecture(name) }
        let overlay: (any LinearOverlay)? = try c.adapter.map { UnmergedAdapter(try LoRAAdapter(directory: adapter($0), model: base)) }
        // The logits at position p - 1 + t choose generated[t].
        let logits = try decoder.logits(tokens: c.promptIds + c.generated.dropLast(), overlay: overlay)
        let rows = c.generated.indices.map { logits.row(c.promptIds.count - 1 + $0) }
        return GreedyAgreement.margins(logitRows: rows, chosen: c.generated)
    }

    /// The cases on which no greedy step of Eckart's is a near-tie: any run on them must give exactly
    /// the reference's tokens and text, whatever kernels the machine uses.
    static func clearCases(_ model: String) throws -> [GenerationCase] {
        try cases(model).filter { c in try margins(c, model: model).allSatisfy { $0 > Tolerance.greedyNearTie } }
    }

    static func tokenizer(_ model: String) throws -> Tokenizer {
        try Tokenizer(contentsOf: Self.model(model).appendingPathComponent("tokenizer.json"))
    }

    /// A live server on the fixture model, adapters loadable by path from the fixture's adapters/.
    static func server(_ model: String, chatRenderer: (any ChatPromptRenderer)? = nil,
                       configure: (inout ServerOptions) -> Void = { _ in }) throws -> LiveServer {
        try LiveServer(model: model, modelDirectory: Self.model(model), tokenizer: try tokenizer(model), chatRenderer: chatRenderer) { options in
            options.adapterRoot = directory.appendingPathComponent("adapters")
            configure(&options)
        }
    }
}

@Test(arguments: GenerationFixtures.models)
func greedyGenerationMatchesTransformersThroughTheLibrary(modelName: String) throws {
    let directory = GenerationFixtures.model(modelName)
    let base = try BaseModel.load(directory: directory)
    guard case .decoder(let decoder) = base else { Issue.record("not a decoder"); return }
    let tokenizer = try GenerationFixtures.tokenizer(modelName)
    let generation = try GenerationConfig.load(directory: directory, model: decoder.config)
    // generation_config.json's list (two ids) wins over config.json's single EOS.
    #expect(generation.eosTokenIds.count == 2 && generation.eosTokenIds.isSuperset(of: decoder.config.eosTokenIds))
    let cases = try GenerationFixtures.cases(modelName)
    #expect(cases.count == 10)
    for c in cases {
        #expect(tokenizer.encode(c.prompt) == c.promptIds, "\(c)")
        let overlay: (any LinearOverlay)? = try c.adapter.map {
            UnmergedAdapter(try LoRAAdapter(directory: GenerationFixtures.adapter($0), model: base))
        }
        var sampler = Sampler(.greedy)
        let outcome = try Generator(model: decoder, overlay: overlay, eosTokenIds: generation.eosTokenIds)
            .generate(prompt: c.promptIds, maxTokens: GenerationFixtures.maxNewTokens, sampler: &sampler)
        let agreement = GreedyAgreement(ours: outcome.tokens, reference: c.generated,
                                        margins: try GenerationFixtures.margins(c, model: modelName))
        #expect(agreement.isAcceptable, "\(c): \(agreement)")
        guard agreement == .identical else { continue }
        #expect(outcome.finishReason == (c.finishedByEos ? .eos : .length), "\(c)")
        let textIds = c.finishedByEos ? Array(outcome.tokens.dropLast()) : outcome.tokens
        #expect(tokenizer.decode(textIds) == c.text, "\(c)")
    }
}

@Test(arguments: GenerationFixtures.models)
func greedyGenerationMatchesTransformersThroughInfer(modelName: String) throws {
    let live = try GenerationFixtures.server(modelName)
    defer { live.stop() }
    let adapter = "\(modelName)-lora"
    #expect(try live.post("/v1/load_lora_adapter", json: #"{"lora_name": "\#(adapter)", "lora_path": "\#(adapter)"}"#).status == 200)
    for c in try GenerationFixtures.cases(modelName) {
        let margins = try GenerationFixtures.margins(c, model: modelName)
        var body: [String: Any] = ["prompt": c.prompt, "max_tokens": GenerationFixtures.maxNewTokens]
        if let id = c.adapter { body["adapter"] = id }
        for mode in c.adapter == nil ? ["auto"] : ["unmerged", "merged"] {
            if c.adapter != nil { body["mode"] = mode }
            let reply = try live.request("POST", "/infer", body: try JSONSerialization.data(withJSONObject: body))
            #expect(reply.status == 200, "\(reply.text)")
            let agreement = GreedyAgreement(ours: reply.json["tokens"] as? [Int] ?? [], reference: c.generated, margins: margins)
            #expect(agreement.isAcceptable, "\(c) \(mode): \(agreement)")
            #expect((reply.json["usage"] as? [String: Any])?["prompt_tokens"] as? Int == c.promptIds.count)
            guard agreement == .identical else { continue }
            #expect(reply.json["text"] as? String == c.text, "\(c) \(mode)")
            #expect(reply.json["finish_reason"] as? String == (c.finishedByEos ? "eos" : "length"))
        }
    }
}
