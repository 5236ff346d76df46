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
    let rankPatternKeys: [(key: String, regex: NSRegularExpression)]
    let alphaPatternKeys: [(key: String, regex: NSRegularExpression)]
    let compiledTargetRegex: NSRegularExpression?
    let compiledExclude: CompiledExclude?
    let layerRegexes: [NSRegularExpression]

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
        let order = orderedObjectKeys(in: jsonData, fields: ["rank_pattern", "alpha_pattern"])
        try self.init(wire: wire, keyOrder: order ?? [:], maxRank: maxRank)
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

// MARK: - Resolution

extension AdapterConfig {
    fileprivate init(wire: AdapterConfigWire, keyOrder: [String: [String]], maxRank: Int) throws {
        guard let peftType = wire.peftType else { throw AdapterConfigError.missingField(field: "peft_type") }
        guard peftType == "LORA" else { throw AdapterConfigError.unsupportedPeftType(peftType) }

        // PeftConfig.__post_init__: task_type must be one of peft's TaskType values.
        let taskTypes: Set<String> = [
            "SEQ_CLS", "SEQ_2_SEQ_LM", "CAUSAL_LM", "TOKEN_CLS", "QUESTION_ANS", "FEATURE_EXTRACTION",
        ]
        if let taskType = wire.taskType, !taskTypes.contains(taskType) {
            throw AdapterConfigError.invalidValue(
                field: "task_type", value: "\"\(taskType)\"",
                reason: "peft accepts only \(taskTypes.sorted().joined(separator: ", "))")
        }

        // target_modules as peft reads it.
        let targetModules: TargetModules
        switch wire.targetModules {
        case nil: targetModules = .architectureDefault
        case .list(let names)?: targetModules = .names(names)
        case .string(let s)?:
            if s.lowercased() == "all-linear" {
                targetModules = .allLinear
            } else if s == "dummy-target-modules" {
                throw AdapterConfigError.dummyTargetModules
            } else {
                targetModules = .regex(s)
            }
        }
        let excludeModules: ExcludedModules?
        switch wire.excludeModules {
        case nil: excludeModules = nil
        case .string(let s)?: excludeModules = s.isEmpty ? nil : .regex(s)
        case .list(let names)?: excludeModules = names.isEmpty ? nil : .names(names)
        }
        let layersPattern: [String]?
        switch wire.layersPattern {
        case nil: layersPattern = nil
        case .string(let s)?: layersPattern = s.isEmpty ? [] : [s]
        case .list(let l)?: layersPattern = l
        }

        // LoraConfig.__post_init__ consistency checks.
        if case .string(_)? = wire.targetModules {
            if let layers = wire.layersToTransform {
                throw AdapterConfigError.conflictingFields(
                    "layers_to_transform=\(layers) cannot be used when target_modules is a string (a regex or "
                        + "\"all-linear\"); peft requires a list of module names for layer selection")
            }
            if let pattern = wire.layersPattern {
                throw AdapterConfigError.conflictingFields(
                    "layers_pattern=\(pattern) cannot be used when target_modules is a string (a regex or "
                        + "\"all-linear\"); peft requires a list of module names for layer selection")
            }
        }
        if let layersPattern, !layersPattern.isEmpty, wire.layersToTransform == nil {
            throw AdapterConfigError.conflictingFields(
                "layers_pattern=\(layersPattern) is set but layers_to_transform is not; peft requires both")
        }
        if wire.useDoRA == true, wire.megatronConfig?.isTruthy == true {
            throw AdapterConfigError.conflictingFields(
                "use_dora=true cannot be combined with megatron_config (peft: \"DoRA does not support megatron_core\")")
        }
        try wire.veloraConfig?.validate()
        try wire.monteclora?.validate()
        try wire.evaConfig?.validate()

        // Initialisation methods that rewrite the base weights, and unknown ones.
        var initIsMiCA = false
        if case .string(let value)? = wire.initLoraWeights {
            let lower = value.lowercased()
            if value.hasPrefix("pissa") || value.hasPrefix("corda") || lower == "olora" || value == "loftq"
                || value == "lora_ga"
            {
                throw AdapterConfigError.baseWeightsModified(field: "init_lora_weights", value: "\"\(value)\"")
            }
            let safe = value.isEmpty || lower == "gaussian" || lower == "mica" || value == "eva"
                || value == "orthogonal"
            guard safe else { throw AdapterConfigError.unknownInitialization(value) }
            initIsMiCA = (value == "mica")
        }
        if wire.kasaConfig != nil {
            throw AdapterConfigError.baseWeightsModified(field: "kasa_config", value: "{…} (KaSA)")
        }

        // LoRA variants: peft resolves exactly one variant class per layer.
        var variants: [String] = []
        if wire.useDoRA == true { variants.append("use_dora") }
        if wire.veloraConfig != nil { variants.append("velora_config") }
        if let tokens = wire.aloraInvocationTokens, !tokens.isEmpty { variants.append("alora_invocation_tokens") }
        if wire.monteclora != nil { variants.append("monteclora_config") }
        if wire.bdLoRAConfig != nil { variants.append("use_bdlora") }
        if wire.arrowConfig != nil { variants.append("arrow_config") }
        if initIsMiCA { variants.append("init_lora_weights=\"mica\"") }
        if variants.count > 1 { throw AdapterConfigError.variantCombination(variants) }
        if let tokens = wire.aloraInvocationTokens, !tokens.isEmpty {
            throw AdapterConfigError.unsupportedVariant(
                field: "alora_invocation_tokens",
                reason: "Activated LoRA applies the adapter only from the invocation tokens onwards")
        }
        if wire.arrowConfig != nil {
            throw AdapterConfigError.unsupportedVariant(
                field: "arrow_config", reason: "Arrow routes each token among several LoRA experts")
        }
        if wire.bdLoRAConfig != nil {
            throw AdapterConfigError.unsupportedVariant(
                field: "use_bdlora", reason: "BD-LoRA stores block-diagonal lora_A / lora_B factors")
        }
        if wire.useQALoRA == true {
            throw AdapterConfigError.unsupportedVariant(
                field: "use_qalora",
                reason: "QALoRA adapters are trained on GPTQ-quantised layers and their lora_A expects inputs "
                    + "pooled in groups of qalora_group_size")
        }

        // Features that change the base model beyond low-rank updates of linear layers.
        if let modules = wire.modulesToSave, !modules.isEmpty {
            throw AdapterConfigError.modulesToSave(modules)
        }
        if wire.loraBias == true { throw AdapterConfigError.loraBias }
        if let bias = wire.bias, bias != "none" {
            if bias == "all" || bias.hasSuffix("_only") { throw AdapterConfigError.trainedBias(bias) }
            throw AdapterConfigError.invalidValue(
                field: "bias", value: "\"\(bias)\"", reason: "peft accepts \"none\", \"all\" or \"lora_only\"")
        }
        if let parameters = wire.targetParameters, !parameters.isEmpty {
            throw AdapterConfigError.targetParameters(parameters)
        }
        if let replication = wire.layerReplication, !replication.isEmpty {
            throw AdapterConfigError.layerReplication("\(AnyJSON.array(replication))")
        }
        if let tokens = wire.trainableTokenIndices, tokens.hasIndices {
            throw AdapterConfigError.trainableTokens(tokens.summary)
        }
        if wire.ensureWeightTying == true {
            // `_check_tied_modules`: is an embedding layer among the targets?
            let embeddingNames = ["embed_tokens", "lm_head"]
            var embeddingTargeted = false
            switch wire.targetModules {
            case .string(let pattern)?:
                if case .regex = targetModules {
                    let regex = try PythonRegex.fullMatcher(pattern, field: "target_modules")
                    embeddingTargeted = embeddingNames.contains { regex.pythonMatch($0) != nil }
                }
            case .list(let names)?:
                embeddingTargeted = names.contains {
                    embeddingNames.contains(String($0.split(separator: ".", omittingEmptySubsequences: false).last!))
                }
            case nil:
                break
            }
            if embeddingTargeted {
                throw AdapterConfigError.unsupportedVariant(
                    field: "ensure_weight_tying",
                    reason: "with an embedding layer in target_modules, peft moves the adapter of a tied lm_head "
                        + "onto the input embedding and ties the two; only linear layers can be adapted")
            }
        }

        // Ranks and alphas.
        guard maxRank >= 1 else { preconditionFailure("maxRank must be at least 1") }
        let rank = wire.rank ?? 8
        guard rank >= 1, rank <= maxRank else {
            throw AdapterConfigError.rankOutOfRange(field: "r", rank: rank, maxRank: maxRank)
        }
        let alpha = wire.alpha ?? 8
        guard alpha.isFinite else { throw AdapterConfigError.nonFiniteAlpha(field: "lora_alpha", value: "\(alpha)") }
        let rankPattern = wire.rankPattern ?? [:]
        let alphaPattern = wire.alphaPattern ?? [:]
        let rankKeys = ordered(Array(rankPattern.keys), by: keyOrder["rank_pattern"])
        let alphaKeys = ordered(Array(alphaPattern.keys), by: keyOrder["alpha_pattern"])
        for key in rankKeys {
            let value = rankPattern[key]!
            guard value >= 1, value <= maxRank else {
                throw AdapterConfigError.rankOutOfRange(field: "rank_pattern[\"\(key)\"]", rank: value, maxRank: maxRank)
            }
        }
        for key in alphaKeys where !alphaPattern[key]!.isFinite {
            throw AdapterConfigError.nonFiniteAlpha(field: "alpha_pattern[\"\(key)\"]", value: "\(alphaPattern[key]!)")
        }

        // Regular expressions.
        self.rankPatternKeys = try rankKeys.map { (key: $0, regex: try patternKeyRegex($0, field: "rank_pattern")) }
        self.alphaPatternKeys = try alphaKeys.map { (key: $0, regex: try patternKeyRegex($0, field: "alpha_pattern")) }
        if case .regex(let pattern) = targetModules {
            self.compiledTargetRegex = try PythonRegex.fullMatcher(pattern, field: "target_modules")
        } else {
            self.compiledTargetRegex = nil
        }
        switch excludeModules {
        case .regex(let pattern)?:
            self.compiledExclude = .regex(try PythonRegex.fullMatcher(pattern, field: "exclude_modules"))
        case .names(let names)?:
            self.compiledExclude = .names(Set(names))
        case nil:
            self.compiledExclude = nil
        }
        self.layerRegexes = try layerIndexRegexes(layersPattern: layersPattern)

        self.baseModelName = wire.baseModelNameOrPath
        self.taskType = wire.taskType
        self.rank = rank
        self.alpha = alpha
        self.useRSLoRA = wire.useRSLoRA ?? false
        self.useDoRA = wire.useDoRA ?? false
        self.fanInFanOut = wire.fanInFanOut ?? false
        self.targetModules = targetModules
        self.excludeModules = excludeModules
        self.layersToTransform = wire.layersToTransform
        self.layersPattern = layersPattern
        self.rankPattern = rankPattern
        self.alphaPattern = alphaPattern
        self.maxRank = maxRank
    }

