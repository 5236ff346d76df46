// Refusals raised while reading, validating and resolving a PEFT `adapter_config.json`.
// Every message names the field and the offending value and says why, because the server
// returns these texts verbatim as HTTP 400 bodies.

/// Why an adapter configuration was refused.
///
/// Each case is one distinct reason. The messages (`description`) are written for the person who
/// uploaded the adapter: they name the `adapter_config.json` field, its value, and the reason.
public enum AdapterConfigError: Error, Equatable, Sendable, CustomStringConvertible {
    /// `<directory>/adapter_config.json` does not exist or cannot be read.
    case fileNotFound(path: String)
    /// The file is not a JSON object (syntax error, or a top-level value that is not an object).
    case malformedJSON(source: String, detail: String)
    /// The file starts with a UTF-8 byte order mark (RFC 8259 §8.1 forbids it; Python's `json`, which
    /// peft uses, refuses it too).
    case byteOrderMark(source: String)
    /// An object key appears twice (Python's `json` would silently keep the last value).
    case duplicateKey(source: String, key: String)
    /// The file is not well-formed UTF-8 (for example inside a string value).
    case invalidUTF8(source: String, offset: Int)
    /// A field peft requires is absent (only `peft_type`: peft cannot pick a config class without it).
    case missingField(field: String)
    /// A field holds a JSON value of the wrong type (or `null` where peft needs a value).
    case wrongType(field: String, expected: String)
    /// `peft_type` is not `"LORA"`.
    case unsupportedPeftType(String)
    /// The adapter was trained on a base model that peft rewrote at initialisation
    /// (`init_lora_weights` PiSSA / CorDA / OLoRA / LoftQ / LoRA-GA, or `kasa_config`).
    case baseWeightsModified(field: String, value: String)
    /// `init_lora_weights` is a string peft itself rejects ("Unknown initialization").
    case unknownInitialization(String)
    /// `modules_to_save` is non-empty: the adapter replaces whole base modules.
    case modulesToSave([String])
    /// `lora_bias` is true: the LoRA B projection carries a bias.
    case loraBias
    /// `bias` is `"all"` or `"…_only"`: base-model biases were trained and are stored in the adapter.
    case trainedBias(String)
    /// `target_parameters` is non-empty: LoRA on bare `nn.Parameter`s (MoE experts).
    case targetParameters([String])
    /// `layer_replication` is set: peft re-stacks the base model's layers.
    case layerReplication(String)
    /// `trainable_token_indices` is set: the adapter carries replacement embedding rows.
    case trainableTokens(String)
    /// A LoRA variant whose forward pass differs from plain LoRA / DoRA.
    case unsupportedVariant(field: String, reason: String)
    /// Several LoRA variants at once; peft 0.21.2 has no layer for any combination and raises too.
    case variantCombination([String])
    /// `r` or a `rank_pattern` value is ≤ 0 or above the server's maximum rank.
    case rankOutOfRange(field: String, rank: Int, maxRank: Int)
    /// `lora_alpha` or an `alpha_pattern` value is NaN or infinite.
    case nonFiniteAlpha(field: String, value: String)
    /// A regular expression (target_modules, exclude_modules, layers_pattern, rank/alpha_pattern key)
    /// does not compile.
    case invalidRegex(field: String, pattern: String, detail: String)
    /// A field's value is outside what peft accepts (peft's own validation).
    case invalidValue(field: String, value: String, reason: String)
    /// Fields that peft's `LoraConfig` refuses to combine.
    case conflictingFields(String)
    /// `target_modules` is null and peft has no default for the base model's `model_type`.
    case targetModulesUnresolved(modelType: String?)
    /// `target_modules` is peft's `"dummy-target-modules"` placeholder.
    case dummyTargetModules
    /// The targets match no linear module of the base model (peft raises then too).
    case noModulesTargeted(String)
    /// The targets match a module that is not a linear layer (a container, an embedding, a norm…).
    case nonLinearTarget(path: String)

