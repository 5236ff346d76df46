// A Hugging Face PEFT LoRA `adapter_config.json`: decoded from the wire, validated, and resolved
// once with every default filled in exactly as peft 0.21.2's `LoraConfig` fills it.
//
// Source of truth: peft 0.21.2 — `config.py` (PeftConfig loading), `tuners/lora/config.py`
// (LoraConfig fields, defaults and `__post_init__` checks), `tuners/lora/model.py`
// (`_create_and_replace`: per-module r / alpha from rank_pattern / alpha_pattern), `tuners/lora/layer.py`
// (`update_layer`: scaling, init methods, variant resolution; `dispatch_default`: fan_in_fan_out),
// and the matching rules in AdapterTargetMatching.swift.
//
// Field-by-field decisions (accept = served exactly as peft computes it; ignore = no effect on
// inference; refuse = an `AdapterConfigError`):
// - peft_type: required (peft's MIN_EXPECTED_CONFIG_KEYS; loading without it raises KeyError); must be
//   "LORA" (case-sensitive, as peft's PEFT_TYPE_TO_CONFIG_MAPPING lookup).
// - r (default 8), lora_alpha (default 8), use_rslora, rank_pattern, alpha_pattern: accepted; they give
//   each module's scale. r and every rank_pattern value must be in 1...maxRank (peft raises for r ≤ 0 when
//   a layer is built; here all values are checked up front, even ones no module ends up using);
//   alphas must be finite. `null` for r or lora_alpha is refused (peft would crash on None).
// - use_dora: accepted (DoRA is served).
// - fan_in_fan_out: accepted and has no effect — peft forces it to False (with a warning) for every
//   torch.nn.Linear target, and all of Eckart's targets are nn.Linear.
// - target_modules, exclude_modules, layers_to_transform, layers_pattern: accepted, with peft's matching
//   rules and peft's own consistency checks (a regex target_modules cannot be combined with
//   layers_to_transform or layers_pattern; layers_pattern needs layers_to_transform).
//   target_modules = null means peft's per-architecture default (needs the caller's model_type).
//   "dummy-target-modules" is refused (it does not describe the adapted modules).
// - init_lora_weights: true / false / "" / "gaussian" (any case) / "eva" / "orthogonal" / "mica" (any case)
//   only initialise the adapter and leave the base weights alone: accepted. "pissa", "pissa_niter_<n>"
//   (any "pissa…"), "corda…", "olora" (any case), "loftq", "lora_ga" rewrite the base weights at
//   initialisation: refused (convert with path_initial_model_for_weight_conversion first). Any other string
//   is refused as peft raises "Unknown initialization".
// - kasa_config: refused (KaSA truncates the base weight's singular values).
// - LoRA variants (fields peft tags `is_lora_variant`, plus init_lora_weights="mica"): at most one may be
//   active, as peft has no layer for combinations. use_dora: served. velora_config (VeLoRA only changes the
//   backward pass), monteclora_config (Monte-Carlo sampling only while training) and "mica" (forward and merge
//   identical to LoRA): accepted, inference is plain LoRA; their sub-configs are validated as peft does.
//   alora_invocation_tokens (adapter active only after invocation tokens), arrow_config (routing among
//   adapters), use_bdlora (block-diagonal A/B factors): refused, the forward pass differs.
// - use_qalora: refused. peft applies QALoRA only to GPTQ-quantised layers; the adapter's lora_A expects
//   inputs pooled by qalora_group_size and does not fit an unquantised linear layer.
// - modules_to_save (non-empty), lora_bias (true), bias ("all" / "…_only"), target_parameters (non-empty),
//   layer_replication (non-empty), trainable_token_indices (any index): refused — each needs base-model
//   changes that are not low-rank updates of linear layers. Unknown bias values are refused as peft raises.
// - ensure_weight_tying: ignored unless target_modules names an embedding layer ("embed_tokens" /
//   "lm_head"): then, on a tied base model, peft moves the adapter onto the input embedding and ties lm_head
//   to it, which Eckart cannot serve — refused.
// - megatron_config / megatron_core: ignored (Megatron parallel layers compute the same LoRA), except that
//   peft refuses megatron_config together with use_dora.
// - eva_config, corda_config, loftq_config, lora_ga_config, qalora_group_size: initialisation / training
//   settings, ignored (eva_config is validated, as peft constructs it on load).
// - lora_dropout, inference_mode, revision, auto_mapping, peft_version, runtime_config
//   (ephemeral_gpu_offload): training / runtime only, ignored. task_type: validated against peft's TaskType.
// - Any other key: ignored, as peft drops unknown keys when loading a config from a newer version.
// - `null` for any other field means "absent" (peft's default).
import Foundation

