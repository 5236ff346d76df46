// An adapter trained for another base used to load silently whenever the shapes matched.
import FixtureSupport
import Foundation
@testable import Server
import Testing

@Suite(.serialized) struct BaseModelCheckTests {
    /// `llama-tiny`'s config on Qwen2-shaped weights: a Llama adapter onto the Qwen2 fixture.
    private func llamaConfig() throws -> Data {
        var config = try JSONSerialization.jsonObject(with: Data(contentsOf: Fixtures.adapter("qwen2-lora")
            .appendingPathComponent("adapter_config.json"))) as! [String: Any]
        config["base_model_name_or_path"] = "meta-llama/Llama-3.2-1B"
        config["auto_mapping"] = ["base_model_class": "LlamaForCausalLM", "parent_library": "transformers.models.llama.modeling_llama"]
        return try JSONSerialization.data(withJSONObject: config)
    }

    @Test func anAdapterForAnotherBaseIsRefusedNamingBoth() throws {
        let live = try LiveServer(model: "qwen2-tiny")
        defer { live.stop() }
        let refused = try live.upload(id: "llama", adapter: "qwen2-lora", config: try llamaConfig())
        let message = (refused.json["error"] as? [String: Any])?["message"] as? String ?? ""
        #expect(refused.status == 409 && refused.errorCode == "base_model_mismatch", "\(refused.text)")
        #expect(message.contains("meta-llama/Llama-3.2-1B") && message.contains("qwen2-tiny") && message.contains("LlamaForCausalLM")
                && message.contains("Qwen2ForCausalLM") && message.contains("allow_base_mismatch"), "\(message)")
        #expect(try live.request("GET", "/adapters/llama").status == 404)

        let allowed = try live.upload(id: "llama", adapter: "qwen2-lora", query: "?allow_base_mismatch=true", config: try llamaConfig())
        let check = allowed.json["base_model_check"] as? [String: Any]
        #expect(allowed.status == 201 && check?["result"] as? String == "mismatch_allowed", "\(allowed.text)")
    }

    @Test func theFixturesOwnBasesMatch() throws {
        let live = try LiveServer(model: "qwen2-tiny")
        defer { live.stop() }
        let created = try live.upload(id: "sql", adapter: "qwen2-lora")
        let check = created.json["base_model_check"] as? [String: Any]
        #expect(created.status == 201 && check?["result"] as? String == "match", "\(created.text)")
        #expect(check?["base_model_name_or_path"] as? String == "qwen2-tiny" && check?["served_model"] as? String == "qwen2-tiny")

        // A config without base_model_name_or_path passes, saying nothing was compared.
        var config = try JSONSerialization.jsonObject(with: Data(contentsOf: Fixtures.adapter("qwen2-lora")
            .appendingPathComponent("adapter_config.json"))) as! [String: Any]
        config["base_model_name_or_path"] = NSNull()
        let unnamed = try live.upload(id: "unnamed", adapter: "qwen2-lora", config: try JSONSerialization.data(withJSONObject: config))
        #expect(unnamed.status == 201 && (unnamed.json["base_model_check"] as? [String: Any])?["result"] as? String == "unchecked")
    }

    /// The path and vLLM routes check too; JSON bodies take "allow_base_mismatch": true.
    @Test func pathAndVLLMRoutesCheck() throws {
        let live = try LiveServer(model: "llama-tiny")
        defer { live.stop() }
        #expect(try live.post("/adapters", json: #"{"id": "q", "path": "qwen2-lora"}"#).status == 409)
        #expect(try live.post("/adapters", json: #"{"id": "q", "path": "qwen2-lora", "allow_base_mismatch": true}"#).status != 409)
        let vllm = try live.post("/v1/load_lora_adapter", json: #"{"lora_name": "q2", "lora_path": "qwen2-lora"}"#)
        #expect(vllm.status == 409 && (vllm.json["error"] as? [String: Any])?["type"] as? String == "ConflictError", "\(vllm.text)")
        #expect(try live.post("/adapters", json: #"{"id": "l", "path": "llama-dora"}"#).status == 201)
    }

    /// Hub ids, local paths, trailing slashes, snapshot paths and variants of one checkpoint.
    @Test(arguments: [
        ("HuggingFaceTB/SmolLM2-135M-Instruct", "SmolLM2-135M-Instruct", true),
        ("/data/models/SmolLM2-135M-Instruct/", "SmolLM2-135M-Instruct", true),
        ("/root/.cache/huggingface/hub/models--Qwen--Qwen2.5-0.5B/snapshots/0123abc", "Qwen2.5-0.5B-Instruct", true),
        ("qwen2-tiny", "qwen2-tiny-f16", true),
        ("sentence-transformers/all-MiniLM-L6-v2", "all-MiniLM-L6-v2", true),
        ("meta-llama/Llama-3.2-1B", "qwen2-tiny", false),
        ("llama-tiny", "qwen2-tiny", false),
    ])
    func namesMatchTolerantly(adapterBase: String, served: String, matches: Bool) throws {
        let config = try JSONSerialization.data(withJSONObject: ["base_model_name_or_path": adapterBase])
        let check = BaseModelCheck(configData: config, servedNames: [served], servedArchitecture: "Qwen2ForCausalLM")
        #expect(check.mismatches.isEmpty == matches, "\(check.mismatches)")
    }

    @Test func architectureFamilies() {
        #expect(BaseModelCheck.family("Qwen2ForCausalLM") == "qwen2" && BaseModelCheck.family("BertModel") == "bert")
        #expect(BaseModelCheck.family("LlamaForSequenceClassification") == BaseModelCheck.family("LlamaForCausalLM"))
    }
}