    /// Strict JSON first; Python's `json` (which peft uses) also reads `NaN` / `Infinity`, so a file
    /// that only parses with those gets the more useful "not finite" error when alpha is the culprit.
    fileprivate static func decodeWire(_ data: Data, source: String) throws -> AdapterConfigWire {
        do {
            return try JSONDecoder().decode(AdapterConfigWire.self, from: data)
        } catch let error as AdapterConfigError {
            throw error
        } catch let DecodingError.typeMismatch(_, context) where context.codingPath.isEmpty {
            throw AdapterConfigError.malformedJSON(source: source, detail: "the top-level value is not an object")
        } catch let error as DecodingError {
            let lenient = JSONDecoder()
            lenient.allowsJSON5 = true
            if let wire = try? lenient.decode(AdapterConfigWire.self, from: data) {
                if let alpha = wire.alpha, !alpha.isFinite {
                    throw AdapterConfigError.nonFiniteAlpha(field: "lora_alpha", value: "\(alpha)")
                }
                for (key, value) in wire.alphaPattern ?? [:] where !value.isFinite {
                    throw AdapterConfigError.nonFiniteAlpha(field: "alpha_pattern[\"\(key)\"]", value: "\(value)")
                }
            }
            throw AdapterConfigError.malformedJSON(source: source, detail: describeSyntaxError(error, in: data))
        }
    }
}

