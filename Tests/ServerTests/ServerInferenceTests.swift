// /infer over real sockets: outputs equal the transformers + peft fixtures in every mode.
import FixtureSupport
import Foundation
import LinearAlgebra
import Models
import Testing

@Suite(.serialized) struct ServerInferenceTests {
    @Test(arguments: ["unmerged", "merged", "auto"])
    func decoderInferMatchesPeft(mode: String) throws {
        let live = try LiveServer(model: "qwen2-tiny")
        defer { live.stop() }
        #expect(try live.upload(id: "sql", adapter: "qwen2-lora").status == 201)
        let expected = try Fixtures.expected("qwen2-tiny.qwen2-lora")
        let reply = try live.post("/infer", json: """
            {"adapter": "sql", "mode": "\(mode)", "tokens": \(expected.tokens), "return_logits": "all"}
            """)
        #expect(reply.status == 200, "\(reply.text)")
        let logits = Matrix(nestedRows: floats(reply.json["logits"]))
        let reference = Matrix(nestedRows: mode == "merged" ? expected.mergedLogits! : expected.logits!)
        #expect(logits.shape == reference.shape)
        #expect(logits.maxAbsDifference(reference) < Tolerance.reference)
        #expect(reply.json["mode"] as? String == (mode == "auto" ? "unmerged" : mode))   // cold adapter: auto stays unmerged
    }

    @Test func baseInferAndGreedyGeneration() throws {
        let live = try LiveServer(model: "llama-tiny")
        defer { live.stop() }
        let expected = try Fixtures.expected("llama-tiny.base")
        let reply = try live.post("/infer", json: #"{"tokens": \#(expected.tokens), "max_tokens": 5, "return_logits": "last"}"#)
        #expect(reply.status == 200, "\(reply.text)")
        #expect(reply.json["mode"] as? String == "base")
        let last = Matrix(nestedRows: floats(reply.json["logits"]))
        #expect(last.maxAbsDifference(Matrix(nestedRows: [expected.logits!.last!])) < Tolerance.reference)
        // Greedy tokens equal argmax over full recomputes of the growing sequence.
        let generated = try #require(reply.json["tokens"] as? [Int])
        #expect(generated.count == 5)
        guard case .decoder(let model) = try BaseModel.load(directory: Fixtures.model("llama-tiny")) else { return }
        var sequence = expected.tokens
        for token in generated {
            let logits = try model.logits(tokens: sequence)
            let row = logits.row(logits.rows - 1)
            #expect(token == row.indices.max { row[$0] < row[$1] })
            sequence.append(token)
        }
        let usage = try #require(reply.json["usage"] as? [String: Int])
        #expect(usage == ["prompt_tokens": 10, "completion_tokens": 5])
    }

    @Test func encoderInferMatchesPeft() throws {
        let live = try LiveServer(model: "bert-tiny")
        defer { live.stop() }
        #expect(try live.upload(id: "emb", adapter: "bert-dora").status == 201)
        let expected = try Fixtures.expected("bert-tiny.bert-dora")
        for mode in ["unmerged", "merged"] {
            let reply = try live.post("/infer", json: #"{"adapter": "emb", "mode": "\#(mode)", "tokens": [\#(expected.tokens), \#(expected.tokens)]}"#)
            #expect(reply.status == 200, "\(reply.text)")
            let embeddings = floats(reply.json["embeddings"])
            #expect(embeddings.count == 2)
            #expect(maxAbsDifference(embeddings[0], expected.embedding!) < Tolerance.reference)
        }
    }

    @Test func concurrentRequestsWithDifferentAdapters() throws {
        let live = try LiveServer(model: "qwen2-tiny")
        defer { live.stop() }
        let names = ["qwen2-lora", "qwen2-dora", "qwen2-layers"]
        for name in names { #expect(try live.upload(id: name, adapter: name).status == 201) }
        let references = try names.map { try Fixtures.expected("qwen2-tiny.\($0)") }
        let lock = NSLock()
        nonisolated(unsafe) var failures = 0
        DispatchQueue.concurrentPerform(iterations: 12) { i in
            let k = i % names.count
            let reply = try? live.post("/infer", json: #"{"adapter": "\#(names[k])", "mode": "unmerged", "tokens": \#(references[k].tokens), "return_logits": "all"}"#)
            let logits = Matrix(nestedRows: floats(reply?.json["logits"]))
            if reply?.status != 200 || logits.shape != [10, 256]
                || logits.maxAbsDifference(Matrix(nestedRows: references[k].logits!)) >= Tolerance.reference {
                lock.withLock { failures += 1 }
            }
        }
        #expect(failures == 0)
    }
}
