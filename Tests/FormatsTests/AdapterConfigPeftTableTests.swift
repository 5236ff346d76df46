// Table-driven checks of AdapterConfig against peft 0.21.2 itself.
//
// The tables below were produced by running peft 0.21.2's own code in /work/venv (Python 3.11,
// torch 2.13, transformers 5.23):
//   - injectionCases: `get_peft_model(model, LoraConfig.from_pretrained(dir_with_this_json))` on a
//     2-layer LlamaForCausalLM and a 2-layer BertModel (hidden 16), listing every `lora.Linear` in module
//     order with `r["default"]`, `lora_alpha["default"]` and `scaling["default"]`, or the exception raised;
//   - directMatchCases: `peft.tuners.tuners_utils.check_target_module_exists(LoraConfig(**json), name)`
//     (`_ExcludedModule` → .excluded, truthy → .targeted, else .unmatched);
//   - patternKeyCases: `peft.utils.other.get_pattern_key(keys, name)`.
import Foundation
import Testing
@testable import Formats

/// The two reference models' module paths, as `model.named_modules()` lists them (root "" omitted).
enum ReferenceModel: Sendable {
    case llama
    case bert

    var linear: [String] {
        switch self {
        case .llama:
            return (0..<2).flatMap { i in
                ["q_proj", "k_proj", "v_proj", "o_proj"].map { "model.layers.\(i).self_attn.\($0)" }
                    + ["gate_proj", "up_proj", "down_proj"].map { "model.layers.\(i).mlp.\($0)" }
            } + ["lm_head"]
        case .bert:
            return (0..<2).flatMap { i in
                ["query", "key", "value"].map { "encoder.layer.\(i).attention.self.\($0)" } + [
                    "encoder.layer.\(i).attention.output.dense",
                    "encoder.layer.\(i).intermediate.dense",
                    "encoder.layer.\(i).output.dense",
                ]
            } + ["pooler.dense"]
        }
    }

    var other: [String] {
        switch self {
        case .llama:
            return ["model", "model.embed_tokens", "model.layers"]
                + (0..<2).flatMap { i in
                    [
                        "model.layers.\(i)", "model.layers.\(i).self_attn", "model.layers.\(i).mlp",
                        "model.layers.\(i).mlp.act_fn", "model.layers.\(i).input_layernorm",
                        "model.layers.\(i).post_attention_layernorm",
                    ]
                } + ["model.norm", "model.rotary_emb"]
        case .bert:
            return [
                "embeddings", "embeddings.word_embeddings", "embeddings.position_embeddings",
                "embeddings.token_type_embeddings", "embeddings.LayerNorm", "embeddings.dropout", "encoder",
                "encoder.layer",
            ] + (0..<2).flatMap { i in
                [
                    "encoder.layer.\(i)", "encoder.layer.\(i).attention", "encoder.layer.\(i).attention.self",
                    "encoder.layer.\(i).attention.self.dropout", "encoder.layer.\(i).attention.output",
                    "encoder.layer.\(i).attention.output.LayerNorm", "encoder.layer.\(i).attention.output.dropout",
                    "encoder.layer.\(i).intermediate", "encoder.layer.\(i).intermediate.intermediate_act_fn",
                    "encoder.layer.\(i).output", "encoder.layer.\(i).output.LayerNorm",
                    "encoder.layer.\(i).output.dropout",
                ]
            } + ["pooler", "pooler.activation"]
        }
    }

    /// What peft's "all-linear" leaves out: `get_output_embeddings()` (BertModel has none).
    var outputLayer: String? { self == .llama ? "lm_head" : nil }
    var modelType: String { self == .llama ? "llama" : "bert" }
}

struct InjectionCase: Sendable, CustomTestStringConvertible {
    enum Expected: Sendable {
        /// (module path, r, lora_alpha, scaling) of every module peft adapted, in module order.
        case targets([(String, Int, Double, Double)])
        /// The exception peft raised (type and first line).
        case peftRaised(String)
    }

    let name: String
    let model: ReferenceModel
    let json: String
    let expected: Expected

    init(_ name: String, _ model: ReferenceModel, json: String, expected: Expected) {
        self.name = name
        self.model = model
        self.json = json
        self.expected = expected
    }

    var testDescription: String { name }
}

struct DirectMatchCase: Sendable, CustomTestStringConvertible {
    let name: String
    let json: String
    let names: [String]
    let expected: [ModuleMatch]

    init(_ name: String, json: String, names: [String], expected: [ModuleMatch]) {
        self.name = name
        self.json = json
        self.names = names
        self.expected = expected
    }

    var testDescription: String { name }
}

struct PatternKeyCase: Sendable, CustomTestStringConvertible {
    let name: String
    let keys: [String]
    let expected: [String?]

    init(_ name: String, keys: [String], expected: [String?]) {
        self.name = name
        self.keys = keys
        self.expected = expected
    }

    var testDescription: String { name }
}

extension ModuleMatch: CustomTestStringConvertible {
    public var testDescription: String { "\(self)" }
}

@Suite("AdapterConfig vs peft 0.21.2")
struct AdapterConfigPeftTableTests {
    @Test(arguments: injectionCases)
    func injection(_ c: InjectionCase) throws {
        let model = c.model
        func resolve() throws -> (AdapterConfig, [String]) {
            let config = try AdapterConfig(jsonData: Data(c.json.utf8))
            let targets = try config.targetedModules(
                among: model.linear, outputLayer: model.outputLayer, otherModules: model.other,
                modelType: model.modelType)
            return (config, targets)
        }
        switch c.expected {
        case .targets(let rows):
            if let nonLinear = rows.map(\.0).first(where: model.other.contains) {
                // peft adapts an embedding here; Eckart serves linear layers only and refuses.
                #expect(throws: AdapterConfigError.nonLinearTarget(path: nonLinear)) { _ = try resolve() }
                return
            }
            let (config, targets) = try resolve()
            #expect(targets == rows.map(\.0))
            for (path, r, alpha, scaling) in rows {
                #expect(config.rank(forModule: path) == r, "rank of \(path)")
                #expect(config.alpha(forModule: path) == alpha, "alpha of \(path)")
                #expect(config.scale(forModule: path) == Float(scaling), "scale of \(path)")
            }
        case .peftRaised(let message):
            do {
                _ = try resolve()
                Issue.record("peft raised \(message) but AdapterConfig accepted the adapter")
            } catch let error as AdapterConfigError {
                switch error {
                case .noModulesTargeted:
                    #expect(message.hasPrefix("NoMatchingPeftModuleError"), "\(error)")
                case .nonLinearTarget:
                    #expect(message.hasPrefix("ValueError: Target module"), "\(error)")
                case .conflictingFields:
                    #expect(message.contains("cannot be used when") || message.contains("must also be specified"),
                            "\(error)")
                default:
                    Issue.record("unexpected \(error) for peft's \(message)")
                }
            }
        }
    }

    /// peft (Python's backtracking `re`) accepts backreferences, e.g.
    /// `(?P<prefix>model\.layers)\.(?P<l>\d)\.mlp\.experts\.\d\.w(?P=l)`; Eckart refuses them by name,
    /// because no bounded-time matcher can run them (see BoundedRegex), and a config's patterns must
    /// not be able to hang the server.
    @Test func backreferenceIsRefused() {
        let json = #"{"peft_type": "LORA", "target_modules": "(?P<prefix>model\\.layers)\\.(?P<l>\\d)\\.mlp\\.experts\\.\\d\\.w(?P=l)"}"#
        #expect {
            try AdapterConfig(jsonData: Data(json.utf8))
        } throws: { error in
            guard case .invalidRegex(let field, _, let detail)? = error as? AdapterConfigError else { return false }
            return field == "target_modules" && detail.contains("backreference (?P=...)")
        }
    }

    @Test(arguments: directMatchCases)
    func checkTargetModuleExists(_ c: DirectMatchCase) throws {
        let config = try AdapterConfig(jsonData: Data(c.json.utf8))
        #expect(c.names.map(config.moduleMatch) == c.expected)
        // The public API agrees on what is targeted.
        let targeted = zip(c.names, c.expected).filter { $0.1 == .targeted }.map(\.0)
        if !targeted.isEmpty {
            #expect(try config.targetedModules(among: c.names, outputLayer: nil) == targeted)
        }
    }

    /// Each key gets rank 101 + its index and alpha 0.5 + its index, in this order in the JSON; the
    /// default r = 8 / lora_alpha = 3 apply where peft's get_pattern_key finds no key.
    @Test(arguments: patternKeyCases)
    func getPatternKey(_ c: PatternKeyCase) throws {
        func jsonString(_ s: String) -> String {
            String(decoding: try! JSONEncoder().encode(s), as: UTF8.self)
        }
        let ranks = c.keys.enumerated().map { "\(jsonString($1)): \(101 + $0)" }.joined(separator: ", ")
        let alphas = c.keys.enumerated().map { "\(jsonString($1)): \(0.5 + Double($0))" }.joined(separator: ", ")
        let json = #"{"peft_type": "LORA", "r": 8, "lora_alpha": 3, "target_modules": ["q_proj"], "#
            + #""rank_pattern": {"# + ranks + #"}, "alpha_pattern": {"# + alphas + "}}"
        let config = try AdapterConfig(jsonData: Data(json.utf8))
        for (name, key) in zip(patternKeyNames, c.expected) {
            let index = key.flatMap { c.keys.firstIndex(of: $0) }
            #expect(config.rank(forModule: name) == index.map { 101 + $0 } ?? 8, "rank of \(name)")
            #expect(config.alpha(forModule: name) == index.map { 0.5 + Double($0) } ?? 3, "alpha of \(name)")
        }
    }
}