/// JSONDecoder only says "not valid JSON"; JSONSerialization says where.
private func describeSyntaxError(_ error: DecodingError, in data: Data) -> String {
    do {
        _ = try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
    } catch {
        if let detail = (error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String { return detail }
    }
    if case .dataCorrupted(let context) = error { return context.debugDescription }
    return "\(error)"
}

private func describe(_ targets: TargetModules) -> String {
    switch targets {
    case .names(let names): return "[" + names.map { "\"\($0)\"" }.joined(separator: ", ") + "]"
    case .regex(let pattern): return "\"\(pattern)\""
    case .allLinear: return "\"all-linear\""
    case .architectureDefault: return "(architecture default)"
    }
}

private func describe(_ exclude: ExcludedModules?) -> String {
    switch exclude {
    case .names(let names)?: return "[" + names.map { "\"\($0)\"" }.joined(separator: ", ") + "]"
    case .regex(let pattern)?: return "\"\(pattern)\""
    case nil: return "null"
    }
}

/// `keys` in file order when known (keys missing from `order` go last, by code point — the order
/// peft's `save_pretrained` writes with `sort_keys=True`).
private func ordered(_ keys: [String], by order: [String]?) -> [String] {
    let position = Dictionary((order ?? []).enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
    return keys.sorted { a, b in
        switch (position[a], position[b]) {
        case let (x?, y?): return x < y
        case (_?, nil): return true
        case (nil, _?): return false
        case (nil, nil): return a.unicodeScalars.map(\.value).lexicographicallyPrecedes(b.unicodeScalars.map(\.value))
        }
    }
}

// MARK: - Wire format

/// `adapter_config.json` as stored. Only the fields that matter are decoded; the rest is ignored.
struct AdapterConfigWire: Decodable {
    var peftType: String?
    var baseModelNameOrPath: String?
    var taskType: String?
    var rank: Int?
    var alpha: Double?
    var useRSLoRA: Bool?
    var useDoRA: Bool?
    var fanInFanOut: Bool?
    var bias: String?
    var loraBias: Bool?
    var targetModules: StringOrList?
    var excludeModules: StringOrList?
    var layersToTransform: [Int]?
    var layersPattern: StringOrList?
    var rankPattern: [String: Int]?
    var alphaPattern: [String: Double]?
    var initLoraWeights: InitLoraWeights?
    var modulesToSave: [String]?
    var targetParameters: [String]?
    var layerReplication: [AnyJSON]?
    var trainableTokenIndices: TrainableTokenIndices?
    var ensureWeightTying: Bool?
    var megatronConfig: AnyJSON?
    var useQALoRA: Bool?
    var aloraInvocationTokens: [Int]?
    var veloraConfig: VeloraConfigWire?
    var monteclora: MontecloraConfigWire?
    var evaConfig: EvaConfigWire?
    var kasaConfig: [String: AnyJSON]?
    var arrowConfig: [String: AnyJSON]?
    var bdLoRAConfig: [String: AnyJSON]?

    enum CodingKeys: String, CodingKey {
        case peftType = "peft_type"
        case baseModelNameOrPath = "base_model_name_or_path"
        case taskType = "task_type"
        case rank = "r"
        case alpha = "lora_alpha"
        case useRSLoRA = "use_rslora"
        case useDoRA = "use_dora"
        case fanInFanOut = "fan_in_fan_out"
        case bias
        case loraBias = "lora_bias"
        case targetModules = "target_modules"
        case excludeModules = "exclude_modules"
        case layersToTransform = "layers_to_transform"
        case layersPattern = "layers_pattern"
        case rankPattern = "rank_pattern"
        case alphaPattern = "alpha_pattern"
        case initLoraWeights = "init_lora_weights"
        case modulesToSave = "modules_to_save"
        case targetParameters = "target_parameters"
        case layerReplication = "layer_replication"
        case trainableTokenIndices = "trainable_token_indices"
        case ensureWeightTying = "ensure_weight_tying"
        case megatronConfig = "megatron_config"
        case useQALoRA = "use_qalora"
        case aloraInvocationTokens = "alora_invocation_tokens"
        case veloraConfig = "velora_config"
        case monteclora = "monteclora_config"
        case evaConfig = "eva_config"
        case kasaConfig = "kasa_config"
        case arrowConfig = "arrow_config"
        case bdLoRAConfig = "use_bdlora"
    }

    init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        // `null` means "absent" (peft's default), except where peft cannot work with None.
        func field<T: Decodable>(_ key: CodingKeys, _ expected: String, nullable: Bool = true) throws -> T? {
            if !nullable, c.contains(key), (try? c.decodeNil(forKey: key)) == true {
                throw AdapterConfigError.wrongType(field: key.rawValue, expected: expected + ", not null")
            }
            do {
                return try c.decodeIfPresent(T.self, forKey: key)
            } catch let error as AdapterConfigError {
                throw error
            } catch {
                throw AdapterConfigError.wrongType(field: key.rawValue, expected: expected)
            }
        }
        peftType = try field(.peftType, "a string", nullable: false)
        baseModelNameOrPath = try field(.baseModelNameOrPath, "a string")
        taskType = try field(.taskType, "a string")
        rank = try field(.rank, "an integer", nullable: false)
        alpha = try field(.alpha, "a number", nullable: false)
        useRSLoRA = try field(.useRSLoRA, "a boolean")
        useDoRA = try field(.useDoRA, "a boolean")
        fanInFanOut = try field(.fanInFanOut, "a boolean")
        bias = try field(.bias, "a string (\"none\", \"all\" or \"lora_only\")")
        loraBias = try field(.loraBias, "a boolean")
        targetModules = try field(.targetModules, "a string or a list of strings")
        excludeModules = try field(.excludeModules, "a string or a list of strings")
        let layers: IntOrList? = try field(.layersToTransform, "an integer or a list of integers")
        layersToTransform = layers?.values
        layersPattern = try field(.layersPattern, "a string or a list of strings")
        rankPattern = try field(.rankPattern, "an object mapping module patterns to integer ranks")
        alphaPattern = try field(.alphaPattern, "an object mapping module patterns to numbers")
        initLoraWeights = try field(.initLoraWeights, "a boolean or a string")
        modulesToSave = try field(.modulesToSave, "a list of strings")
        targetParameters = try field(.targetParameters, "a list of strings")
        layerReplication = try field(.layerReplication, "a list of [start, end) pairs")
        trainableTokenIndices = try field(
            .trainableTokenIndices, "a list of integers or an object mapping module names to lists of integers")
        ensureWeightTying = try field(.ensureWeightTying, "a boolean")
        megatronConfig = try field(.megatronConfig, "an object")
        useQALoRA = try field(.useQALoRA, "a boolean")
        aloraInvocationTokens = try field(.aloraInvocationTokens, "a list of integers")
        veloraConfig = try field(.veloraConfig, "an object")
        monteclora = try field(.monteclora, "an object")
        evaConfig = try field(.evaConfig, "an object")
        kasaConfig = try field(.kasaConfig, "an object")
        arrowConfig = try field(.arrowConfig, "an object")
        bdLoRAConfig = try field(.bdLoRAConfig, "an object")
    }
}

/// `target_modules`, `exclude_modules`, `layers_pattern`: a string or a list of strings.
enum StringOrList: Decodable, Equatable, CustomStringConvertible {
    case string(String)
    case list([String])

    init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let s = try? c.decode(String.self) {
            self = .string(s)
        } else {
            self = .list(try c.decode([String].self))
        }
    }

    var description: String {
        switch self {
        case .string(let s): return "\"\(s)\""
        case .list(let l): return "[" + l.map { "\"\($0)\"" }.joined(separator: ", ") + "]"
        }
    }
}

