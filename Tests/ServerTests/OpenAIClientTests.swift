// The official `openai` Python client drives the OpenAI-compatible routes of live servers
// (openai_client_check.py): models, vLLM's load/unload, completions (plain and streamed, greedy
// equal to transformers), chat, embeddings on the real MiniLM, and OpenAI-shaped errors.
import ChatTemplates
import FixtureSupport
import Foundation
import Testing
import Tokenizers

@Test(.enabled(if: ProcessInfo.processInfo.environment["ECKART_PYTHON"] != nil, "needs ECKART_PYTHON with openai (make test sets it)"))
func officialOpenAIClientWorksUnchanged() throws {
    let model = "llama-sp"
    let decoder = try GenerationFixtures.server(model, chatRenderer: try ChatTemplate.load(modelDirectory: GenerationFixtures.model(model)))
    defer { decoder.stop() }
    // The script compares greedy text with transformers': only on the cases without a near-tie
    // (GreedyAgreement), which must be most of them; the others are checked by token with margins.
    let clear = Set(try GenerationFixtures.clearCases(model).map(\.description))
    let all = try JSONSerialization.jsonObject(with: Data(contentsOf: GenerationFixtures.directory.appendingPathComponent("cases.json")))
    let modelCases = ((all as! [String: Any])[model] as! [[String: Any]]).filter {
        clear.contains("\($0["prompt"] as! String) + \($0["adapter"] as? String ?? "base")")
    }
    #expect(modelCases.count >= 8, "only \(modelCases.count) cases without a near-tie")
    let cases = FileManager.default.temporaryDirectory.appendingPathComponent("eckart-cases-\(UUID().uuidString).json")
    try JSONSerialization.data(withJSONObject: modelCases).write(to: cases)
    defer { try? FileManager.default.removeItem(at: cases) }

    var arguments = [URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("openai_client_check.py").path,
                     decoder.base.absoluteString, model, "\(model)-lora", cases.path]
    var encoder: LiveServer? = nil
    if let miniLM = Fixtures.miniLM {
        encoder = try LiveServer(model: "all-MiniLM-L6-v2", modelDirectory: miniLM,
                                 tokenizer: try Tokenizer(contentsOf: miniLM.appendingPathComponent("tokenizer.json")))
        arguments += [encoder!.base.absoluteString, "all-MiniLM-L6-v2"]
    }
    defer { encoder?.stop() }

    let check = try runProcess(URL(fileURLWithPath: ProcessInfo.processInfo.environment["ECKART_PYTHON"]!), arguments)
    let text = check.combinedText
    #expect(check.status == 0, "\(text)")
    #expect(text.contains("all checks passed"))
    #expect(Fixtures.miniLM == nil || text.contains("MiniLM embeddings are normalised"))
}

/// `examples/openai_client.py` could not send a key: against a server with --api-key it now takes
/// one as its third argument or from OPENAI_API_KEY, and without it fails on the 401.
@Test(.enabled(if: ProcessInfo.processInfo.environment["ECKART_PYTHON"] != nil, "needs ECKART_PYTHON with openai (make test sets it)"))
func openAIExampleSendsTheAPIKey() throws {
    let model = "qwen2-bl"
    let live = try GenerationFixtures.server(model, chatRenderer: try ChatTemplate.load(modelDirectory: GenerationFixtures.model(model))) {
        $0.apiKey = "s3cret"
    }
    defer { live.stop() }
    let python = ProcessInfo.processInfo.environment["ECKART_PYTHON"]!
    let example = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("examples/openai_client.py").path
    let v1 = live.base.appendingPathComponent("v1").absoluteString
    let byArgument = try runProcess(URL(fileURLWithPath: python), [example, v1, model, "s3cret"])
    #expect(byArgument.status == 0 && byArgument.combinedText.contains("streamed:"), "\(byArgument.combinedText)")
    let byEnvironment = try runProcess(URL(fileURLWithPath: "/usr/bin/env"), ["OPENAI_API_KEY=s3cret", python, example, v1, model])
    #expect(byEnvironment.status == 0, "\(byEnvironment.combinedText)")
    let without = try runProcess(URL(fileURLWithPath: "/usr/bin/env"), ["-u", "OPENAI_API_KEY", python, example, v1, model])
    #expect(without.status != 0 && without.combinedText.contains("AuthenticationError"), "\(without.combinedText)")
}