// Generated by running peft 0.21.2's own code (get_peft_model on tiny transformers 5.23 models,
// check_target_module_exists, get_pattern_key) — see the comments on each table.

// peft 0.21.2 `get_peft_model(model, LoraConfig.from_pretrained(dir))` on LlamaForCausalLM / BertModel
// (2 layers): every lora.Linear module with its r, lora_alpha and scaling, or the exception peft raised.
let injectionCases: [InjectionCase] = [
    InjectionCase(
        "llama q,v", .llama,
        json: #"{"peft_type": "LORA", "r": 8, "lora_alpha": 16, "target_modules": ["q_proj", "v_proj"]}"#,
        expected: .targets([("model.layers.0.self_attn.q_proj", 8, 16.0, 2.0), ("model.layers.0.self_attn.v_proj", 8, 16.0, 2.0), ("model.layers.1.self_attn.q_proj", 8, 16.0, 2.0), ("model.layers.1.self_attn.v_proj", 8, 16.0, 2.0)])),
    InjectionCase(
        "llama defaults (r=8, alpha=8)", .llama,
        json: #"{"peft_type": "LORA", "target_modules": ["q_proj", "k_proj", "v_proj", "o_proj"]}"#,
        expected: .targets([("model.layers.0.self_attn.q_proj", 8, 8.0, 1.0), ("model.layers.0.self_attn.k_proj", 8, 8.0, 1.0), ("model.layers.0.self_attn.v_proj", 8, 8.0, 1.0), ("model.layers.0.self_attn.o_proj", 8, 8.0, 1.0), ("model.layers.1.self_attn.q_proj", 8, 8.0, 1.0), ("model.layers.1.self_attn.k_proj", 8, 8.0, 1.0), ("model.layers.1.self_attn.v_proj", 8, 8.0, 1.0), ("model.layers.1.self_attn.o_proj", 8, 8.0, 1.0)])),
    InjectionCase(
        "llama all-linear excludes lm_head", .llama,
        json: #"{"peft_type": "LORA", "r": 4, "lora_alpha": 8, "target_modules": "all-linear"}"#,
        expected: .targets([("model.layers.0.self_attn.q_proj", 4, 8.0, 2.0), ("model.layers.0.self_attn.k_proj", 4, 8.0, 2.0), ("model.layers.0.self_attn.v_proj", 4, 8.0, 2.0), ("model.layers.0.self_attn.o_proj", 4, 8.0, 2.0), ("model.layers.0.mlp.gate_proj", 4, 8.0, 2.0), ("model.layers.0.mlp.up_proj", 4, 8.0, 2.0), ("model.layers.0.mlp.down_proj", 4, 8.0, 2.0), ("model.layers.1.self_attn.q_proj", 4, 8.0, 2.0), ("model.layers.1.self_attn.k_proj", 4, 8.0, 2.0), ("model.layers.1.self_attn.v_proj", 4, 8.0, 2.0), ("model.layers.1.self_attn.o_proj", 4, 8.0, 2.0), ("model.layers.1.mlp.gate_proj", 4, 8.0, 2.0), ("model.layers.1.mlp.up_proj", 4, 8.0, 2.0), ("model.layers.1.mlp.down_proj", 4, 8.0, 2.0)])),
    InjectionCase(
        "llama ALL-LINEAR is case-insensitive", .llama,
        json: #"{"peft_type": "LORA", "r": 4, "lora_alpha": 8, "target_modules": "ALL-Linear"}"#,
        expected: .targets([("model.layers.0.self_attn.q_proj", 4, 8.0, 2.0), ("model.layers.0.self_attn.k_proj", 4, 8.0, 2.0), ("model.layers.0.self_attn.v_proj", 4, 8.0, 2.0), ("model.layers.0.self_attn.o_proj", 4, 8.0, 2.0), ("model.layers.0.mlp.gate_proj", 4, 8.0, 2.0), ("model.layers.0.mlp.up_proj", 4, 8.0, 2.0), ("model.layers.0.mlp.down_proj", 4, 8.0, 2.0), ("model.layers.1.self_attn.q_proj", 4, 8.0, 2.0), ("model.layers.1.self_attn.k_proj", 4, 8.0, 2.0), ("model.layers.1.self_attn.v_proj", 4, 8.0, 2.0), ("model.layers.1.self_attn.o_proj", 4, 8.0, 2.0), ("model.layers.1.mlp.gate_proj", 4, 8.0, 2.0), ("model.layers.1.mlp.up_proj", 4, 8.0, 2.0), ("model.layers.1.mlp.down_proj", 4, 8.0, 2.0)])),
    InjectionCase(
        "llama all-linear + exclude list", .llama,
        json: #"{"peft_type": "LORA", "r": 4, "lora_alpha": 8, "target_modules": "all-linear", "exclude_modules": ["model.layers.0.mlp.down_proj", "o_proj"]}"#,
        expected: .targets([("model.layers.0.self_attn.q_proj", 4, 8.0, 2.0), ("model.layers.0.self_attn.k_proj", 4, 8.0, 2.0), ("model.layers.0.self_attn.v_proj", 4, 8.0, 2.0), ("model.layers.0.mlp.gate_proj", 4, 8.0, 2.0), ("model.layers.0.mlp.up_proj", 4, 8.0, 2.0), ("model.layers.1.self_attn.q_proj", 4, 8.0, 2.0), ("model.layers.1.self_attn.k_proj", 4, 8.0, 2.0), ("model.layers.1.self_attn.v_proj", 4, 8.0, 2.0), ("model.layers.1.mlp.gate_proj", 4, 8.0, 2.0), ("model.layers.1.mlp.up_proj", 4, 8.0, 2.0), ("model.layers.1.mlp.down_proj", 4, 8.0, 2.0)])),
    InjectionCase(
        "llama all-linear + exclude regex", .llama,
        json: #"{"peft_type": "LORA", "r": 4, "lora_alpha": 8, "target_modules": "all-linear", "exclude_modules": ".*\\.mlp\\..*"}"#,
        expected: .targets([("model.layers.0.self_attn.q_proj", 4, 8.0, 2.0), ("model.layers.0.self_attn.k_proj", 4, 8.0, 2.0), ("model.layers.0.self_attn.v_proj", 4, 8.0, 2.0), ("model.layers.0.self_attn.o_proj", 4, 8.0, 2.0), ("model.layers.1.self_attn.q_proj", 4, 8.0, 2.0), ("model.layers.1.self_attn.k_proj", 4, 8.0, 2.0), ("model.layers.1.self_attn.v_proj", 4, 8.0, 2.0), ("model.layers.1.self_attn.o_proj", 4, 8.0, 2.0)])),
    InjectionCase(
        "llama names + exclude regex", .llama,
        json: #"{"peft_type": "LORA", "target_modules": ["q_proj", "down_proj"], "exclude_modules": "model\\.layers\\.1\\..*"}"#,
        expected: .targets([("model.layers.0.self_attn.q_proj", 8, 8.0, 1.0), ("model.layers.0.mlp.down_proj", 8, 8.0, 1.0)])),
    InjectionCase(
        "llama lm_head targeted by name", .llama,
        json: #"{"peft_type": "LORA", "target_modules": ["lm_head", "q_proj"]}"#,
        expected: .targets([("model.layers.0.self_attn.q_proj", 8, 8.0, 1.0), ("model.layers.1.self_attn.q_proj", 8, 8.0, 1.0), ("lm_head", 8, 8.0, 1.0)])),
    InjectionCase(
        "llama layers_to_transform list", .llama,
        json: #"{"peft_type": "LORA", "target_modules": ["q_proj", "v_proj"], "layers_to_transform": [1]}"#,
        expected: .targets([("model.layers.1.self_attn.q_proj", 8, 8.0, 1.0), ("model.layers.1.self_attn.v_proj", 8, 8.0, 1.0)])),
    InjectionCase(
        "llama layers_to_transform int 0", .llama,
        json: #"{"peft_type": "LORA", "target_modules": ["q_proj", "down_proj"], "layers_to_transform": 0}"#,
        expected: .targets([("model.layers.0.self_attn.q_proj", 8, 8.0, 1.0), ("model.layers.0.mlp.down_proj", 8, 8.0, 1.0)])),
    InjectionCase(
        "llama layers_to_transform empty list = all layers", .llama,
        json: #"{"peft_type": "LORA", "target_modules": ["q_proj"], "layers_to_transform": []}"#,
        expected: .targets([("model.layers.0.self_attn.q_proj", 8, 8.0, 1.0), ("model.layers.1.self_attn.q_proj", 8, 8.0, 1.0)])),
    InjectionCase(
        "llama layers_to_transform + layers_pattern str", .llama,
        json: #"{"peft_type": "LORA", "target_modules": ["q_proj", "gate_proj"], "layers_to_transform": [0], "layers_pattern": "layers"}"#,
        expected: .targets([("model.layers.0.self_attn.q_proj", 8, 8.0, 1.0), ("model.layers.0.mlp.gate_proj", 8, 8.0, 1.0)])),
    InjectionCase(
        "llama layers_pattern list, second matches", .llama,
        json: #"{"peft_type": "LORA", "target_modules": ["v_proj"], "layers_to_transform": [1], "layers_pattern": ["h", "layers"]}"#,
        expected: .targets([("model.layers.1.self_attn.v_proj", 8, 8.0, 1.0)])),
    InjectionCase(
        "llama layers_pattern empty string = generic", .llama,
        json: #"{"peft_type": "LORA", "target_modules": ["v_proj"], "layers_to_transform": [1], "layers_pattern": ""}"#,
        expected: .targets([("model.layers.1.self_attn.v_proj", 8, 8.0, 1.0)])),
    InjectionCase(
        "llama layers_pattern regex fragment", .llama,
        json: #"{"peft_type": "LORA", "target_modules": ["o_proj"], "layers_to_transform": [0, 1], "layers_pattern": "lay.rs"}"#,
        expected: .targets([("model.layers.0.self_attn.o_proj", 8, 8.0, 1.0), ("model.layers.1.self_attn.o_proj", 8, 8.0, 1.0)])),
    InjectionCase(
        "llama layers_pattern h matches nothing", .llama,
        json: #"{"peft_type": "LORA", "target_modules": ["q_proj"], "layers_to_transform": [0], "layers_pattern": "h"}"#,
        expected: .peftRaised("NoMatchingPeftModuleError: Target modules {'q_proj'} not found in the base model. Please check the target modules and try again. Note: You specified 'layers_to_transform': [0]. You also specified 'layers_pattern': h.")),
    InjectionCase(
        "llama layers_to_transform out of range", .llama,
        json: #"{"peft_type": "LORA", "target_modules": ["q_proj"], "layers_to_transform": [5]}"#,
        expected: .peftRaised("NoMatchingPeftModuleError: Target modules {'q_proj'} not found in the base model. Please check the target modules and try again. Note: You specified 'layers_to_transform': [5].")),
    InjectionCase(
        "llama full path bypasses layer filter", .llama,
        json: #"{"peft_type": "LORA", "target_modules": ["model.layers.0.self_attn.q_proj", "v_proj"], "layers_to_transform": [1]}"#,
        expected: .targets([("model.layers.0.self_attn.q_proj", 8, 8.0, 1.0), ("model.layers.1.self_attn.v_proj", 8, 8.0, 1.0)])),
    InjectionCase(
        "llama lm_head has no layer index", .llama,
        json: #"{"peft_type": "LORA", "target_modules": ["lm_head", "q_proj"], "layers_to_transform": [0]}"#,
        expected: .targets([("model.layers.0.self_attn.q_proj", 8, 8.0, 1.0), ("lm_head", 8, 8.0, 1.0)])),
    InjectionCase(
        "llama partial path suffix", .llama,
        json: #"{"peft_type": "LORA", "target_modules": ["self_attn.q_proj", "layers.1.mlp.up_proj"]}"#,
        expected: .targets([("model.layers.0.self_attn.q_proj", 8, 8.0, 1.0), ("model.layers.1.self_attn.q_proj", 8, 8.0, 1.0), ("model.layers.1.mlp.up_proj", 8, 8.0, 1.0)])),
    InjectionCase(
        "llama entry must be whole components", .llama,
        json: #"{"peft_type": "LORA", "target_modules": ["proj", "_proj"]}"#,
        expected: .peftRaised("NoMatchingPeftModuleError: Target modules {'_proj', 'proj'} not found in the base model. Please check the target modules and try again.")),
    InjectionCase(
        "llama regex fullmatch", .llama,
        json: #"{"peft_type": "LORA", "target_modules": ".*\\.(q_proj|v_proj)"}"#,
        expected: .targets([("model.layers.0.self_attn.q_proj", 8, 8.0, 1.0), ("model.layers.0.self_attn.v_proj", 8, 8.0, 1.0), ("model.layers.1.self_attn.q_proj", 8, 8.0, 1.0), ("model.layers.1.self_attn.v_proj", 8, 8.0, 1.0)])),
    InjectionCase(
        "llama regex must match whole path", .llama,
        json: #"{"peft_type": "LORA", "target_modules": "q_proj"}"#,
        expected: .peftRaised("NoMatchingPeftModuleError: Target modules q_proj not found in the base model. Please check the target modules and try again.")),
    InjectionCase(
        "llama regex layer 1 mlp", .llama,
        json: #"{"peft_type": "LORA", "target_modules": "model\\.layers\\.1\\.mlp\\..*_proj"}"#,
        expected: .targets([("model.layers.1.mlp.gate_proj", 8, 8.0, 1.0), ("model.layers.1.mlp.up_proj", 8, 8.0, 1.0), ("model.layers.1.mlp.down_proj", 8, 8.0, 1.0)])),
    InjectionCase(
        "llama regex alternation needs whole match", .llama,
        json: #"{"peft_type": "LORA", "target_modules": "model\\.layers\\.0\\.self_attn\\.q|model\\.layers\\.0\\.self_attn\\.q_proj"}"#,
        expected: .targets([("model.layers.0.self_attn.q_proj", 8, 8.0, 1.0)])),
    InjectionCase(
        "llama regex + exclude regex", .llama,
        json: #"{"peft_type": "LORA", "target_modules": ".*_proj", "exclude_modules": ".*layers\\.0.*"}"#,
        expected: .targets([("model.layers.1.self_attn.q_proj", 8, 8.0, 1.0), ("model.layers.1.self_attn.k_proj", 8, 8.0, 1.0), ("model.layers.1.self_attn.v_proj", 8, 8.0, 1.0), ("model.layers.1.self_attn.o_proj", 8, 8.0, 1.0), ("model.layers.1.mlp.gate_proj", 8, 8.0, 1.0), ("model.layers.1.mlp.up_proj", 8, 8.0, 1.0), ("model.layers.1.mlp.down_proj", 8, 8.0, 1.0)])),
    InjectionCase(
        "llama regex with layers_to_transform", .llama,
        json: #"{"peft_type": "LORA", "target_modules": ".*q_proj", "layers_to_transform": [0]}"#,
        expected: .peftRaised("ValueError: `layers_to_transform` cannot be used when `target_modules` is a str.")),
    InjectionCase(
        "llama all-linear with layers_pattern", .llama,
        json: #"{"peft_type": "LORA", "target_modules": "all-linear", "layers_pattern": "layers"}"#,
        expected: .peftRaised("ValueError: `layers_pattern` cannot be used when `target_modules` is a str.")),
    InjectionCase(
        "llama layers_pattern without layers_to_transform", .llama,
        json: #"{"peft_type": "LORA", "target_modules": ["q_proj"], "layers_pattern": "layers"}"#,
        expected: .peftRaised("ValueError: When `layers_pattern` is specified, `layers_to_transform` must also be specified. ")),
    InjectionCase(
        "llama no match", .llama,
        json: #"{"peft_type": "LORA", "target_modules": ["query", "value"]}"#,
        expected: .peftRaised("NoMatchingPeftModuleError: Target modules {'query', 'value'} not found in the base model. Please check the target modules and try again.")),
    InjectionCase(
        "llama all excluded", .llama,
        json: #"{"peft_type": "LORA", "target_modules": ["q_proj"], "exclude_modules": ["q_proj"]}"#,
        expected: .peftRaised("NoMatchingPeftModuleError: No modules were targeted for adaptation. This might be caused by a combination of mismatched target modules and excluded modules. Please check your `target_modules` and `exclude_modules` configuration")),
    InjectionCase(
        "llama empty target list", .llama,
        json: #"{"peft_type": "LORA", "target_modules": []}"#,
        expected: .peftRaised("NoMatchingPeftModuleError: No `target_modules` passed but also no `target_parameters` found. Please check the values for these arguments.")),
    InjectionCase(
        "llama container target", .llama,
        json: #"{"peft_type": "LORA", "target_modules": ["mlp"]}"#,
        expected: .peftRaised("ValueError: Target module LlamaMLP(")),
    InjectionCase(
        "llama embedding target", .llama,
        json: #"{"peft_type": "LORA", "target_modules": ["embed_tokens", "q_proj"]}"#,
        expected: .targets([("model.embed_tokens", 8, 8.0, 1.0), ("model.layers.0.self_attn.q_proj", 8, 8.0, 1.0), ("model.layers.1.self_attn.q_proj", 8, 8.0, 1.0)])),
    InjectionCase(
        "llama target_modules null uses llama default", .llama,
        json: #"{"peft_type": "LORA", "r": 2, "lora_alpha": 4}"#,
        expected: .targets([("model.layers.0.self_attn.q_proj", 2, 4.0, 2.0), ("model.layers.0.self_attn.v_proj", 2, 4.0, 2.0), ("model.layers.1.self_attn.q_proj", 2, 4.0, 2.0), ("model.layers.1.self_attn.v_proj", 2, 4.0, 2.0)])),
    InjectionCase(
        "llama rank_pattern suffix and full path", .llama,
        json: #"{"peft_type": "LORA", "r": 8, "lora_alpha": 16, "target_modules": ["q_proj", "v_proj", "down_proj"], "rank_pattern": {"model.layers.1.self_attn.q_proj": 4, "down_proj": 2}, "alpha_pattern": {"v_proj": 32}}"#,
        expected: .targets([("model.layers.0.self_attn.q_proj", 8, 16.0, 2.0), ("model.layers.0.self_attn.v_proj", 8, 32.0, 4.0), ("model.layers.0.mlp.down_proj", 2, 16.0, 8.0), ("model.layers.1.self_attn.q_proj", 4, 16.0, 4.0), ("model.layers.1.self_attn.v_proj", 8, 32.0, 4.0), ("model.layers.1.mlp.down_proj", 2, 16.0, 8.0)])),
    InjectionCase(
        "llama rank_pattern regex keys", .llama,
        json: #"{"peft_type": "LORA", "r": 8, "lora_alpha": 8, "target_modules": "all-linear", "rank_pattern": {"layers\\.0\\..*": 16, ".*\\.mlp\\.(gate|up)_proj": 2}, "alpha_pattern": {"^model\\.layers\\.1\\.self_attn\\..*": 4, "o_proj": 1.5}}"#,
        expected: .targets([("model.layers.0.self_attn.q_proj", 16, 8.0, 0.5), ("model.layers.0.self_attn.k_proj", 16, 8.0, 0.5), ("model.layers.0.self_attn.v_proj", 16, 8.0, 0.5), ("model.layers.0.self_attn.o_proj", 16, 1.5, 0.09375), ("model.layers.0.mlp.gate_proj", 16, 8.0, 0.5), ("model.layers.0.mlp.up_proj", 16, 8.0, 0.5), ("model.layers.0.mlp.down_proj", 16, 8.0, 0.5), ("model.layers.1.self_attn.q_proj", 8, 4.0, 0.5), ("model.layers.1.self_attn.k_proj", 8, 4.0, 0.5), ("model.layers.1.self_attn.v_proj", 8, 4.0, 0.5), ("model.layers.1.self_attn.o_proj", 8, 4.0, 0.5), ("model.layers.1.mlp.gate_proj", 2, 8.0, 4.0), ("model.layers.1.mlp.up_proj", 2, 8.0, 4.0), ("model.layers.1.mlp.down_proj", 8, 8.0, 1.0)])),
    InjectionCase(
        "llama rank_pattern key must end at a component boundary", .llama,
        json: #"{"peft_type": "LORA", "r": 8, "lora_alpha": 8, "target_modules": ["q_proj", "k_proj"], "rank_pattern": {"proj": 2, "_proj": 3, "k_pro": 5, "self_attn.k_proj": 6}}"#,
        expected: .targets([("model.layers.0.self_attn.q_proj", 8, 8.0, 1.0), ("model.layers.0.self_attn.k_proj", 6, 8.0, 1.3333333333333333), ("model.layers.1.self_attn.q_proj", 8, 8.0, 1.0), ("model.layers.1.self_attn.k_proj", 6, 8.0, 1.3333333333333333)])),
    InjectionCase(
        "llama rank_pattern first key in file order wins", .llama,
        json: #"{"peft_type": "LORA", "r": 8, "lora_alpha": 8, "target_modules": ["q_proj", "v_proj"], "rank_pattern": {"v_proj": 4, ".*_proj": 2, "q_proj": 16}}"#,
        expected: .targets([("model.layers.0.self_attn.q_proj", 2, 8.0, 4.0), ("model.layers.0.self_attn.v_proj", 4, 8.0, 2.0), ("model.layers.1.self_attn.q_proj", 2, 8.0, 4.0), ("model.layers.1.self_attn.v_proj", 4, 8.0, 2.0)])),
    InjectionCase(
        "llama rank_pattern regex key precedes literal", .llama,
        json: #"{"peft_type": "LORA", "r": 8, "lora_alpha": 8, "target_modules": ["q_proj", "v_proj"], "rank_pattern": {"q_proj": 16, ".*_proj": 2, "v_proj": 4}}"#,
        expected: .targets([("model.layers.0.self_attn.q_proj", 16, 8.0, 0.5), ("model.layers.0.self_attn.v_proj", 2, 8.0, 4.0), ("model.layers.1.self_attn.q_proj", 16, 8.0, 0.5), ("model.layers.1.self_attn.v_proj", 2, 8.0, 4.0)])),
    InjectionCase(
        "llama rsLoRA", .llama,
        json: #"{"peft_type": "LORA", "r": 16, "lora_alpha": 8, "use_rslora": true, "target_modules": ["q_proj", "o_proj"]}"#,
        expected: .targets([("model.layers.0.self_attn.q_proj", 16, 8.0, 2.0), ("model.layers.0.self_attn.o_proj", 16, 8.0, 2.0), ("model.layers.1.self_attn.q_proj", 16, 8.0, 2.0), ("model.layers.1.self_attn.o_proj", 16, 8.0, 2.0)])),
    InjectionCase(
        "llama rsLoRA with patterns", .llama,
        json: #"{"peft_type": "LORA", "r": 16, "lora_alpha": 8, "use_rslora": true, "target_modules": ["q_proj", "v_proj", "up_proj"], "rank_pattern": {"v_proj": 4, "layers.1.mlp.up_proj": 64}, "alpha_pattern": {"up_proj": 3}}"#,
        expected: .targets([("model.layers.0.self_attn.q_proj", 16, 8.0, 2.0), ("model.layers.0.self_attn.v_proj", 4, 8.0, 4.0), ("model.layers.0.mlp.up_proj", 16, 3.0, 0.75), ("model.layers.1.self_attn.q_proj", 16, 8.0, 2.0), ("model.layers.1.self_attn.v_proj", 4, 8.0, 4.0), ("model.layers.1.mlp.up_proj", 64, 3.0, 0.375)])),
    InjectionCase(
        "llama fractional alpha", .llama,
        json: #"{"peft_type": "LORA", "r": 3, "lora_alpha": 1.5, "target_modules": ["gate_proj"]}"#,
        expected: .targets([("model.layers.0.mlp.gate_proj", 3, 1.5, 0.5), ("model.layers.1.mlp.gate_proj", 3, 1.5, 0.5)])),
    InjectionCase(
        "llama DoRA", .llama,
        json: #"{"peft_type": "LORA", "r": 4, "lora_alpha": 8, "use_dora": true, "target_modules": ["q_proj"]}"#,
        expected: .targets([("model.layers.0.self_attn.q_proj", 4, 8.0, 2.0), ("model.layers.1.self_attn.q_proj", 4, 8.0, 2.0)])),
    InjectionCase(
        "llama fan_in_fan_out forced off", .llama,
        json: #"{"peft_type": "LORA", "r": 4, "lora_alpha": 8, "fan_in_fan_out": true, "target_modules": ["q_proj"]}"#,
        expected: .targets([("model.layers.0.self_attn.q_proj", 4, 8.0, 2.0), ("model.layers.1.self_attn.q_proj", 4, 8.0, 2.0)])),
    InjectionCase(
        "bert query,value", .bert,
        json: #"{"peft_type": "LORA", "r": 8, "lora_alpha": 16, "target_modules": ["query", "value"]}"#,
        expected: .targets([("encoder.layer.0.attention.self.query", 8, 16.0, 2.0), ("encoder.layer.0.attention.self.value", 8, 16.0, 2.0), ("encoder.layer.1.attention.self.query", 8, 16.0, 2.0), ("encoder.layer.1.attention.self.value", 8, 16.0, 2.0)])),
    InjectionCase(
        "bert dense everywhere incl. pooler", .bert,
        json: #"{"peft_type": "LORA", "r": 8, "lora_alpha": 16, "target_modules": ["dense"]}"#,
        expected: .targets([("encoder.layer.0.attention.output.dense", 8, 16.0, 2.0), ("encoder.layer.0.intermediate.dense", 8, 16.0, 2.0), ("encoder.layer.0.output.dense", 8, 16.0, 2.0), ("encoder.layer.1.attention.output.dense", 8, 16.0, 2.0), ("encoder.layer.1.intermediate.dense", 8, 16.0, 2.0), ("encoder.layer.1.output.dense", 8, 16.0, 2.0), ("pooler.dense", 8, 16.0, 2.0)])),
    InjectionCase(
        "bert attention.output.dense only", .bert,
        json: #"{"peft_type": "LORA", "target_modules": ["attention.output.dense"]}"#,
        expected: .targets([("encoder.layer.0.attention.output.dense", 8, 8.0, 1.0), ("encoder.layer.1.attention.output.dense", 8, 8.0, 1.0)])),
    InjectionCase(
        "bert all-linear keeps pooler (no output embeddings)", .bert,
        json: #"{"peft_type": "LORA", "r": 2, "lora_alpha": 2, "target_modules": "all-linear"}"#,
        expected: .targets([("encoder.layer.0.attention.self.query", 2, 2.0, 1.0), ("encoder.layer.0.attention.self.key", 2, 2.0, 1.0), ("encoder.layer.0.attention.self.value", 2, 2.0, 1.0), ("encoder.layer.0.attention.output.dense", 2, 2.0, 1.0), ("encoder.layer.0.intermediate.dense", 2, 2.0, 1.0), ("encoder.layer.0.output.dense", 2, 2.0, 1.0), ("encoder.layer.1.attention.self.query", 2, 2.0, 1.0), ("encoder.layer.1.attention.self.key", 2, 2.0, 1.0), ("encoder.layer.1.attention.self.value", 2, 2.0, 1.0), ("encoder.layer.1.attention.output.dense", 2, 2.0, 1.0), ("encoder.layer.1.intermediate.dense", 2, 2.0, 1.0), ("encoder.layer.1.output.dense", 2, 2.0, 1.0), ("pooler.dense", 2, 2.0, 1.0)])),
    InjectionCase(
        "bert dense + layers_to_transform drops pooler", .bert,
        json: #"{"peft_type": "LORA", "target_modules": ["dense"], "layers_to_transform": [0]}"#,
        expected: .targets([("encoder.layer.0.attention.output.dense", 8, 8.0, 1.0), ("encoder.layer.0.intermediate.dense", 8, 8.0, 1.0), ("encoder.layer.0.output.dense", 8, 8.0, 1.0)])),
    InjectionCase(
        "bert layers_pattern layer", .bert,
        json: #"{"peft_type": "LORA", "target_modules": ["query", "key"], "layers_to_transform": 1, "layers_pattern": "layer"}"#,
        expected: .targets([("encoder.layer.1.attention.self.query", 8, 8.0, 1.0), ("encoder.layer.1.attention.self.key", 8, 8.0, 1.0)])),
    InjectionCase(
        "bert layers_pattern layers matches nothing", .bert,
        json: #"{"peft_type": "LORA", "target_modules": ["query"], "layers_to_transform": [0], "layers_pattern": "layers"}"#,
        expected: .peftRaised("NoMatchingPeftModuleError: Target modules {'query'} not found in the base model. Please check the target modules and try again. Note: You specified 'layers_to_transform': [0]. You also specified 'layers_pattern': layers.")),
    InjectionCase(
        "bert exclude intermediate", .bert,
        json: #"{"peft_type": "LORA", "target_modules": ["dense"], "exclude_modules": ["intermediate.dense", "pooler.dense"]}"#,
        expected: .targets([("encoder.layer.0.attention.output.dense", 8, 8.0, 1.0), ("encoder.layer.0.output.dense", 8, 8.0, 1.0), ("encoder.layer.1.attention.output.dense", 8, 8.0, 1.0), ("encoder.layer.1.output.dense", 8, 8.0, 1.0)])),
    InjectionCase(
        "bert regex attention", .bert,
        json: #"{"peft_type": "LORA", "target_modules": "encoder\\.layer\\.\\d+\\.attention\\.(self\\.(query|key|value)|output\\.dense)"}"#,
        expected: .targets([("encoder.layer.0.attention.self.query", 8, 8.0, 1.0), ("encoder.layer.0.attention.self.key", 8, 8.0, 1.0), ("encoder.layer.0.attention.self.value", 8, 8.0, 1.0), ("encoder.layer.0.attention.output.dense", 8, 8.0, 1.0), ("encoder.layer.1.attention.self.query", 8, 8.0, 1.0), ("encoder.layer.1.attention.self.key", 8, 8.0, 1.0), ("encoder.layer.1.attention.self.value", 8, 8.0, 1.0), ("encoder.layer.1.attention.output.dense", 8, 8.0, 1.0)])),
    InjectionCase(
        "bert target_modules null uses bert default", .bert,
        json: #"{"peft_type": "LORA", "r": 4, "lora_alpha": 4}"#,
        expected: .targets([("encoder.layer.0.attention.self.query", 4, 4.0, 1.0), ("encoder.layer.0.attention.self.value", 4, 4.0, 1.0), ("encoder.layer.1.attention.self.query", 4, 4.0, 1.0), ("encoder.layer.1.attention.self.value", 4, 4.0, 1.0)])),
    InjectionCase(
        "bert rank_pattern on pooler", .bert,
        json: #"{"peft_type": "LORA", "r": 4, "lora_alpha": 8, "target_modules": ["dense"], "rank_pattern": {"pooler.dense": 2, "encoder\\.layer\\.1\\..*": 8}}"#,
        expected: .targets([("encoder.layer.0.attention.output.dense", 4, 8.0, 2.0), ("encoder.layer.0.intermediate.dense", 4, 8.0, 2.0), ("encoder.layer.0.output.dense", 4, 8.0, 2.0), ("encoder.layer.1.attention.output.dense", 8, 8.0, 1.0), ("encoder.layer.1.intermediate.dense", 8, 8.0, 1.0), ("encoder.layer.1.output.dense", 8, 8.0, 1.0), ("pooler.dense", 2, 8.0, 4.0)])),
    InjectionCase(
        "bert container target", .bert,
        json: #"{"peft_type": "LORA", "target_modules": ["attention"]}"#,
        expected: .peftRaised("ValueError: Target module BertAttention(")),
    InjectionCase(
        "llama 20 full paths are condensed, then filtered by layer", .llama,
        json: #"{"peft_type": "LORA", "target_modules": ["model.layers.0.self_attn.q_proj", "model.layers.0.self_attn.k_proj", "model.layers.0.self_attn.v_proj", "model.layers.0.self_attn.o_proj", "model.layers.1.self_attn.q_proj", "model.layers.1.self_attn.k_proj", "model.layers.1.self_attn.v_proj", "model.layers.1.self_attn.o_proj", "model.layers.0.mlp.gate_proj", "model.layers.0.mlp.up_proj", "model.layers.0.mlp.down_proj", "model.layers.1.mlp.gate_proj", "model.layers.1.mlp.up_proj", "model.layers.1.mlp.down_proj", "model.layers.2.self_attn.q_proj", "model.layers.3.self_attn.q_proj", "model.layers.4.self_attn.q_proj", "model.layers.5.self_attn.q_proj", "model.layers.6.self_attn.q_proj", "model.layers.7.self_attn.q_proj"], "layers_to_transform": [1]}"#,
        expected: .targets([("model.layers.1.self_attn.q_proj", 8, 8.0, 1.0), ("model.layers.1.self_attn.k_proj", 8, 8.0, 1.0), ("model.layers.1.self_attn.v_proj", 8, 8.0, 1.0), ("model.layers.1.self_attn.o_proj", 8, 8.0, 1.0), ("model.layers.1.mlp.gate_proj", 8, 8.0, 1.0), ("model.layers.1.mlp.up_proj", 8, 8.0, 1.0), ("model.layers.1.mlp.down_proj", 8, 8.0, 1.0)])),
    InjectionCase(
        "llama 14 full paths bypass the layer filter", .llama,
        json: #"{"peft_type": "LORA", "target_modules": ["model.layers.0.self_attn.q_proj", "model.layers.0.self_attn.k_proj", "model.layers.0.self_attn.v_proj", "model.layers.0.self_attn.o_proj", "model.layers.1.self_attn.q_proj", "model.layers.1.self_attn.k_proj", "model.layers.1.self_attn.v_proj", "model.layers.1.self_attn.o_proj", "model.layers.0.mlp.gate_proj", "model.layers.0.mlp.up_proj", "model.layers.0.mlp.down_proj", "model.layers.1.mlp.gate_proj", "model.layers.1.mlp.up_proj", "model.layers.1.mlp.down_proj"], "layers_to_transform": [1]}"#,
        expected: .targets([("model.layers.0.self_attn.q_proj", 8, 8.0, 1.0), ("model.layers.0.self_attn.k_proj", 8, 8.0, 1.0), ("model.layers.0.self_attn.v_proj", 8, 8.0, 1.0), ("model.layers.0.self_attn.o_proj", 8, 8.0, 1.0), ("model.layers.0.mlp.gate_proj", 8, 8.0, 1.0), ("model.layers.0.mlp.up_proj", 8, 8.0, 1.0), ("model.layers.0.mlp.down_proj", 8, 8.0, 1.0), ("model.layers.1.self_attn.q_proj", 8, 8.0, 1.0), ("model.layers.1.self_attn.k_proj", 8, 8.0, 1.0), ("model.layers.1.self_attn.v_proj", 8, 8.0, 1.0), ("model.layers.1.self_attn.o_proj", 8, 8.0, 1.0), ("model.layers.1.mlp.gate_proj", 8, 8.0, 1.0), ("model.layers.1.mlp.up_proj", 8, 8.0, 1.0), ("model.layers.1.mlp.down_proj", 8, 8.0, 1.0)])),
]