/// `layers_to_transform`: an integer or a list of integers.
struct IntOrList: Decodable {
    var values: [Int]

    init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let one = try? c.decode(Int.self) {
            values = [one]
        } else {
            values = try c.decode([Int].self)
        }
    }
}

/// `init_lora_weights`: a boolean or a method name.
enum InitLoraWeights: Decodable {
    case bool(Bool)
    case string(String)

    init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let b = try? c.decode(Bool.self) {
            self = .bool(b)
        } else {
            self = .string(try c.decode(String.self))
        }
    }
}

/// `trainable_token_indices`: a list of token ids, or module name → list of token ids.
enum TrainableTokenIndices: Decodable {
    case list([Int])
    case perModule([String: [Int]])

    init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let l = try? c.decode([Int].self) {
            self = .list(l)
        } else {
            self = .perModule(try c.decode([String: [Int]].self))
        }
    }

    var hasIndices: Bool {
        switch self {
        case .list(let l): return !l.isEmpty
        case .perModule(let m): return m.values.contains { !$0.isEmpty }
        }
    }

    var summary: String {
        switch self {
        case .list(let l): return "\(l)"
        case .perModule(let m): return "{" + m.keys.sorted().map { "\"\($0)\": \(m[$0]!)" }.joined(separator: ", ") + "}"
        }
    }
}

