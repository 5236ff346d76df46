// Decoding, defaults, refusals and real-world files of `AdapterConfig`.
// Expected values for the real-world files come from peft 0.21.2 itself (see the comments there);
// the matching tables are in AdapterConfigPeftTableTests.swift.
import Foundation
import Testing
@testable import Formats

/// A config with `peft_type` and `target_modules: ["q_proj"]`, plus `extra` (JSON members).
private func config(_ extra: String = "", maxRank: Int = AdapterConfig.defaultMaxRank) throws -> AdapterConfig {
    let json = #"{"peft_type": "LORA", "target_modules": ["q_proj"]"# + (extra.isEmpty ? "" : ", " + extra) + "}"
    return try AdapterConfig(jsonData: Data(json.utf8), maxRank: maxRank)
}

private func error(_ extra: String, maxRank: Int = AdapterConfig.defaultMaxRank) -> AdapterConfigError? {
    do {
        _ = try config(extra, maxRank: maxRank)
        return nil
    } catch let error as AdapterConfigError {
        return error
    } catch {
        return nil
    }
}

private func error(json: String) -> AdapterConfigError? {
    do {
        _ = try AdapterConfig(jsonData: Data(json.utf8))
        return nil
    } catch let error as AdapterConfigError {
        return error
    } catch {
        return nil
    }
}

private let llamaLinear = ReferenceModel.llama.linear

// MARK: - Real-world files