// peft 0.21.2 `check_target_module_exists(LoraConfig(**config), name)` for each name of `names`.
let directMatchCases: [DirectMatchCase] = [
    DirectMatchCase(
        "experts: generic pattern takes the first index",
        json: #"{"peft_type": "LORA", "target_modules": ["w1", "w2", "q_proj"], "layers_to_transform": [1]}"#,
        names: ["model.layers.0.self_attn.q_proj", "model.layers.1.mlp.experts.0.w1", "model.layers.1.mlp.experts.3.w1", "model.layers.3.mlp.experts.1.w2", "transformer.h.2.attn.c_attn", "model.decoder.layers.1.encoder_attn.k_proj", "model.encoder.layers.1.self_attn.k_proj", "vision_tower.blocks.1.attn.qkv", "lm_head", "w1"],
        expected: [.unmatched, .targeted, .targeted, .unmatched, .unmatched, .unmatched, .unmatched, .unmatched, .unmatched, .targeted]),
    DirectMatchCase(
        "experts: index 3 is an expert, not a layer",
        json: #"{"peft_type": "LORA", "target_modules": ["w1", "w2"], "layers_to_transform": 3}"#,
        names: ["model.layers.0.self_attn.q_proj", "model.layers.1.mlp.experts.0.w1", "model.layers.1.mlp.experts.3.w1", "model.layers.3.mlp.experts.1.w2", "transformer.h.2.attn.c_attn", "model.decoder.layers.1.encoder_attn.k_proj", "model.encoder.layers.1.self_attn.k_proj", "vision_tower.blocks.1.attn.qkv", "lm_head", "w1"],
        expected: [.unmatched, .unmatched, .unmatched, .targeted, .unmatched, .unmatched, .unmatched, .unmatched, .unmatched, .targeted]),
    DirectMatchCase(
        "layers_pattern h",
        json: #"{"peft_type": "LORA", "target_modules": ["c_attn", "q_proj"], "layers_to_transform": [2], "layers_pattern": "h"}"#,
        names: ["model.layers.0.self_attn.q_proj", "model.layers.1.mlp.experts.0.w1", "model.layers.1.mlp.experts.3.w1", "model.layers.3.mlp.experts.1.w2", "transformer.h.2.attn.c_attn", "model.decoder.layers.1.encoder_attn.k_proj", "model.encoder.layers.1.self_attn.k_proj", "vision_tower.blocks.1.attn.qkv", "lm_head", "w1"],
        expected: [.unmatched, .unmatched, .unmatched, .unmatched, .targeted, .unmatched, .unmatched, .unmatched, .unmatched, .unmatched]),
    DirectMatchCase(
        "layers_pattern list tries in order",
        json: #"{"peft_type": "LORA", "target_modules": ["k_proj", "qkv", "w1"], "layers_to_transform": [1], "layers_pattern": ["blocks", "layers"]}"#,
        names: ["model.layers.0.self_attn.q_proj", "model.layers.1.mlp.experts.0.w1", "model.layers.1.mlp.experts.3.w1", "model.layers.3.mlp.experts.1.w2", "transformer.h.2.attn.c_attn", "model.decoder.layers.1.encoder_attn.k_proj", "model.encoder.layers.1.self_attn.k_proj", "vision_tower.blocks.1.attn.qkv", "lm_head", "w1"],
        expected: [.unmatched, .targeted, .targeted, .unmatched, .unmatched, .targeted, .targeted, .targeted, .unmatched, .targeted]),
    DirectMatchCase(
        "layers_pattern with dotted prefix",
        json: #"{"peft_type": "LORA", "target_modules": ["k_proj"], "layers_to_transform": [1], "layers_pattern": "decoder.layers"}"#,
        names: ["model.layers.0.self_attn.q_proj", "model.layers.1.mlp.experts.0.w1", "model.layers.1.mlp.experts.3.w1", "model.layers.3.mlp.experts.1.w2", "transformer.h.2.attn.c_attn", "model.decoder.layers.1.encoder_attn.k_proj", "model.encoder.layers.1.self_attn.k_proj", "vision_tower.blocks.1.attn.qkv", "lm_head", "w1"],
        expected: [.unmatched, .unmatched, .unmatched, .unmatched, .unmatched, .targeted, .unmatched, .unmatched, .unmatched, .unmatched]),
    DirectMatchCase(
        "exclude list suffix and exact",
        json: #"{"peft_type": "LORA", "target_modules": ["k_proj", "w1", "qkv"], "exclude_modules": ["encoder_attn.k_proj", "w1"]}"#,
        names: ["model.layers.0.self_attn.q_proj", "model.layers.1.mlp.experts.0.w1", "model.layers.1.mlp.experts.3.w1", "model.layers.3.mlp.experts.1.w2", "transformer.h.2.attn.c_attn", "model.decoder.layers.1.encoder_attn.k_proj", "model.encoder.layers.1.self_attn.k_proj", "vision_tower.blocks.1.attn.qkv", "lm_head", "w1"],
        expected: [.unmatched, .excluded, .excluded, .unmatched, .unmatched, .excluded, .targeted, .targeted, .unmatched, .excluded]),
    DirectMatchCase(
        "exclude regex fullmatch",
        json: #"{"peft_type": "LORA", "target_modules": ["k_proj", "q_proj", "w1"], "exclude_modules": "model\\.(encoder|decoder)\\..*"}"#,
        names: ["model.layers.0.self_attn.q_proj", "model.layers.1.mlp.experts.0.w1", "model.layers.1.mlp.experts.3.w1", "model.layers.3.mlp.experts.1.w2", "transformer.h.2.attn.c_attn", "model.decoder.layers.1.encoder_attn.k_proj", "model.encoder.layers.1.self_attn.k_proj", "vision_tower.blocks.1.attn.qkv", "lm_head", "w1"],
        expected: [.targeted, .targeted, .targeted, .unmatched, .unmatched, .excluded, .excluded, .unmatched, .unmatched, .targeted]),
    DirectMatchCase(
        "exact name in list",
        json: #"{"peft_type": "LORA", "target_modules": ["w1", "lm_head"]}"#,
        names: ["model.layers.0.self_attn.q_proj", "model.layers.1.mlp.experts.0.w1", "model.layers.1.mlp.experts.3.w1", "model.layers.3.mlp.experts.1.w2", "transformer.h.2.attn.c_attn", "model.decoder.layers.1.encoder_attn.k_proj", "model.encoder.layers.1.self_attn.k_proj", "vision_tower.blocks.1.attn.qkv", "lm_head", "w1"],
        expected: [.unmatched, .targeted, .targeted, .unmatched, .unmatched, .unmatched, .unmatched, .unmatched, .targeted, .targeted]),
    DirectMatchCase(
        "regex with character class and quantifier",
        json: #"{"peft_type": "LORA", "target_modules": "model\\.layers\\.[01]\\.(mlp\\.experts\\.\\d+\\.w[12]|self_attn\\.q_proj)"}"#,
        names: ["model.layers.0.self_attn.q_proj", "model.layers.1.mlp.experts.0.w1", "model.layers.1.mlp.experts.3.w1", "model.layers.3.mlp.experts.1.w2", "transformer.h.2.attn.c_attn", "model.decoder.layers.1.encoder_attn.k_proj", "model.encoder.layers.1.self_attn.k_proj", "vision_tower.blocks.1.attn.qkv", "lm_head", "w1"],
        expected: [.targeted, .targeted, .targeted, .unmatched, .unmatched, .unmatched, .unmatched, .unmatched, .unmatched, .unmatched]),
    DirectMatchCase(
        "regex {n} quantifier and lazy",
        json: #"{"peft_type": "LORA", "target_modules": "model\\.layers\\.\\d{1}\\..*?k_proj|.*experts\\.\\d\\.w\\d"}"#,
        names: ["model.layers.0.self_attn.q_proj", "model.layers.1.mlp.experts.0.w1", "model.layers.1.mlp.experts.3.w1", "model.layers.3.mlp.experts.1.w2", "transformer.h.2.attn.c_attn", "model.decoder.layers.1.encoder_attn.k_proj", "model.encoder.layers.1.self_attn.k_proj", "vision_tower.blocks.1.attn.qkv", "lm_head", "w1"],
        expected: [.unmatched, .targeted, .targeted, .targeted, .unmatched, .unmatched, .unmatched, .unmatched, .unmatched, .unmatched]),
    DirectMatchCase(
        "regex [ inside a class is a literal",
        json: #"{"peft_type": "LORA", "target_modules": ".*experts\\.[[3]\\.w1|lm_hea[]d]"}"#,
        names: ["model.layers.0.self_attn.q_proj", "model.layers.1.mlp.experts.0.w1", "model.layers.1.mlp.experts.3.w1", "model.layers.3.mlp.experts.1.w2", "transformer.h.2.attn.c_attn", "model.decoder.layers.1.encoder_attn.k_proj", "model.encoder.layers.1.self_attn.k_proj", "vision_tower.blocks.1.attn.qkv", "lm_head", "w1"],
        expected: [.unmatched, .unmatched, .targeted, .unmatched, .unmatched, .unmatched, .unmatched, .unmatched, .targeted, .unmatched]),
    DirectMatchCase(
        #"regex \Z is the absolute end"#,
        json: #"{"peft_type": "LORA", "target_modules": ".*\\.w[12]\\Z"}"#,
        names: ["model.layers.0.self_attn.q_proj", "model.layers.1.mlp.experts.0.w1", "model.layers.1.mlp.experts.3.w1", "model.layers.3.mlp.experts.1.w2", "transformer.h.2.attn.c_attn", "model.decoder.layers.1.encoder_attn.k_proj", "model.encoder.layers.1.self_attn.k_proj", "vision_tower.blocks.1.attn.qkv", "lm_head", "w1"],
        expected: [.unmatched, .targeted, .targeted, .targeted, .unmatched, .unmatched, .unmatched, .unmatched, .unmatched, .unmatched]),
    DirectMatchCase(
        "regex {,n} quantifier",
        json: #"{"peft_type": "LORA", "target_modules": "model\\.layers\\.\\d{,1}\\.self_attn\\.q_proj|w{,1}1"}"#,
        names: ["model.layers.0.self_attn.q_proj", "model.layers.1.mlp.experts.0.w1", "model.layers.1.mlp.experts.3.w1", "model.layers.3.mlp.experts.1.w2", "transformer.h.2.attn.c_attn", "model.decoder.layers.1.encoder_attn.k_proj", "model.encoder.layers.1.self_attn.k_proj", "vision_tower.blocks.1.attn.qkv", "lm_head", "w1"],
        expected: [.targeted, .unmatched, .unmatched, .unmatched, .unmatched, .unmatched, .unmatched, .unmatched, .unmatched, .targeted]),
    DirectMatchCase(
        "regex negative lookahead",
        json: #"{"peft_type": "LORA", "target_modules": "model\\.layers\\.(?!0\\.).*\\.(q_proj|w\\d)"}"#,
        names: ["model.layers.0.self_attn.q_proj", "model.layers.1.mlp.experts.0.w1", "model.layers.1.mlp.experts.3.w1", "model.layers.3.mlp.experts.1.w2", "transformer.h.2.attn.c_attn", "model.decoder.layers.1.encoder_attn.k_proj", "model.encoder.layers.1.self_attn.k_proj", "vision_tower.blocks.1.attn.qkv", "lm_head", "w1"],
        expected: [.unmatched, .targeted, .targeted, .targeted, .unmatched, .unmatched, .unmatched, .unmatched, .unmatched, .unmatched]),
    DirectMatchCase(
        "regex lookbehind and optional group",
        json: #"{"peft_type": "LORA", "target_modules": ".*(?<=experts)\\.\\d\\.w(1|2)?|[^.]+"}"#,
        names: ["model.layers.0.self_attn.q_proj", "model.layers.1.mlp.experts.0.w1", "model.layers.1.mlp.experts.3.w1", "model.layers.3.mlp.experts.1.w2", "transformer.h.2.attn.c_attn", "model.decoder.layers.1.encoder_attn.k_proj", "model.encoder.layers.1.self_attn.k_proj", "vision_tower.blocks.1.attn.qkv", "lm_head", "w1"],
        expected: [.unmatched, .targeted, .targeted, .targeted, .unmatched, .unmatched, .unmatched, .unmatched, .targeted, .targeted]),
    DirectMatchCase(
        "regex $ before the end",
        json: #"{"peft_type": "LORA", "target_modules": ".*\\.(c_attn|qkv)$"}"#,
        names: ["model.layers.0.self_attn.q_proj", "model.layers.1.mlp.experts.0.w1", "model.layers.1.mlp.experts.3.w1", "model.layers.3.mlp.experts.1.w2", "transformer.h.2.attn.c_attn", "model.decoder.layers.1.encoder_attn.k_proj", "model.encoder.layers.1.self_attn.k_proj", "vision_tower.blocks.1.attn.qkv", "lm_head", "w1"],
        expected: [.unmatched, .unmatched, .unmatched, .unmatched, .targeted, .unmatched, .unmatched, .targeted, .unmatched, .unmatched]),
    DirectMatchCase(
        #"regex non-capturing group and \w"#,
        json: #"{"peft_type": "LORA", "target_modules": "(?:model|transformer)\\.\\w+\\.\\d+\\.\\w+\\.\\w+"}"#,
        names: ["model.layers.0.self_attn.q_proj", "model.layers.1.mlp.experts.0.w1", "model.layers.1.mlp.experts.3.w1", "model.layers.3.mlp.experts.1.w2", "transformer.h.2.attn.c_attn", "model.decoder.layers.1.encoder_attn.k_proj", "model.encoder.layers.1.self_attn.k_proj", "vision_tower.blocks.1.attn.qkv", "lm_head", "w1"],
        expected: [.targeted, .unmatched, .unmatched, .unmatched, .targeted, .unmatched, .unmatched, .unmatched, .unmatched, .unmatched]),
    DirectMatchCase(
        "regex inline case-insensitive flag",
        json: #"{"peft_type": "LORA", "target_modules": "(?i).*\\.Q_PROJ|LM_HEAD"}"#,
        names: ["model.layers.0.self_attn.q_proj", "model.layers.1.mlp.experts.0.w1", "model.layers.1.mlp.experts.3.w1", "model.layers.3.mlp.experts.1.w2", "transformer.h.2.attn.c_attn", "model.decoder.layers.1.encoder_attn.k_proj", "model.encoder.layers.1.self_attn.k_proj", "vision_tower.blocks.1.attn.qkv", "lm_head", "w1"],
        expected: [.targeted, .unmatched, .unmatched, .unmatched, .unmatched, .unmatched, .unmatched, .unmatched, .targeted, .unmatched]),
    DirectMatchCase(
        "regex literal brace",
        json: #"{"peft_type": "LORA", "target_modules": ".*\\.w1|{x}"}"#,
        names: ["model.layers.0.self_attn.q_proj", "model.layers.1.mlp.experts.0.w1", "model.layers.1.mlp.experts.3.w1", "model.layers.3.mlp.experts.1.w2", "transformer.h.2.attn.c_attn", "model.decoder.layers.1.encoder_attn.k_proj", "model.encoder.layers.1.self_attn.k_proj", "vision_tower.blocks.1.attn.qkv", "lm_head", "w1"],
        expected: [.unmatched, .targeted, .targeted, .unmatched, .unmatched, .unmatched, .unmatched, .unmatched, .unmatched, .unmatched]),
]