/// Any JSON value, for fields whose content does not matter, only their presence or truthiness.
enum AnyJSON: Decodable, CustomStringConvertible {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([AnyJSON])
    case object([String: AnyJSON])

    init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() {
            self = .null
        } else if let b = try? c.decode(Bool.self) {
            self = .bool(b)
        } else if let n = try? c.decode(Double.self) {
            self = .number(n)
        } else if let s = try? c.decode(String.self) {
            self = .string(s)
        } else if let a = try? c.decode([AnyJSON].self) {
            self = .array(a)
        } else {
            self = .object(try c.decode([String: AnyJSON].self))
        }
    }

    /// Python's `bool()` of the decoded value.
    var isTruthy: Bool {
        switch self {
        case .null: return false
        case .bool(let b): return b
        case .number(let n): return n != 0
        case .string(let s): return !s.isEmpty
        case .array(let a): return !a.isEmpty
        case .object(let o): return !o.isEmpty
        }
    }

    var description: String {
        switch self {
        case .null: return "null"
        case .bool(let b): return "\(b)"
        case .number(let n): return n == n.rounded() && abs(n) < 1e15 ? "\(Int(n))" : "\(n)"
        case .string(let s): return "\"\(s)\""
        case .array(let a): return "[" + a.map(\.description).joined(separator: ", ") + "]"
        case .object(let o): return "{" + o.keys.sorted().map { "\"\($0)\": \(o[$0]!)" }.joined(separator: ", ") + "}"
        }
    }
}

