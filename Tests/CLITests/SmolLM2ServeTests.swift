// `eckart serve --model SmolLM2-135M-Instruct.Q4_1.gguf`, the real decoder `make serve-llm` serves:
// the name from the file, token ids and greedy text as transformers gives them from the same file
// (Tests/Fixtures/smollm2), chat from the file's template, a PEFT adapter in every mode, several
// adapters batched together, and the quantization diagnostics on its Q4_1 weights.
import FixtureSupport
import Foundation
import Testing

@Suite(.serialized, .enabled(if: SmolLM2.gguf != nil, "needs the SmolLM2 GGUF (make model, ECKART_SMOLLM2_GGUF)"))
struct SmolLM2ServeTests {
    @Test func theGGUFServesTextChatAndAdapters() throws {
        let serve = try ServeProcess(["--model", SmolLM2.gguf!.path,
                                      "--adapter-root", Fixtures.directory.appendingPathComponent("adapters").path])
        defer { serve.stop() }
        let models = try serve.get("/v1/models").json["data"] as? [[String: Any]]
        #expect(models?.first?["id"] as? String == "SmolLM2-135M-Instruct.Q4_1", "\(models ?? [])")

        // Token ids exactly as transformers builds them from the file's metadata.
        for c in try SmolLM2Tokens.load().cases.prefix(4) {
            let text = String(decoding: try JSONSerialization.data(withJSONObject: ["text": c.text]), as: UTF8.self)
            #expect(try serve.post("/tokenize", json: text).json["tokens"] as? [Int] == c.ids, "\(c.text.debugDescription)")
        }

        // Greedy text. Decode multiplies the Q4_1 blocks by 8-bit activations (as llama.cpp does), which
        // moves logits by a few percent: the first tokens, whose margins are wide, are the reference's;
        // later near ties may go either way (SmolLM2ReferenceTests bounds that drift).
        let expected = try SmolLM2.expected()
        let france = try #require(expected.cases.first { $0.prompt == "The capital of France is" })
        #expect(france.base.text.hasPrefix(" Paris.\n\n"))
        let base = try serve.post("/infer", json: #"{"prompt": "The capital of France is", "max_tokens": 12}"#, timeout: 120)
        #expect(base.status == 200 && (base.json["text"] as? String)?.hasPrefix(" Paris.\n\n") == true, "\(base.json)")

        // Chat, rendered with the file's own template: the prompt is the reference's rendering, token
        // for token (its length is the count of transformers' ids); EOS from the metadata ends answers.
        let hello = try #require(try SmolLM2Tokens.load().chats.first { $0.messages.count == 1 })
        let chat = try serve.post("/v1/chat/completions", json: #"""
            {"model": "SmolLM2-135M-Instruct.Q4_1", "messages": [{"role": "user", "content": "\#(hello.messages[0].content)"}], "max_tokens": 48, "temperature": 0}
            """#, timeout: 120)
        let choice = (chat.json["choices"] as? [[String: Any]])?.first
        let message = (choice?["message"] as? [String: Any])?["content"] as? String
        #expect(chat.status == 200 && message?.isEmpty == false, "\(chat.json)")
        #expect((chat.json["usage"] as? [String: Any])?["prompt_tokens"] as? Int == hello.ids.count, "\(chat.json)")

        // A PEFT adapter made on the Hugging Face model applies to the GGUF's weights unchanged, in
        // every mode. Both modes still run the unadapted projections on 8-bit activations, so only the
        // wide-margin start of the text is compared (SmolLM2ReferenceTests bounds the rest).
        let load = try serve.post("/v1/load_lora_adapter", json: #"{"lora_name": "smol", "lora_path": "smollm2-lora"}"#)
        #expect(load.status == 200, "\(load.json)")
        let village = try #require(expected.cases.first { $0.prompt.hasPrefix("Once upon a time") })
        #expect(village.adapter.text.hasPrefix(" there was a") && village.adapter.text != village.base.text)
        for mode in ["unmerged", "merged"] {
            let reply = try serve.post("/infer", json: #"{"prompt": "Once upon a time, in a small village,", "max_tokens": 12, "adapter": "smol", "mode": "\#(mode)"}"#,
                                       timeout: 120)
            #expect(reply.status == 200 && reply.json["mode"] as? String == mode, "\(reply.json)")
            #expect((reply.json["text"] as? String)?.hasPrefix(" there was a") == true, "\(mode): \(reply.json)")
        }

        // Concurrent requests on the base and on the adapter share engine steps and all finish.
        let group = DispatchGroup()
        let lock = NSLock()
        nonisolated(unsafe) var statuses: [Int] = []
        for i in 0..<6 {
            group.enter()
            DispatchQueue.global().async {
                let adapter = i % 2 == 0 ? #", "adapter": "smol""# : ""
                let status = (try? serve.post("/infer", json: #"{"prompt": "Once upon a time", "max_tokens": 4\#(adapter)}"#,
                                              timeout: 300).status) ?? 0
                lock.withLock { statuses.append(status) }
                group.leave()
            }
        }
        #expect(group.wait(timeout: .now() + 330) == .success)
        #expect(statuses.sorted() == Array(repeating: 200, count: 6), "\(statuses)")

        // The Q4_1 weights' own error needs the float weights the file was made from: a named 409.
        // Measuring a further Q8_0 round trip of the served weights works, next to the adapter.
        let served = try serve.get("/diagnostics/quantization?module=layers%5C.0%5C.self_attn%5C.q_proj")
        #expect(served.status == 409 && (served.json["error"] as? [String: Any])?["code"] as? String == "originals_unavailable", "\(served.json)")
        let q8 = try serve.get("/diagnostics/quantization?type=q8_0&adapter=smol&module=layers%5C.0%5C.self_attn%5C.q_proj")
        let module = (q8.json["modules"] as? [[String: Any]])?.first
        #expect(q8.status == 200 && module?["type"] as? String == "Q8_0" && module?["adapter"] != nil, "\(q8.json)")
    }

    /// The README's SmolLM2 block, run verbatim against `eckart serve` on the GGUF.
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/curl"), "needs curl"))
    func readmeBlockWorksVerbatim() throws {
        let serve = try ServeProcess(["--model", SmolLM2.gguf!.path, "--adapter-root", repositoryRoot.path])
        defer { serve.stop() }
        let commands = try readmeCommands("quickstart-llm")
        #expect(commands.count == 5)
        var outputs: [String] = []
        for command in commands {
            let run = try runReadmeCommand(command, port: serve.port, readmePort: 8082)
            // `head -c` may close the pipe early; curl then exits 23, which is fine for a preview.
            #expect([0, 23].contains(run.status), "\(command): \(run.stderr)")
            #expect(!run.stdoutText.contains("\"error\""), "\(command): \(run.stdoutText)")
            outputs.append(run.stdoutText)
        }
        #expect(outputs[0].contains(#""text":" Paris.\n\n"#), "\(outputs[0])")
        #expect(outputs[1].contains(#""object":"chat.completion""#) && outputs[1].contains(#""role":"assistant""#))
        #expect(outputs[2].contains("Success: LoRA adapter 'smol-demo' added successfully."))
        #expect(outputs[3].contains(#""mode":"merged""#) && outputs[3].contains(#""text":" there was a"#), "\(outputs[3])")
        #expect(outputs[4].contains(#""name":"model.layers.0."#) && outputs[4].contains(#""relative_error""#), "\(outputs[4])")
    }
}