@Suite("AdapterConfig: files written by peft 0.21.2")
struct AdapterConfigRealWorldTests {
    /// `LoraConfig(r=16, lora_alpha=32, target_modules=["q_proj","k_proj","v_proj","o_proj"], lora_dropout=0.05,
    /// task_type="CAUSAL_LM", bias="none", rank_pattern={"model.layers.1.self_attn.q_proj": 4},
    /// alpha_pattern={"o_proj": 8}, base_model_name_or_path="meta-llama/Llama-3.2-1B").save_pretrained(dir)`
    /// with peft 0.21.2, verbatim.
    static let loraConfigSavePretrained = #"""
        {
          "alora_invocation_tokens": null,
          "alpha_pattern": {
            "o_proj": 8
          },
          "arrow_config": null,
          "auto_mapping": null,
          "base_model_name_or_path": "meta-llama/Llama-3.2-1B",
          "bias": "none",
          "corda_config": null,
          "ensure_weight_tying": false,
          "eva_config": null,
          "exclude_modules": null,
          "fan_in_fan_out": false,
          "inference_mode": false,
          "init_lora_weights": true,
          "kasa_config": null,
          "layer_replication": null,
          "layers_pattern": null,
          "layers_to_transform": null,
          "loftq_config": {},
          "lora_alpha": 32,
          "lora_bias": false,
          "lora_dropout": 0.05,
          "lora_ga_config": null,
          "megatron_config": null,
          "megatron_core": "megatron.core",
          "modules_to_save": null,
          "monteclora_config": null,
          "peft_type": "LORA",
          "peft_version": "0.21.2",
          "qalora_group_size": 16,
          "r": 16,
          "rank_pattern": {
            "model.layers.1.self_attn.q_proj": 4
          },
          "revision": null,
          "target_modules": [
            "k_proj",
            "v_proj",
            "o_proj",
            "q_proj"
          ],
          "target_parameters": null,
          "task_type": "CAUSAL_LM",
          "trainable_token_indices": null,
          "use_bdlora": null,
          "use_dora": false,
          "use_qalora": false,
          "use_rslora": false,
          "velora_config": null
        }
        """#

    /// `get_peft_model(tiny LlamaForCausalLM, LoraConfig(r=8, lora_alpha=16, target_modules="all-linear",
    /// use_dora=True, use_rslora=True, task_type="CAUSAL_LM", rank_pattern={"mlp.down_proj": 4},
    /// exclude_modules=["model.layers.1.self_attn.o_proj"])).save_pretrained(dir)` with peft 0.21.2, verbatim:
    /// peft expanded "all-linear" into full paths before saving.
    static let peftModelSavePretrained = #"""
        {
          "alora_invocation_tokens": null,
          "alpha_pattern": {},
          "arrow_config": null,
          "auto_mapping": null,
          "base_model_name_or_path": "eckart/tiny-llama",
          "bias": "none",
          "corda_config": null,
          "ensure_weight_tying": false,
          "eva_config": null,
          "exclude_modules": [
            "model.layers.1.self_attn.o_proj"
          ],
          "fan_in_fan_out": false,
          "inference_mode": true,
          "init_lora_weights": true,
          "kasa_config": null,
          "layer_replication": null,
          "layers_pattern": null,
          "layers_to_transform": null,
          "loftq_config": {},
          "lora_alpha": 16,
          "lora_bias": false,
          "lora_dropout": 0.0,
          "lora_ga_config": null,
          "megatron_config": null,
          "megatron_core": "megatron.core",
          "modules_to_save": null,
          "monteclora_config": null,
          "peft_type": "LORA",
          "peft_version": "0.21.2",
          "qalora_group_size": 16,
          "r": 8,
          "rank_pattern": {
            "mlp.down_proj": 4
          },
          "revision": null,
          "target_modules": [
            "model.layers.0.self_attn.o_proj",
            "model.layers.0.self_attn.q_proj",
            "model.layers.1.mlp.up_proj",
            "model.layers.1.self_attn.k_proj",
            "model.layers.0.self_attn.k_proj",
            "model.layers.1.mlp.down_proj",
            "model.layers.0.mlp.up_proj",
            "model.layers.0.mlp.gate_proj",
            "model.layers.1.self_attn.q_proj",
            "model.layers.1.self_attn.o_proj",
            "model.layers.0.mlp.down_proj",
            "model.layers.1.mlp.gate_proj",
            "model.layers.0.self_attn.v_proj",
            "model.layers.1.self_attn.v_proj"
          ],
          "target_parameters": null,
          "task_type": "CAUSAL_LM",
          "trainable_token_indices": null,
          "use_bdlora": null,
          "use_dora": true,
          "use_qalora": false,
          "use_rslora": true,
          "velora_config": null
        }
        """#

    /// `get_peft_model(tiny BertModel, LoraConfig(r=4, lora_alpha=8, target_modules=["query", "value"],
    /// layers_to_transform=[1], layers_pattern="layer", task_type="FEATURE_EXTRACTION")).save_pretrained(dir)`
    /// with peft 0.21.2, verbatim.
    static let bertSavePretrained = #"""
        {
          "alora_invocation_tokens": null,
          "alpha_pattern": {},
          "arrow_config": null,
          "auto_mapping": null,
          "base_model_name_or_path": "eckart/tiny-bert",
          "bias": "none",
          "corda_config": null,
          "ensure_weight_tying": false,
          "eva_config": null,
          "exclude_modules": null,
          "fan_in_fan_out": false,
          "inference_mode": true,
          "init_lora_weights": true,
          "kasa_config": null,
          "layer_replication": null,
          "layers_pattern": "layer",
          "layers_to_transform": [
            1
          ],
          "loftq_config": {},
          "lora_alpha": 8,
          "lora_bias": false,
          "lora_dropout": 0.0,
          "lora_ga_config": null,
          "megatron_config": null,
          "megatron_core": "megatron.core",
          "modules_to_save": null,
          "monteclora_config": null,
          "peft_type": "LORA",
          "peft_version": "0.21.2",
          "qalora_group_size": 16,
          "r": 4,
          "rank_pattern": {},
          "revision": null,
          "target_modules": [
            "query",
            "value"
          ],
          "target_parameters": null,
          "task_type": "FEATURE_EXTRACTION",
          "trainable_token_indices": null,
          "use_bdlora": null,
          "use_dora": false,
          "use_qalora": false,
          "use_rslora": false,
          "velora_config": null
        }
        """#

    @Test func loraConfigFile() throws {
        let c = try AdapterConfig(jsonData: Data(Self.loraConfigSavePretrained.utf8))
        #expect(c.baseModelName == "meta-llama/Llama-3.2-1B")
        #expect(c.taskType == "CAUSAL_LM")
        #expect(c.rank == 16)
        #expect(c.alpha == 32)
        #expect(!c.useRSLoRA && !c.useDoRA && !c.fanInFanOut)
        #expect(c.targetModules == .names(["k_proj", "v_proj", "o_proj", "q_proj"]))
        #expect(c.excludeModules == nil)
        #expect(c.layersToTransform == nil)
        #expect(c.layersPattern == nil)
        #expect(c.rankPattern == ["model.layers.1.self_attn.q_proj": 4])
        #expect(c.alphaPattern == ["o_proj": 8])
        let targets = try c.targetedModules(
            among: llamaLinear, outputLayer: "lm_head", otherModules: ReferenceModel.llama.other)
        #expect(targets == llamaLinear.filter { $0.contains("self_attn") })
        #expect(c.scale(forModule: "model.layers.0.self_attn.q_proj") == 2)  // 32 / 16
        #expect(c.scale(forModule: "model.layers.1.self_attn.q_proj") == 8)  // 32 / 4
        #expect(c.scale(forModule: "model.layers.1.self_attn.o_proj") == 0.5)  // 8 / 16
    }

    /// Reloading this file with `PeftModel.from_pretrained` in peft 0.21.2 adapted these modules, with
    /// r / lora_alpha / scaling as listed.
    @Test func peftModelFileMatchesPeftReload() throws {
        let c = try AdapterConfig(jsonData: Data(Self.peftModelSavePretrained.utf8))
        #expect(c.useDoRA && c.useRSLoRA)
        #expect(c.excludeModules == .names(["model.layers.1.self_attn.o_proj"]))
        let expected: [(String, Int, Double, Double)] = [
            ("model.layers.0.self_attn.q_proj", 8, 16, 5.65685424949238),
            ("model.layers.0.self_attn.k_proj", 8, 16, 5.65685424949238),
            ("model.layers.0.self_attn.v_proj", 8, 16, 5.65685424949238),
            ("model.layers.0.self_attn.o_proj", 8, 16, 5.65685424949238),
            ("model.layers.0.mlp.gate_proj", 8, 16, 5.65685424949238),
            ("model.layers.0.mlp.up_proj", 8, 16, 5.65685424949238),
            ("model.layers.0.mlp.down_proj", 4, 16, 8.0),
            ("model.layers.1.self_attn.q_proj", 8, 16, 5.65685424949238),
            ("model.layers.1.self_attn.k_proj", 8, 16, 5.65685424949238),
            ("model.layers.1.self_attn.v_proj", 8, 16, 5.65685424949238),
            ("model.layers.1.mlp.gate_proj", 8, 16, 5.65685424949238),
            ("model.layers.1.mlp.up_proj", 8, 16, 5.65685424949238),
            ("model.layers.1.mlp.down_proj", 4, 16, 8.0),
        ]
        let targets = try c.targetedModules(
            among: llamaLinear, outputLayer: "lm_head", otherModules: ReferenceModel.llama.other)
        #expect(targets == expected.map(\.0))
        for (path, r, alpha, scaling) in expected {
            #expect(c.rank(forModule: path) == r)
            #expect(c.alpha(forModule: path) == alpha)
            #expect(c.scale(forModule: path) == Float(scaling))
        }
    }

    /// Reloaded with peft 0.21.2: encoder.layer.1.attention.self.{query,value}, r 4, alpha 8, scaling 2.
    @Test func bertFileMatchesPeftReload() throws {
        let c = try AdapterConfig(jsonData: Data(Self.bertSavePretrained.utf8))
        #expect(c.layersToTransform == [1])
        #expect(c.layersPattern == ["layer"])
        let bert = ReferenceModel.bert
        let targets = try c.targetedModules(among: bert.linear, outputLayer: nil, otherModules: bert.other)
        #expect(targets == ["encoder.layer.1.attention.self.query", "encoder.layer.1.attention.self.value"])
        #expect(targets.allSatisfy { c.scale(forModule: $0) == 2 })
    }

    @Test func loadFromDirectory() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("eckart-adapter-\(UUID())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(throws: AdapterConfigError.fileNotFound(path: dir.appendingPathComponent("adapter_config.json").path)) {
            _ = try AdapterConfig.load(fromDirectory: dir)
        }
        try Data(Self.bertSavePretrained.utf8).write(to: dir.appendingPathComponent("adapter_config.json"))
        let c = try AdapterConfig.load(fromDirectory: dir)
        #expect(c.rank == 4)
    }
}

// MARK: - Decoding and defaults

@Suite("AdapterConfig: decoding")
struct AdapterConfigDecodingTests {
    @Test func peftDefaults() throws {
        let c = try AdapterConfig(jsonData: Data(#"{"peft_type": "LORA"}"#.utf8))
        #expect(c.rank == 8)
        #expect(c.alpha == 8)
        #expect(!c.useRSLoRA && !c.useDoRA && !c.fanInFanOut)
        #expect(c.targetModules == .architectureDefault)
        #expect(c.excludeModules == nil)
        #expect(c.layersToTransform == nil && c.layersPattern == nil)
        #expect(c.rankPattern.isEmpty && c.alphaPattern.isEmpty)
        #expect(c.baseModelName == nil && c.taskType == nil)
        #expect(c.maxRank == AdapterConfig.defaultMaxRank)
        #expect(c.scale(forModule: "model.layers.0.self_attn.q_proj") == 1)
    }

    @Test func nullMeansDefault() throws {
        let c = try AdapterConfig(jsonData: Data(#"""
            {"peft_type": "LORA", "target_modules": null, "use_rslora": null, "use_dora": null, "bias": null,
             "rank_pattern": null, "alpha_pattern": null, "exclude_modules": null, "layers_to_transform": null,
             "modules_to_save": null, "init_lora_weights": null, "task_type": null}
            """#.utf8))
        #expect(c.targetModules == .architectureDefault)
        #expect(!c.useRSLoRA && !c.useDoRA)
        #expect(c.rankPattern.isEmpty)
    }

    @Test func unknownKeysAreIgnored() throws {
        let c = try config(#""some_future_field": {"a": [1, 2, {"b": null}]}, "lora_dropout": 0.1, "revision": "main""#)
        #expect(c.rank == 8)
    }

    @Test func wireForms() throws {
        let intLayer = try config(#""layers_to_transform": 3"#)
        #expect(intLayer.layersToTransform == [3])
        let pattern = try config(#""layers_to_transform": [0, 2], "layers_pattern": "h""#)
        #expect(pattern.layersPattern == ["h"])
        let emptyPattern = try config(#""layers_to_transform": [0], "layers_pattern": """#)
        #expect(emptyPattern.layersPattern == [])
        let regex = try AdapterConfig(jsonData: Data(#"{"peft_type": "LORA", "target_modules": ".*q_proj"}"#.utf8))
        #expect(regex.targetModules == .regex(".*q_proj"))
        let allLinear = try AdapterConfig(jsonData: Data(#"{"peft_type": "LORA", "target_modules": "All-Linear"}"#.utf8))
        #expect(allLinear.targetModules == .allLinear)
        #expect(try config(#""exclude_modules": """#).excludeModules == nil)
        #expect(try config(#""exclude_modules": []"#).excludeModules == nil)
        #expect(try config(#""exclude_modules": "lm_head""#).excludeModules == .regex("lm_head"))
        #expect(try config(#""lora_alpha": 0.5"#).alpha == 0.5)
    }

    /// Accepted and without effect: peft 0.21.2's `dispatch_default` sets fan_in_fan_out to False for
    /// torch.nn.Linear targets.
    @Test func fanInFanOutIsAcceptedWithoutEffect() throws {
        let c = try config(#""fan_in_fan_out": true, "r": 4, "lora_alpha": 8"#)
        #expect(c.fanInFanOut)
        #expect(c.scale(forModule: "model.layers.0.self_attn.q_proj") == 2)
    }

    @Test func maxRankIsConfigurable() throws {
        #expect(try config(#""r": 2048"#, maxRank: 4096).rank == 2048)
        #expect(error(#""r": 64"#, maxRank: 32) == .rankOutOfRange(field: "r", rank: 64, maxRank: 32))
    }

    /// rank_pattern order comes from the file (peft's own files are key-sorted), not from Foundation.
    @Test func patternKeyOrderIsTheFileOrder() throws {
        let keys = ["z_proj|q_proj", "q_proj", #".*"#, "a", "k\u{e9}y", #"esc\"aped"#]
        let members = keys.enumerated().map { i, key in
            "\(String(decoding: try! JSONEncoder().encode(key), as: UTF8.self)): \(i + 1)"
        }.joined(separator: ", ")
        let json = #"{"peft_type": "LORA", "nested": {"rank_pattern": {"q_proj": 99}}, "#
            + #""target_modules": ["q_proj"], "rank_pattern": {"# + members + "}}"
        let c = try AdapterConfig(jsonData: Data(json.utf8))
        #expect(c.rankPatternKeys.map(\.key) == keys)
        #expect(c.rank(forModule: "model.layers.0.self_attn.q_proj") == 1)
        #expect(c.rank(forModule: "model.layers.0.self_attn.v_proj") == 3)
        #expect(AdapterConfig.patternKeyOrder(Data(json.utf8))["rank_pattern"] == keys)
    }

    @Test func scaleFormulas() throws {
        let plain = try config(#""r": 16, "lora_alpha": 32, "rank_pattern": {"v_proj": 4}, "alpha_pattern": {"v_proj": 2}"#)
        #expect(plain.scale(forModule: "model.layers.0.self_attn.q_proj") == 2)
        #expect(plain.scale(forModule: "model.layers.0.self_attn.v_proj") == 0.5)
        let rs = try config(#""r": 16, "lora_alpha": 32, "use_rslora": true, "rank_pattern": {"v_proj": 4}"#)
        #expect(rs.scale(forModule: "model.layers.0.self_attn.q_proj") == 8)
        #expect(rs.scale(forModule: "model.layers.0.self_attn.v_proj") == 16)
        let odd = try config(#""r": 3, "lora_alpha": 7, "use_rslora": true"#)
        #expect(odd.scale(forModule: "x") == Float(7 / 3.0.squareRoot()))
    }

    /// What JSONDecoder accepted silently or misreported is refused by name.
    @Test func byteOrderMarkDuplicateKeyAndInvalidUTF8AreNamed() {
        func refusal(_ bytes: [UInt8]) -> AdapterConfigError? {
            do { _ = try AdapterConfig(jsonData: Data(bytes)); return nil } catch { return error as? AdapterConfigError }
        }
        let valid = Array(#"{"peft_type": "LORA", "target_modules": ["q_proj"]}"#.utf8)
        #expect(refusal([0xEF, 0xBB, 0xBF] + valid) == .byteOrderMark(source: "adapter_config.json"))
        #expect(refusal(Array(#"{"peft_type": "LORA", "r": 8, "target_modules": ["q_proj"], "r": 16}"#.utf8))
            == .duplicateKey(source: "adapter_config.json", key: "r"))
        // Used to be "field `base_model_name_or_path` must be a string".
        let badUTF8 = Array(#"{"peft_type": "LORA", "target_modules": ["q_proj"], "base_model_name_or_path": "a"#.utf8)
            + [0xFF] + Array(#""}"#.utf8)
        #expect(refusal(badUTF8) == .invalidUTF8(source: "adapter_config.json", offset: 81))
        #expect(refusal(valid) == nil)
    }

    /// Unsupported constructs in a regex field are refused with the field and the construct named.
    @Test func unsupportedRegexConstructIsNamed() {
        let json = #"{"peft_type": "LORA", "target_modules": "(q)_proj\\1"}"#
        guard case .invalidRegex(let field, _, let detail)? = error(json: json) else {
            Issue.record("expected invalidRegex, got \(String(describing: error(json: json)))")
            return
        }
        #expect(field == "target_modules" && detail.contains("backreference"))
    }

    /// peft 0.21.2 raises NoMatchingPeftModuleError for all three.
    @Test func noMatchExplanations() throws {
        let c = try config(#""exclude_modules": ["q_proj"]"#)
        #expect(throws: AdapterConfigError.self) { _ = try c.targetedModules(among: llamaLinear, outputLayer: nil) }
        let empty = try AdapterConfig(jsonData: Data(#"{"peft_type": "LORA", "target_modules": []}"#.utf8))
        do {
            _ = try empty.targetedModules(among: llamaLinear, outputLayer: nil)
            Issue.record("expected an error")
        } catch let error as AdapterConfigError {
            guard case .noModulesTargeted(let detail) = error else { Issue.record("\(error)"); return }
            #expect(detail.contains("target_modules is empty"))
        }
    }
}

// MARK: - Refusals (one test per AdapterConfigError case)

@Suite("AdapterConfig: refusals")
struct AdapterConfigRefusalTests {
    @Test func malformedJSON() {
        guard case .malformedJSON(let source, _)? = error(json: #"{"peft_type": "LORA""#) else {
            Issue.record("expected malformedJSON")
            return
        }
        #expect(source == "adapter_config.json")
        guard case .malformedJSON? = error(json: "[1, 2]") else {
            Issue.record("expected malformedJSON for a top-level array")
            return
        }
    }

    @Test func missingPeftType() {
        #expect(error(json: #"{"r": 8, "target_modules": ["q_proj"]}"#) == .missingField(field: "peft_type"))
        #expect(error(json: #"{"peft_type": null}"#) == .wrongType(field: "peft_type", expected: "a string, not null"))
    }

    @Test(arguments: [
        (#""r": "16""#, "r"), (#""r": 16.5"#, "r"), (#""r": null"#, "r"), (#""lora_alpha": "x""#, "lora_alpha"),
        (#""lora_alpha": null"#, "lora_alpha"), (#""use_dora": "yes""#, "use_dora"),
        (#""layers_to_transform": "1""#, "layers_to_transform"), (#""layers_pattern": 1"#, "layers_pattern"),
        (#""rank_pattern": {"q_proj": 1.5}"#, "rank_pattern"), (#""alpha_pattern": ["q_proj"]"#, "alpha_pattern"),
        (#""init_lora_weights": 1"#, "init_lora_weights"), (#""target_parameters": "experts""#, "target_parameters"),
        (#""exclude_modules": {"a": 1}"#, "exclude_modules"), (#""velora_config": true"#, "velora_config"),
        (#""modules_to_save": "classifier""#, "modules_to_save"),
    ])
    func wrongType(extra: String, field: String) {
        guard case .wrongType(let f, _)? = error(extra) else {
            Issue.record("expected wrongType for \(extra), got \(String(describing: error(extra)))")
            return
        }
        #expect(f == field)
        #expect(error(extra)!.description.contains("`\(field)`"))
    }

    @Test func wrongTargetModulesType() {
        let e = error(json: #"{"peft_type": "LORA", "target_modules": 3}"#)
        #expect(e == .wrongType(field: "target_modules", expected: "a string or a list of strings"))
    }

    @Test func unsupportedPeftType() {
        #expect(error(json: #"{"peft_type": "ADALORA", "r": 8}"#) == .unsupportedPeftType("ADALORA"))
        #expect(error(json: #"{"peft_type": "lora"}"#) == .unsupportedPeftType("lora"))
        #expect(error(json: #"{"peft_type": "IA3"}"#)!.description.contains("\"IA3\""))
    }

    @Test(arguments: ["pissa", "pissa_niter_16", "corda", "olora", "OLoRA", "loftq", "lora_ga"])
    func baseWeightsModifiedByInitialization(method: String) {
        let e = error(#""init_lora_weights": "\#(method)""#)
        #expect(e == .baseWeightsModified(field: "init_lora_weights", value: "\"\(method)\""))
        #expect(e!.description.contains("path_initial_model_for_weight_conversion"))
        #expect(e!.description.contains(method))
    }

    @Test func baseWeightsModifiedByKaSA() {
        guard case .baseWeightsModified(let field, _)? = error(#""kasa_config": {"beta": 0.0001}"#) else {
            Issue.record("expected baseWeightsModified")
            return
        }
        #expect(field == "kasa_config")
    }

    /// These only initialise lora_A / lora_B (peft 0.21.2 `update_layer`), the base stays untouched.
    @Test(arguments: ["true", "false", #""gaussian""#, #""Gaussian""#, #""eva""#, #""orthogonal""#, #""mica""#, #""""#])
    func initialisationsThatKeepTheBase(value: String) throws {
        #expect(try config(#""init_lora_weights": \#(value)"#).rank == 8)
    }

    /// peft 0.21.2 raises "Unknown initialization init_lora_weights='Eva'" (only "eva" is EVA).
    @Test func unknownInitialization() {
        #expect(error(#""init_lora_weights": "Eva""#) == .unknownInitialization("Eva"))
        #expect(error(#""init_lora_weights": "xavier""#) == .unknownInitialization("xavier"))
    }

    @Test func modulesToSave() throws {
        #expect(error(#""modules_to_save": ["classifier", "score"]"#) == .modulesToSave(["classifier", "score"]))
        _ = try config(#""modules_to_save": []"#)
    }

    @Test func loraBias() throws {
        #expect(error(#""lora_bias": true"#) == .loraBias)
        _ = try config(#""lora_bias": false"#)
    }

    @Test func trainedBias() {
        #expect(error(#""bias": "all""#) == .trainedBias("all"))
        #expect(error(#""bias": "lora_only""#) == .trainedBias("lora_only"))
        #expect(error(#""bias": "lora_only""#)!.description.contains("bias=\"lora_only\""))
    }

    /// peft 0.21.2 raises NotImplementedError("Requested bias: weird, is not implemented.").
    @Test func invalidValue() {
        guard case .invalidValue(let field, _, _)? = error(#""bias": "weird""#) else {
            Issue.record("expected invalidValue")
            return
        }
        #expect(field == "bias")
        guard case .invalidValue(let task, _, _)? = error(#""task_type": "FOO""#) else {
            Issue.record("expected invalidValue for task_type")
            return
        }
        #expect(task == "task_type")
        guard case .invalidValue(let velora, _, _)? = error(#""velora_config": {"num_groups": 0}"#) else {
            Issue.record("expected invalidValue for velora_config")
            return
        }
        #expect(velora == "velora_config.num_groups")
        guard case .invalidValue(let eva, _, _)? = error(#""eva_config": {"rho": 0.5}"#) else {
            Issue.record("expected invalidValue for eva_config")
            return
        }
        #expect(eva == "eva_config.rho")
    }

    @Test func targetParameters() throws {
        #expect(error(#""target_parameters": ["feed_forward.experts.down_proj"]"#)
            == .targetParameters(["feed_forward.experts.down_proj"]))
        _ = try config(#""target_parameters": []"#)
    }

    @Test func layerReplication() throws {
        guard case .layerReplication? = error(#""layer_replication": [[0, 2], [1, 2]]"#) else {
            Issue.record("expected layerReplication")
            return
        }
        _ = try config(#""layer_replication": []"#)
    }

    @Test func trainableTokens() throws {
        #expect(error(#""trainable_token_indices": [1, 2]"#) == .trainableTokens("[1, 2]"))
        guard case .trainableTokens? = error(#""trainable_token_indices": {"embed_tokens": [3]}"#) else {
            Issue.record("expected trainableTokens")
            return
        }
        _ = try config(#""trainable_token_indices": []"#)
    }

    @Test(arguments: [
        (#""alora_invocation_tokens": [1, 2]"#, "alora_invocation_tokens"),
        (#""arrow_config": {}"#, "arrow_config"),
        (#""use_bdlora": {"target_modules_bd_a": ["q_proj"]}"#, "use_bdlora"),
        (#""use_qalora": true"#, "use_qalora"),
        (#""ensure_weight_tying": true, "target_modules": ["lm_head"]"#, "ensure_weight_tying"),
    ])
    func unsupportedVariant(extra: String, field: String) {
        let json = #"{"peft_type": "LORA", "#
            + (extra.contains("target_modules") ? "" : #""target_modules": ["q_proj"], "#) + extra + "}"
        guard case .unsupportedVariant(let f, _)? = error(json: json) else {
            Issue.record("expected unsupportedVariant for \(extra), got \(String(describing: error(json: json)))")
            return
        }
        #expect(f == field)
    }

    /// Plain LoRA at inference: accepted.
    @Test(arguments: [
        #""use_dora": true"#, #""velora_config": {}"#, #""monteclora_config": {"num_samples": 4}"#,
        #""init_lora_weights": "mica""#, #""alora_invocation_tokens": []"#, #""ensure_weight_tying": true"#,
        #""megatron_config": {"tensor_model_parallel_size": 2}"#, #""use_qalora": false, "qalora_group_size": 32"#,
        #""eva_config": {"rho": 2.0}, "init_lora_weights": "eva""#,
    ])
    func acceptedVariants(extra: String) throws {
        _ = try config(extra)
    }

    /// peft 0.21.2 raises "Invalid or unsupported variant combination: ('use_dora', 'velora_config')".
    @Test func variantCombination() {
        #expect(error(#""use_dora": true, "velora_config": {}"#) == .variantCombination(["use_dora", "velora_config"]))
        #expect(error(#""use_dora": true, "init_lora_weights": "mica""#)
            == .variantCombination(["use_dora", "init_lora_weights=\"mica\""]))
    }

    @Test func rankOutOfRange() {
        #expect(error(#""r": 0"#) == .rankOutOfRange(field: "r", rank: 0, maxRank: 1024))
        #expect(error(#""r": -4"#) == .rankOutOfRange(field: "r", rank: -4, maxRank: 1024))
        let tooBig = error(#""r": 2048"#)
        #expect(tooBig == .rankOutOfRange(field: "r", rank: 2048, maxRank: 1024))
        #expect(tooBig!.description.contains("2048") && tooBig!.description.contains("1024"))
        #expect(error(#""rank_pattern": {"v_proj": 0}"#)
            == .rankOutOfRange(field: "rank_pattern[\"v_proj\"]", rank: 0, maxRank: 1024))
        #expect(error(#""rank_pattern": {"v_proj": 4096}"#)
            == .rankOutOfRange(field: "rank_pattern[\"v_proj\"]", rank: 4096, maxRank: 1024))
    }

    /// Python's json writes float('nan') as NaN and infinities as Infinity / -Infinity.
    @Test func nonFiniteAlpha() {
        #expect(error(#""lora_alpha": NaN"#) == .nonFiniteAlpha(field: "lora_alpha", value: "nan"))
        #expect(error(#""lora_alpha": Infinity"#) == .nonFiniteAlpha(field: "lora_alpha", value: "inf"))
        #expect(error(#""alpha_pattern": {"v_proj": -Infinity}"#)
            == .nonFiniteAlpha(field: "alpha_pattern[\"v_proj\"]", value: "-inf"))
    }

    /// Found by Fuzz/AdapterConfig: Foundation's JSON5 decoder, tried for NaN / Infinity after the
    /// strict parse fails, traps on invalid UTF-8 in an unquoted key; an upload must get a 400 instead.
    @Test func invalidUTF8AfterStrictSyntaxError() throws {
        let bytes = Data([0x7B, 0x70, 0xF8, 0xF7, 0x9D, 0xB8, 0xEE])   // `{p` and five bytes that are not UTF-8
        #expect(throws: AdapterConfigError.self) { try AdapterConfig(jsonData: bytes) }
    }

    @Test(arguments: [
        (#"{"peft_type": "LORA", "target_modules": "(q_proj"}"#, "target_modules"),
        (#"{"peft_type": "LORA", "target_modules": "a)|(b"}"#, "target_modules"),
        (#"{"peft_type": "LORA", "target_modules": ["q_proj"], "exclude_modules": "[a-"}"#, "exclude_modules"),
        (#"{"peft_type": "LORA", "target_modules": ["q_proj"], "rank_pattern": {"q_proj(": 4}}"#, "rank_pattern"),
        (#"{"peft_type": "LORA", "target_modules": ["q_proj"], "alpha_pattern": {"*": 4}}"#, "alpha_pattern"),
        (#"{"peft_type": "LORA", "target_modules": ["q"], "layers_to_transform": [0], "layers_pattern": "(h"}"#,
         "layers_pattern"),
    ])
    func invalidRegex(json: String, field: String) {
        guard case .invalidRegex(let f, _, _)? = error(json: json) else {
            Issue.record("expected invalidRegex for \(json), got \(String(describing: error(json: json)))")
            return
        }
        #expect(f == field)
    }

    /// peft 0.21.2 LoraConfig.__post_init__ raises ValueError for each.
    @Test func conflictingFields() {
        for json in [
            #"{"peft_type": "LORA", "target_modules": ".*q_proj", "layers_to_transform": [0]}"#,
            #"{"peft_type": "LORA", "target_modules": "all-linear", "layers_pattern": "layers"}"#,
            #"{"peft_type": "LORA", "target_modules": ["q_proj"], "layers_pattern": "layers"}"#,
            #"{"peft_type": "LORA", "target_modules": ["q_proj"], "use_dora": true, "megatron_config": {"a": 1}}"#,
        ] {
            guard case .conflictingFields? = error(json: json) else {
                Issue.record("expected conflictingFields for \(json)")
                continue
            }
        }
    }

    @Test func targetModulesUnresolved() throws {
        let c = try AdapterConfig(jsonData: Data(#"{"peft_type": "LORA"}"#.utf8))
        #expect(throws: AdapterConfigError.targetModulesUnresolved(modelType: nil)) {
            _ = try c.targetedModules(among: llamaLinear, outputLayer: "lm_head")
        }
        #expect(throws: AdapterConfigError.targetModulesUnresolved(modelType: "mamba")) {
            _ = try c.targetedModules(among: llamaLinear, outputLayer: "lm_head", modelType: "mamba")
        }
        #expect(try c.targetedModules(among: llamaLinear, outputLayer: "lm_head", modelType: "qwen2").count == 4)
    }

    @Test func dummyTargetModules() {
        #expect(error(json: #"{"peft_type": "LORA", "target_modules": "dummy-target-modules"}"#) == .dummyTargetModules)
    }

    @Test func noModulesTargeted() throws {
        let c = try AdapterConfig(jsonData: Data(#"{"peft_type": "LORA", "target_modules": ["query", "value"]}"#.utf8))
        do {
            _ = try c.targetedModules(among: llamaLinear, outputLayer: "lm_head")
            Issue.record("expected noModulesTargeted")
        } catch let error as AdapterConfigError {
            guard case .noModulesTargeted = error else { Issue.record("\(error)"); return }
            #expect(error.description.contains("\"query\""))
        }
    }

    /// peft 0.21.2 raises "ValueError: Target module LlamaMLP(...) is not supported" for containers and
    /// builds an embedding LoRA for embed_tokens; both are refused.
    @Test func nonLinearTarget() throws {
        let mlp = try AdapterConfig(jsonData: Data(#"{"peft_type": "LORA", "target_modules": ["mlp"]}"#.utf8))
        #expect(throws: AdapterConfigError.nonLinearTarget(path: "model.layers.0.mlp")) {
            _ = try mlp.targetedModules(
                among: llamaLinear, outputLayer: "lm_head", otherModules: ReferenceModel.llama.other)
        }
        let embed = try AdapterConfig(jsonData: Data(#"{"peft_type": "LORA", "target_modules": ".*embed_tokens|.*q_proj"}"#.utf8))
        #expect(throws: AdapterConfigError.nonLinearTarget(path: "model.embed_tokens")) {
            _ = try embed.targetedModules(
                among: llamaLinear, outputLayer: "lm_head", otherModules: ReferenceModel.llama.other)
        }
    }

    /// peft 0.21.2 raises "target_modules should not contain an empty string." once the list has 20+ entries.
    @Test func emptyEntryInLongTargetList() throws {
        let names = llamaLinear.dropLast() + ["", "a", "b", "c", "d", "e"]
        let json = #"{"peft_type": "LORA", "target_modules": "#
            + String(decoding: try JSONEncoder().encode(Array(names)), as: UTF8.self) + "}"
        let c = try AdapterConfig(jsonData: Data(json.utf8))
        do {
            _ = try c.targetedModules(among: llamaLinear, outputLayer: nil)
            Issue.record("expected invalidValue")
        } catch let error as AdapterConfigError {
            guard case .invalidValue(let field, _, _) = error else { Issue.record("\(error)"); return }
            #expect(field == "target_modules")
        }
    }

    @Test func fileNotFound() {
        let dir = URL(fileURLWithPath: "/nonexistent-eckart-dir")
        #expect(throws: AdapterConfigError.fileNotFound(path: "/nonexistent-eckart-dir/adapter_config.json")) {
            _ = try AdapterConfig.load(fromDirectory: dir)
        }
    }
}