    public var description: String {
        switch self {
        case .fileNotFound(let path):
            return "adapter config not found: \(path)"
        case .malformedJSON(let source, let detail):
            return "\(source) is not a valid JSON object: \(detail)"
        case .byteOrderMark(let source):
            return "\(source) starts with a UTF-8 byte order mark, which JSON does not allow; save it without one"
        case .duplicateKey(let source, let key):
            return "\(source) has the key \(quoted(key)) more than once; which value applies would be ambiguous"
        case .invalidUTF8(let source, let offset):
            return "\(source) is not valid UTF-8 (malformed byte sequence at byte \(offset))"
        case .missingField(let field):
            return "adapter_config.json has no `\(field)`; peft cannot load an adapter config without it"
        case .wrongType(let field, let expected):
            return "adapter_config.json field `\(field)` must be \(expected)"
        case .unsupportedPeftType(let type):
            return "peft_type \(quoted(type)) is not supported: only \"LORA\" adapters (LoRA and DoRA) can be served"
        case .baseWeightsModified(let field, let value):
            return "\(field)=\(value) is not supported: this initialisation rewrites the base model's weights, so the "
                + "adapter only works on that modified base model, not on the frozen base model served here. "
                + "Convert it to a plain LoRA adapter first: save it with peft's "
                + "`save_pretrained(..., path_initial_model_for_weight_conversion=...)`, which writes an equivalent "
                + "adapter for the original base weights (with init_lora_weights=true)"
        case .unknownInitialization(let value):
            return "init_lora_weights=\(quoted(value)) is not a value peft 0.21.2 knows (it raises \"Unknown "
                + "initialization\"); expected true, false, \"gaussian\", \"eva\", \"orthogonal\", \"mica\", or a "
                + "base-rewriting method that must be converted first"
        case .modulesToSave(let modules):
            return "modules_to_save=\(list(modules)) is not supported: those modules are stored as full trained "
                + "copies that replace the base model's modules; only low-rank updates of linear layers can be served"
        case .loraBias:
            return "lora_bias=true is not supported: the adapter's lora_B layers carry a bias term"
        case .trainedBias(let bias):
            return "bias=\(quoted(bias)) is not supported: the adapter stores trained base-model biases; "
                + "only bias=\"none\" adapters can be served on a frozen base model"
        case .targetParameters(let parameters):
            return "target_parameters=\(list(parameters)) is not supported: LoRA on bare parameters (e.g. MoE "
                + "experts) is not served; only target_modules on linear layers"
        case .layerReplication(let value):
            return "layer_replication=\(value) is not supported: peft would re-stack the base model's layers"
        case .trainableTokens(let value):
            return "trainable_token_indices=\(value) is not supported: the adapter replaces rows of the embedding "
                + "matrix"
        case .unsupportedVariant(let field, let reason):
            return "\(field) is not supported: \(reason)"
        case .variantCombination(let fields):
            return "LoRA variants \(list(fields)) are enabled together; peft 0.21.2 supports at most one variant "
                + "per layer (\"Invalid or unsupported variant combination\")"
        case .rankOutOfRange(let field, let rank, let maxRank):
            return rank <= 0
                ? "\(field)=\(rank) is invalid: the LoRA rank must be a positive integer (at most \(maxRank))"
                : "\(field)=\(rank) exceeds this server's maximum LoRA rank \(maxRank)"
        case .nonFiniteAlpha(let field, let value):
            return "\(field)=\(value) is invalid: the LoRA alpha must be a finite number"
        case .invalidRegex(let field, let pattern, let detail):
            return "\(field) regular expression \(quoted(pattern)) does not compile: \(detail)"
        case .invalidValue(let field, let value, let reason):
            return "\(field)=\(value) is invalid: \(reason)"
        case .conflictingFields(let reason):
            return "adapter_config.json is inconsistent: \(reason)"
        case .targetModulesUnresolved(let modelType):
            return "target_modules is null and peft 0.21.2 has no default target modules for model_type "
                + "\(modelType.map(quoted) ?? "(unknown)"); the adapter config must list target_modules"
        case .dummyTargetModules:
            return "target_modules=\"dummy-target-modules\" is not supported: it is peft's placeholder for "
                + "adapters whose layers are injected by other means, so the config does not say which "
                + "modules are adapted"
        case .noModulesTargeted(let detail):
            return "the adapter targets no module of the base model: \(detail)"
        case .nonLinearTarget(let path):
            return "target_modules matches \(quoted(path)), which is not a linear layer of the base model; "
                + "only linear layers can be adapted (peft would raise for containers and adapt embeddings "
                + "differently)"
        }
    }
}

/// `s` as a JSON string literal, so names with quotes or newlines stay readable in messages.
private func quoted(_ s: String) -> String {
    JSONValue.string(s).serialized()
}

private func list(_ items: [String]) -> String {
    "[" + items.map(quoted).joined(separator: ", ") + "]"
}