/// What `target_modules` says, on the wire.
public enum TargetModules: Sendable, Equatable {
    /// A list: a module is targeted when its path equals an entry or ends with `"." + entry`.
    case names([String])
    /// A string: a Python regular expression that must match the whole module path (`re.fullmatch`).
    case regex(String)
    /// `"all-linear"` (any case): every linear module except the model's output layer.
    case allLinear
    /// `null` or absent: peft's default targets for the base model's `model_type`.
    case architectureDefault
}

/// What `exclude_modules` says, on the wire (absent, `null`, `""` and `[]` all mean "no exclusion").
public enum ExcludedModules: Sendable, Equatable {
    /// A list: excludes a module whose path equals an entry or ends with `"." + entry`.
    case names([String])
    /// A string: a Python regular expression that must match the whole module path.
    case regex(String)
}

/// A PEFT LoRA adapter configuration, validated and resolved with peft 0.21.2's defaults.
public struct AdapterConfig: Sendable {
    /// `base_model_name_or_path`: the base model the adapter was trained on, if recorded.
    public let baseModelName: String?
    /// `task_type` (e.g. "CAUSAL_LM", "SEQ_CLS"), if recorded.
    public let taskType: String?
    /// `r`: the default LoRA rank (peft default 8).
    public let rank: Int
    /// `lora_alpha`: the default LoRA alpha (peft default 8).
    public let alpha: Double
    /// `use_rslora`: scale by alpha/√r instead of alpha/r.
    public let useRSLoRA: Bool
    /// `use_dora`: weight-decomposed LoRA (a magnitude vector per targeted module).
    public let useDoRA: Bool
    /// `fan_in_fan_out` as written. It has no effect: peft forces it to false for nn.Linear targets.
    public let fanInFanOut: Bool
    /// `target_modules`.
    public let targetModules: TargetModules
    /// `exclude_modules`, or nil when nothing is excluded.
    public let excludeModules: ExcludedModules?
    /// `layers_to_transform` (an int on the wire becomes a one-element list). An empty list restricts
    /// nothing.
    public let layersToTransform: [Int]?
    /// `layers_pattern` (a string on the wire becomes a one-element list; `""` becomes `[]`). Regex
    /// fragments naming the layer list, e.g. "layers" or "h"; empty means any.
    public let layersPattern: [String]?
    /// `rank_pattern`: module-path regex → rank. See `rank(forModule:)`.
    public let rankPattern: [String: Int]
    /// `alpha_pattern`: module-path regex → alpha. See `alpha(forModule:)`.
    public let alphaPattern: [String: Double]
    /// The largest rank this configuration was allowed to use.
    public let maxRank: Int

    // Compiled forms, in the order peft consults them.
    let rankPatternKeys: [(key: String, regex: BoundedRegex)]
    let alphaPatternKeys: [(key: String, regex: BoundedRegex)]
    let compiledTargetRegex: BoundedRegex?
    let compiledExclude: CompiledExclude?
    let layerRegexes: [BoundedRegex]

    /// Default for `maxRank`.
    public static let defaultMaxRank = 1024

    /// Decodes, validates and resolves `adapter_config.json`.
    /// - Parameters:
    ///   - jsonData: the file's bytes.
    ///   - source: a name for the file in error messages.
    ///   - maxRank: the largest LoRA rank accepted (for `r` and every `rank_pattern` value).
    /// - Throws: `AdapterConfigError` when the file is malformed or describes an adapter that cannot be
    ///   served on a frozen base model.
    public init(jsonData: Data, source: String = "adapter_config.json", maxRank: Int = AdapterConfig.defaultMaxRank)
        throws
    {
        let wire = try Self.decodeWire(jsonData, source: source)
        try self.init(wire: wire, keyOrder: Self.patternKeyOrder(jsonData), maxRank: maxRank)
    }