/// peft `VeloraConfig`, validated as its `__post_init__` does.
struct VeloraConfigWire: Decodable {
    var numGroups: Double?
    var scale: Double?
    var initType: String?

    enum CodingKeys: String, CodingKey {
        case numGroups = "num_groups"
        case scale
        case initType = "init_type"
    }

    func validate() throws {
        if let n = numGroups, !(n > 0) {
            throw AdapterConfigError.invalidValue(field: "velora_config.num_groups", value: "\(n)", reason: "must be positive")
        }
        if let s = scale, !(s > 0) {
            throw AdapterConfigError.invalidValue(field: "velora_config.scale", value: "\(s)", reason: "must be positive")
        }
        if let t = initType, !["batch_average_once", "batch_average", "random"].contains(t) {
            throw AdapterConfigError.invalidValue(
                field: "velora_config.init_type", value: "\"\(t)\"",
                reason: "peft accepts \"batch_average_once\", \"batch_average\" or \"random\"")
        }
    }
}

/// peft `MontecloraConfig`, validated as its `__post_init__` does.
struct MontecloraConfigWire: Decodable {
    var numSamples: Double?
    var dirichletPrior: Double?
    var bufferSize: Double?

    enum CodingKeys: String, CodingKey {
        case numSamples = "num_samples"
        case dirichletPrior = "dirichlet_prior"
        case bufferSize = "buffer_size"
    }

    func validate() throws {
        if let n = numSamples, !(n > 0) {
            throw AdapterConfigError.invalidValue(
                field: "monteclora_config.num_samples", value: "\(n)", reason: "must be greater than 0")
        }
        if let d = dirichletPrior, !(d > 0) {
            throw AdapterConfigError.invalidValue(
                field: "monteclora_config.dirichlet_prior", value: "\(d)", reason: "must be greater than 0")
        }
        if let b = bufferSize, !(b > 0) {
            throw AdapterConfigError.invalidValue(
                field: "monteclora_config.buffer_size", value: "\(b)", reason: "must be greater than 0")
        }
    }
}

