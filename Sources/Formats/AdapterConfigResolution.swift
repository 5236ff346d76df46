// Resolving a decoded adapter_config.json into an AdapterConfig: defaults, refusals, patterns.
import Foundation
// MARK: - Resolution

extension AdapterConfig {
    init(wire: AdapterConfigWire, keyOrder: [String: [String]], maxRank: Int) throws {
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
                    embeddingTargeted = embeddingNames.contains { regex.fullMatch($0) }
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
    static func decodeWire(_ data: Data, source: String) throws -> AdapterConfigWire {
        // What JSONDecoder accepts silently (a byte order mark, a repeated key) or misreports
        // (malformed UTF-8 in a string as a type mismatch), the strict parser names.
        if data.starts(with: [0xEF, 0xBB, 0xBF]) { throw AdapterConfigError.byteOrderMark(source: source) }
        do {
            _ = try JSONValue.parse(data)
        } catch JSONError.duplicateKey(let key, _) {
            throw AdapterConfigError.duplicateKey(source: source, key: key)
        } catch JSONError.invalidUTF8(let offset) {
            throw AdapterConfigError.invalidUTF8(source: source, offset: offset)
        } catch {
            // Other syntax errors (or Python's NaN / Infinity) are described below.
        }
        do {
            return try JSONDecoder().decode(AdapterConfigWire.self, from: data)
        } catch let error as AdapterConfigError {
            throw error
        } catch let DecodingError.typeMismatch(_, context) where context.codingPath.isEmpty {
            throw AdapterConfigError.malformedJSON(source: source, detail: "the top-level value is not an object")
        } catch let error as DecodingError {
            let lenient = JSONDecoder()
            lenient.allowsJSON5 = true
            // Foundation's JSON5 scanner traps (a fatal error, not a throw) on invalid UTF-8 in an
            // unquoted key, e.g. `{p` + 0xF8…: found by Fuzz/AdapterConfig. Only valid UTF-8 goes in.
            if String(validating: data, as: UTF8.self) != nil,
               let wire = try? lenient.decode(AdapterConfigWire.self, from: data) {
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

func describe(_ targets: TargetModules) -> String {
    switch targets {
    case .names(let names): return "[" + names.map { "\"\($0)\"" }.joined(separator: ", ") + "]"
    case .regex(let pattern): return "\"\(pattern)\""
    case .allLinear: return "\"all-linear\""
    case .architectureDefault: return "(architecture default)"
    }
}

func describe(_ exclude: ExcludedModules?) -> String {
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