    /// Reads `<directory>/adapter_config.json`.
    public static func load(fromDirectory directory: URL, maxRank: Int = AdapterConfig.defaultMaxRank) throws
        -> AdapterConfig
    {
        let url = directory.appendingPathComponent("adapter_config.json")
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw AdapterConfigError.fileNotFound(path: url.path)
        }
        return try AdapterConfig(jsonData: data, source: url.path, maxRank: maxRank)
    }

    // MARK: Per-module values

    /// The rank of the adapter on `path`: the value of the first `rank_pattern` key (in file order)
    /// for which `re.match(rf"(.*\.)?({key})$", path)` succeeds — the key, as a regex, matches the
    /// whole path or a suffix of it starting right after a `.` — else `r`. (peft 0.21.2
    /// `get_pattern_key`; if no key matches, peft also tries `path` itself as a literal key.)
    public func rank(forModule path: String) -> Int {
        patternValue(for: path, keys: rankPatternKeys, values: rankPattern) ?? rank
    }

    /// The alpha of the adapter on `path`, from `alpha_pattern` by the same rule as `rank(forModule:)`,
    /// else `lora_alpha`.
    public func alpha(forModule path: String) -> Double {
        patternValue(for: path, keys: alphaPatternKeys, values: alphaPattern) ?? alpha
    }

    /// The factor applied to `lora_B(lora_A(x))` on `path`: alpha / r, or alpha / √r with rsLoRA, with
    /// the module's own rank and alpha (peft `LoraLayer.update_layer`; computed in double precision like
    /// Python, then rounded to Float).
    public func scale(forModule path: String) -> Float {
        let r = Double(rank(forModule: path))
        let a = alpha(forModule: path)
        return Float(useRSLoRA ? a / r.squareRoot() : a / r)
    }

    // MARK: Targets

    /// Which of the model's module paths (e.g. "model.layers.0.self_attn.q_proj") this adapter targets,
    /// applying target_modules, exclude_modules, layers_to_transform / layers_pattern exactly as peft
    /// 0.21.2 `inject_adapter` does. Paths are named as transformers names them inside the model peft
    /// wraps (`base_model.model.` + path + `.lora_A.weight` in the adapter's state dict).
    ///
    /// - Parameters:
    ///   - linearModules: every linear module path of the base model, in module order. The result keeps
    ///     this order.
    ///   - outputLayer: the module "all-linear" leaves out (peft excludes the model's output embeddings,
    ///     e.g. "lm_head"; for a SEQ_CLS model without output embeddings, its "score" / "classifier"
    ///     head), if any.
    ///   - otherModules: every other module path (containers such as "model.layers.0.mlp", embeddings,
    ///     norms, activations). peft matches targets against these too and then fails (or, for
    ///     embeddings, builds an embedding LoRA); a match here is refused. They also take part in peft's
    ///     condensation of long target lists. Optional; without them such mistakes go unnoticed.
    ///   - modelType: the base model's `model_type`, used only when target_modules is null.
    /// - Throws: `AdapterConfigError.noModulesTargeted` when nothing is targeted (peft raises too),
    ///   `.nonLinearTarget` when a target is not a linear module, `.targetModulesUnresolved` when
    ///   target_modules is null and `modelType` has no peft default.
    public func targetedModules(
        among linearModules: [String],
        outputLayer: String?,
        otherModules: [String] = [],
        modelType: String? = nil
    ) throws -> [String] {
        // `_prepare_adapter_config`, then `_maybe_include_all_linear_layers`.
        var targets: ResolvedTargets
        var targetNames: Set<String>?
        switch targetModules {
        case .names(let names):
            targetNames = Set(names)
            targets = .names(Set(names))
        case .regex:
            targets = .regex(compiledTargetRegex!)
        case .allLinear:
            var names = Set(linearModules)
            if let outputLayer { names.remove(outputLayer) }
            targetNames = names
            targets = .names(names)
        case .architectureDefault:
            guard let modelType, let fallback = defaultLoRATargetModules[modelType] else {
                throw AdapterConfigError.targetModulesUnresolved(modelType: modelType)
            }
            switch fallback {
            case .names(let names):
                targetNames = Set(names)
                targets = .names(Set(names))
            case .regex(let pattern):
                targets = .regex(try PythonRegex.fullMatcher(pattern, field: "target_modules"))
            case .allLinear, .architectureDefault:
                preconditionFailure("peft's defaults are names or a regex")
            }
        }

        // `inject_adapter` condenses large target sets against every module name of the model
        // (including the root module "").
        let allKeys = [""] + linearModules + otherModules
        if let names = targetNames, names.count >= minTargetModulesForOptimization {
            let untargeted = allKeys.filter { key in
                !names.contains(key) && !names.contains(where: { key.hasSuffix("." + $0) })
            }
            guard let condensed = minimalTargetModules(names, otherModuleNames: Set(untargeted)) else {
                throw AdapterConfigError.invalidValue(
                    field: "target_modules", value: "[…, \"\", …]",
                    reason: "peft raises \"target_modules should not contain an empty string\" for lists of "
                        + "\(minTargetModulesForOptimization) or more entries")
            }
            if condensed.count < names.count {
                targetNames = condensed
                targets = .names(condensed)
            }
        }

        func classify(_ key: String) -> ModuleMatch {
            classifyModule(key, targets: targets, exclude: compiledExclude,
                           layersToTransform: layersToTransform, layerIndexRegexes: layerRegexes)
        }

        var excluded = 0
        var unmatched = 0
        for key in otherModules where !key.isEmpty {
            switch classify(key) {
            case .targeted: throw AdapterConfigError.nonLinearTarget(path: key)
            case .excluded: excluded += 1
            case .unmatched: unmatched += 1
            }
        }
        var targeted: [String] = []
        for key in linearModules where !key.isEmpty {
            switch classify(key) {
            case .targeted: targeted.append(key)
            case .excluded: excluded += 1
            case .unmatched: unmatched += 1
            }
        }
        if targeted.isEmpty {
            throw AdapterConfigError.noModulesTargeted(
                noMatchExplanation(excluded: excluded, unmatched: unmatched, targetNames: targetNames))
        }
        return targeted
    }

    /// peft's `check_target_module_exists` for one path with target_modules as written (a list or a
    /// regex; no "all-linear" expansion, architecture default or condensation, which need the model).
    func moduleMatch(_ key: String) -> ModuleMatch {
        let targets: ResolvedTargets
        switch targetModules {
        case .names(let names): targets = .names(Set(names))
        case .regex: targets = .regex(compiledTargetRegex!)
        case .allLinear, .architectureDefault: return .unmatched
        }
        return classifyModule(key, targets: targets, exclude: compiledExclude,
                              layersToTransform: layersToTransform, layerIndexRegexes: layerRegexes)
    }

    /// peft's messages for an adapter that targets nothing (`inject_adapter`'s error branches).
    private func noMatchExplanation(excluded: Int, unmatched: Int, targetNames: Set<String>?) -> String {
        var layers = ""
        if let layersToTransform { layers += " layers_to_transform=\(layersToTransform)." }
        if let layersPattern { layers += " layers_pattern=\(layersPattern)." }
        if excluded > 0 && unmatched == 0 {
            return "every module was excluded by exclude_modules=\(describe(excludeModules))"
        }
        if excluded == 0, targetNames?.isEmpty == true || targetModules == .regex("") {
            return "target_modules is empty and there are no target_parameters"
        }
        if excluded == 0 {
            return "target_modules \(describe(targetModules)) matched no module of the base model." + layers
        }
        return "no module matched target_modules \(describe(targetModules)) without being excluded by "
            + "exclude_modules=\(describe(excludeModules))." + layers
    }
}

extension AdapterConfig {
    /// The keys of `rank_pattern` and `alpha_pattern` in file order.
    ///
    /// peft picks the *first* pattern key that matches a module, in the dict's order, which Python's
    /// `json` takes from the file (peft's own `save_pretrained` writes keys sorted). Foundation's
    /// decoders drop key order; the strict parser keeps it. A file it refuses (Python writes `NaN`
    /// literals) yields no order, and patterns then apply in sorted order, as peft writes them.
    static func patternKeyOrder(_ data: Data) -> [String: [String]] {
        guard let object = (try? JSONValue.parse(data))?.objectValue else { return [:] }
        var order: [String: [String]] = [:]
        for field in ["rank_pattern", "alpha_pattern"] {
            if let keys = object[field]?.objectValue?.keys { order[field] = keys }
        }
        return order
    }
}
