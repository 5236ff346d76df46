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
    let all = try JSONSerialization.jsonObject(with: Data(contentsOf: GenerationFixtures.directory.appendingPathComponent("cases.json")))
    let cases = FileManager.default.temporaryDirectory.appendingPathComponent("eckart-cases-\(UUID().uuidString).json")
    try JSONSerialization.data(withJSONObject: (all as! [String: Any])[model]!).write(to: cases)
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