/// Where `eckart serve` keeps adapters and what /v1/models calls the model.
@Suite struct ModelNameTests {
    @Test(arguments: [
        ("models/all-MiniLM-L6-v2", "all-MiniLM-L6-v2"),
        ("models/all-MiniLM-L6-v2/", "all-MiniLM-L6-v2"),
        ("models/all-MiniLM-L6-v2//", "all-MiniLM-L6-v2"),
        ("/root/.cache/huggingface/hub/models--Qwen--Qwen2.5-0.5B-Instruct/snapshots/7ae557604adf67be50417f59c2c2f167def9a775",
         "Qwen2.5-0.5B-Instruct"),
        ("/root/.cache/huggingface/hub/models--Qwen--Qwen2.5-0.5B-Instruct/snapshots/7ae5576/", "Qwen2.5-0.5B-Instruct"),
        ("/srv/snapshots/v1", "v1"),
    ])
    func resolvesTheModelsName(directory: String, name: String) {
        #expect(ModelName.resolve(directory: directory) == name)
    }

    @Test func dotIsTheCurrentDirectorysName() {
        #expect(ModelName.resolve(directory: ".") == URL(fileURLWithPath: FileManager.default.currentDirectoryPath).lastPathComponent)
    }

    @Test func servedNamesAreStoreNames() {
        #expect(ModelName.isValid("my-model") && ModelName.isValid("Qwen2.5 0.5B"))
        #expect(!ModelName.isValid("") && !ModelName.isValid("..") && !ModelName.isValid("a/b") && !ModelName.isValid("a\nb"))
    }
}

/// vLLM's --lora-modules at start.
@Suite struct LoRAModulesTests {
    @Test func parsesBothForms() throws {
        let plain = try LoRAModule(parsing: "sql=Tests/Fixtures/adapters/qwen2-lora")
        #expect(plain.name == "sql" && plain.path == "Tests/Fixtures/adapters/qwen2-lora")
        let json = try LoRAModule(parsing: #"{"name": "sql", "path": "/a=b", "base_model_name": "x"}"#)
        #expect(json.name == "sql" && json.path == "/a=b")
        for bad in ["sql", "=path", "sql=", "a/b=path", #"{"name": "x"}"#] {
            #expect(throws: (any Error).self, "\(bad)") { try LoRAModule(parsing: bad) }
        }
    }

    @Test func preloadStoresAndChecks() throws {
        let live = try LiveServer(model: "qwen2-tiny")
        defer { live.stop() }
        try live.server.preload(LoRAModule(parsing: "sql=\(Fixtures.adapter("qwen2-lora").path)"))
        #expect(try live.request("GET", "/adapters/sql").json["rank"] as? Int == 8)
        // Again with the same name replaces it (a restart with the same flags).
        try live.server.preload(LoRAModule(parsing: "sql=\(Fixtures.adapter("qwen2-dora").path)"))
        #expect(try live.request("GET", "/adapters/sql").json["variant"] as? String == "dora")
        #expect(throws: (any Error).self) { try live.server.preload(LoRAModule(parsing: "l=\(Fixtures.adapter("llama-dora").path)")) }
        #expect(throws: (any Error).self) { try live.server.preload(LoRAModule(parsing: "none=/nonexistent")) }
    }
}