// peft 0.21.2 `get_pattern_key(keys, name)` (nil where it returns the name itself, i.e. no key matched).
let patternKeyNames: [String] = ["model.layers.0.self_attn.q_proj", "model.layers.1.self_attn.q_proj", "model.layers.10.mlp.down_proj", "encoder.layer.1.attention.self.query", "lm_head", "model.layers.1.mlp.experts.2.w1", "a+b"]
let patternKeyCases: [PatternKeyCase] = [
    PatternKeyCase(
        "suffix",
        keys: ["q_proj"],
        expected: ["q_proj", "q_proj", nil, nil, nil, nil, nil]),
    PatternKeyCase(
        "partial component does not match",
        keys: ["proj", "_proj", "q"],
        expected: [nil, nil, nil, nil, nil, nil, nil]),
    PatternKeyCase(
        "dotted suffix",
        keys: ["self_attn.q_proj", "attention.self.query"],
        expected: ["self_attn.q_proj", "self_attn.q_proj", nil, "attention.self.query", nil, nil, nil]),
    PatternKeyCase(
        "first in order wins",
        keys: ["down_proj", ".*proj", "q_proj"],
        expected: [".*proj", ".*proj", "down_proj", nil, nil, nil, nil]),
    PatternKeyCase(
        "anchored regex",
        keys: [#"^model\.layers\.1\..*"#, #"layers\.1\d?\..*"#],
        expected: [nil, #"^model\.layers\.1\..*"#, #"layers\.1\d?\..*"#, nil, nil, #"^model\.layers\.1\..*"#, nil]),
    PatternKeyCase(
        "unescaped dot",
        keys: ["layers.0.self_attn.q_proj", "layers.1.self.attn.q.proj"],
        expected: ["layers.0.self_attn.q_proj", "layers.1.self.attn.q.proj", nil, nil, nil, nil, nil]),
    PatternKeyCase(
        "alternation inside the group",
        keys: ["q_proj|down_proj", "lm_head"],
        expected: ["q_proj|down_proj", "q_proj|down_proj", "q_proj|down_proj", nil, "lm_head", nil, nil]),
    PatternKeyCase(
        "nested experts",
        keys: [#"experts\.\d+\.w1"#, "w1"],
        expected: [nil, nil, nil, nil, nil, #"experts\.\d+\.w1"#, nil]),
    PatternKeyCase(
        "literal fallback for a key that is not its own regex",
        keys: ["a+b"],
        expected: [nil, nil, nil, nil, nil, nil, "a+b"]),
    PatternKeyCase(
        "number components",
        keys: [#"\d+\.mlp\.down_proj"#, #"1\.self_attn\.q_proj"#],
        expected: [nil, #"1\.self_attn\.q_proj"#, #"\d+\.mlp\.down_proj"#, nil, nil, nil, nil]),
]