/// peft `EvaConfig`, validated as its `__post_init__` does (peft builds it on load even when unused).
struct EvaConfigWire: Decodable {
    var rho: Double?
    var tau: Double?

    func validate() throws {
        if let rho, !(rho >= 1) {
            throw AdapterConfigError.invalidValue(field: "eva_config.rho", value: "\(rho)", reason: "must be >= 1.0")
        }
        if let tau, !(tau >= 0 && tau <= 1) {
            throw AdapterConfigError.invalidValue(
                field: "eva_config.tau", value: "\(tau)", reason: "must be between 0.0 and 1.0")
        }
    }
}

// MARK: - Key order

/// The keys, in file order, of the objects stored under `fields` in the top-level JSON object.
///
/// peft picks the *first* rank_pattern / alpha_pattern key that matches a module, in the dict's order,
/// which Python's `json` takes from the file (peft's own `save_pretrained` writes keys sorted).
/// Foundation's decoders do not keep key order, so this scans the (already validated) bytes.
/// Returns nil if the bytes are not in the expected shape.
func orderedObjectKeys(in data: Data, fields: Set<String>) -> [String: [String]]? {
    let bytes = [UInt8](data)
    var i = 0
    if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { i = 3 }

    func skipWhitespace() {
        while i < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[i]) { i += 1 }
    }
    func consume(_ byte: UInt8) -> Bool {
        skipWhitespace()
        guard i < bytes.count, bytes[i] == byte else { return false }
        i += 1
        return true
    }
    func string() -> String? {
        skipWhitespace()
        guard i < bytes.count, bytes[i] == UInt8(ascii: "\"") else { return nil }
        let start = i
        i += 1
        while i < bytes.count, bytes[i] != UInt8(ascii: "\"") {
            i += bytes[i] == UInt8(ascii: "\\") ? 2 : 1
        }
        guard i < bytes.count else { return nil }
        i += 1
        return try? JSONDecoder().decode(String.self, from: Data(bytes[start..<i]))
    }
    func skipValue() -> Bool {
        skipWhitespace()
        guard i < bytes.count else { return false }
        switch bytes[i] {
        case UInt8(ascii: "\""):
            return string() != nil
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            var depth = 0
            while i < bytes.count {
                switch bytes[i] {
                case UInt8(ascii: "\""):
                    guard string() != nil else { return false }
                    continue
                case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1
                case UInt8(ascii: "}"), UInt8(ascii: "]"): depth -= 1
                default: break
                }
                i += 1
                if depth == 0 { return true }
            }
            return false
        default:
            while i < bytes.count, !",}] \t\r\n".utf8.contains(bytes[i]) { i += 1 }
            return true
        }
    }
    /// Keys of the object starting at `i`, first occurrence first (Python dicts keep the first position).
    func objectKeys() -> [String]? {
        guard consume(UInt8(ascii: "{")) else { return nil }
        var keys: [String] = []
        if consume(UInt8(ascii: "}")) { return keys }
        repeat {
            guard let key = string(), consume(UInt8(ascii: ":")), skipValue() else { return nil }
            if !keys.contains(key) { keys.append(key) }
        } while consume(UInt8(ascii: ","))
        return consume(UInt8(ascii: "}")) ? keys : nil
    }

    var result: [String: [String]] = [:]
    guard consume(UInt8(ascii: "{")) else { return nil }
    if consume(UInt8(ascii: "}")) { return result }
    repeat {
        guard let key = string(), consume(UInt8(ascii: ":")) else { return nil }
        skipWhitespace()
        if fields.contains(key), i < bytes.count, bytes[i] == UInt8(ascii: "{") {
            guard let keys = objectKeys() else { return nil }
            result[key] = keys  // a repeated field: Python keeps the last value
        } else if !skipValue() {
            return nil
        }
    } while consume(UInt8(ascii: ","))
    return result
}
