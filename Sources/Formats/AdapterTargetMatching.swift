// PEFT's rules for deciding which modules a LoRA adapter adapts, and with which rank and alpha,
// reproduced from peft 0.21.2:
//   - `tuners/tuners_utils.py` `check_target_module_exists` (exclude_modules, target_modules,
//     layers_to_transform / layers_pattern), `_maybe_include_all_linear_layers` ("all-linear"),
//     `_find_minimal_target_modules` and the part of `BaseTuner.inject_adapter` that uses it and raises
//     when nothing matched;
//   - `utils/other.py` `get_pattern_key` / `match_target_against_key` (rank_pattern, alpha_pattern);
//   - `tuners/lora/model.py` `LoraModel._prepare_adapter_config` (target_modules = null) and
//     `utils/constants.py` `TRANSFORMERS_MODELS_TO_LORA_TARGET_MODULES_MAPPING`.
// PEFT matches with Python's `re`; here the patterns are parsed as Python syntax and matched by
// `BoundedRegex` (no backtracking, so a hostile pattern in an uploaded config cannot hang the load).
import Foundation

// MARK: - Python `re` patterns

/// How adapter_config.json's regular expressions are compiled.
enum PythonRegex {
    /// Longest pattern accepted in an adapter config (a target_modules alternation can list many
    /// modules; the matcher's cost stays O(pattern × name) whatever the length).
    static let maxLength = 8192

    /// Compiles a Python pattern (already composed into its final Python text).
    /// `field` and `shown` only feed the error message.
    static func compile(_ pythonPattern: String, field: String, shown: String) throws -> BoundedRegex {
        do {
            return try BoundedRegex(pythonPattern, maxLength: maxLength)
        } catch {
            throw AdapterConfigError.invalidRegex(field: field, pattern: shown, detail: error.description)
        }
    }

    /// A regex to be used with `fullMatch` (Python `re.fullmatch`) for `pattern`.
    static func fullMatcher(_ pattern: String, field: String) throws -> BoundedRegex {
        try compile(pattern, field: field, shown: pattern)
    }
}

// MARK: - Module matching

/// One module's fate under peft's `check_target_module_exists`.
enum ModuleMatch: Equatable {
    /// Matched by `exclude_modules` (peft's `_ExcludedModule`).
    case excluded
    /// Not targeted.
    case unmatched
    /// Targeted: peft wraps this module with a LoRA layer.
    case targeted
}

/// `target_modules` after peft's preparation: a set of names (list on the wire, "all-linear"
/// expanded, or the per-architecture default) or a regex.
enum ResolvedTargets: Sendable {
    case names(Set<String>)
    case regex(BoundedRegex)
}

/// The compiled form of `exclude_modules`.
enum CompiledExclude: Sendable {
    case names(Set<String>)
    case regex(BoundedRegex)
}

/// peft 0.21.2 `check_target_module_exists`, with `modules_to_save` always empty (refused earlier).
///
/// 1. `exclude_modules`: a string is `re.fullmatch`ed against the key; a list excludes a key equal to
///    an entry or ending with `"." + entry`. Excluded keys are never targeted.
/// 2. `target_modules` as a string: `re.fullmatch` against the key; layers_to_transform is not consulted
///    (peft forbids combining them).
/// 3. `target_modules` as a set: a key equal to an entry is targeted outright — *without* the layer
///    filter. Otherwise the key is targeted if it ends with `"." + entry`, and then, when
///    layers_to_transform is an int or a non-empty list, only if the layer index extracted from the key
///    is in it: with no layers_pattern, the first numbered path component that follows a component
///    (`re.match(r".*?\.[^.]*\.(?P<idx>\d+)\.")`); with layers_pattern, for each pattern in order
///    `re.match(rf"(?:^|.*?\.){pattern}\.(?P<idx>\d+)\.")`, the first that matches. No index → not
///    targeted.
func classifyModule(
    _ key: String,
    targets: ResolvedTargets,
    exclude: CompiledExclude?,
    layersToTransform: [Int]?,
    layerIndexRegexes: [BoundedRegex]
) -> ModuleMatch {
    switch exclude {
    case .regex(let regex):
        if regex.fullMatch(key) { return .excluded }
    case .names(let names):
        if names.contains(key) || names.contains(where: { key.hasSuffix("." + $0) }) { return .excluded }
    case nil:
        break
    }

    switch targets {
    case .regex(let regex):
        return regex.fullMatch(key) ? .targeted : .unmatched
    case .names(let names):
        if names.contains(key) { return .targeted }
        guard names.contains(where: { key.hasSuffix("." + $0) }) else { return .unmatched }
        guard let layers = layersToTransform, !layers.isEmpty else { return .targeted }
        guard let index = layerIndex(of: key, regexes: layerIndexRegexes) else { return .unmatched }
        return layers.contains(index) ? .targeted : .unmatched
    }
}

/// The layer index peft reads from a module path (see `classifyModule`), or nil.
func layerIndex(of key: String, regexes: [BoundedRegex]) -> Int? {
    guard let digits = regexes.lazy.compactMap({ $0.prefixMatch(key) }).first?.group("idx") else { return nil }
    // Python's int() accepts any Unicode decimal digit that `\d` matched.
    var value = 0
    for scalar in digits.unicodeScalars {
        guard let digit = scalar.properties.numericValue, scalar.properties.numericType == .decimal else {
            return nil
        }
        let (product, overflow1) = value.multipliedReportingOverflow(by: 10)
        let (sum, overflow2) = product.addingReportingOverflow(Int(digit))
        if overflow1 || overflow2 { return nil }
        value = sum
    }
    return value
}

/// The regexes peft uses to find a module's layer index, in the order it tries them.
/// An empty (or absent) layers_pattern means peft's generic pattern.
func layerIndexRegexes(layersPattern: [String]?) throws -> [BoundedRegex] {
    guard let patterns = layersPattern, !patterns.isEmpty else {
        return [try PythonRegex.compile(#".*?\.[^.]*\.(?P<idx>\d+)\."#, field: "layers_pattern", shown: "")]
    }
    return try patterns.map { pattern in
        try PythonRegex.compile(#"(?:^|.*?\.)"# + pattern + #"\.(?P<idx>\d+)\."#,
                                field: "layers_pattern", shown: pattern)
    }
}

/// peft's `get_pattern_key` regex for one rank_pattern / alpha_pattern key:
/// `re.match(rf"(.*\.)?({key})$", module_path)` — the key (itself a regex) must match a whole
/// trailing run of dot-separated path components, i.e. the full path or a suffix starting right
/// after a `.`.
func patternKeyRegex(_ key: String, field: String) throws -> BoundedRegex {
    try PythonRegex.compile(#"(.*\.)?("# + key + #")$"#, field: field, shown: key)
}

/// peft's `get_pattern_key` + `dict.get`: the value of the first key (in the dict's order) whose regex
/// matches `path`; if none does, peft looks `path` itself up as a literal key; otherwise nil (the
/// default `r` / `lora_alpha` applies).
func patternValue<Value>(
    for path: String,
    keys: [(key: String, regex: BoundedRegex)],
    values: [String: Value]
) -> Value? {
    for entry in keys where entry.regex.prefixMatch(path) != nil {
        return values[entry.key]
    }
    return values[path]
}

// MARK: - peft's target_modules condensation

/// peft only condenses `target_modules` sets at least this large (`MIN_TARGET_MODULES_FOR_OPTIMIZATION`).
let minTargetModulesForOptimization = 20

/// peft 0.21.2 `_find_minimal_target_modules`: a smaller set of suffixes that matches the same
/// targets and none of `otherModuleNames`. Returns nil where peft raises (an empty entry).
///
/// `inject_adapter` replaces `target_modules` with this set when it is smaller. That is not
/// always behaviour-preserving: an entry that named a module exactly bypassed the layer filter,
/// while its condensed suffix is subject to it — so it is reproduced here.
func minimalTargetModules(_ targets: Set<String>, otherModuleNames: Set<String>) -> Set<String>? {
    if targets.isEmpty || targets.contains("") { return nil }
    if !targets.isDisjoint(with: otherModuleNames) { return nil }

    // Suffixes of a dotted name, shortest first: "a.b.c" → ["c", "b.c", "a.b.c"].
    func suffixes(_ name: String) -> [String] {
        let parts = name.split(separator: ".", omittingEmptySubsequences: false)
        return (0..<parts.count).reversed().map { parts[$0...].joined(separator: ".") }
    }
    var otherSuffixes = Set<String>()
    for name in otherModuleNames { otherSuffixes.formUnion(suffixes(name)) }

    // Python sorts the (item, suffix list) pairs by the suffix lists, comparing strings by code point.
    func codePoints(_ s: String) -> [UInt32] { s.unicodeScalars.map(\.value) }
    func lessThan(_ a: [String], _ b: [String]) -> Bool {
        for (x, y) in zip(a, b) where x != y {
            return codePoints(x).lexicographicallyPrecedes(codePoints(y))
        }
        return a.count < b.count
    }
    let items = targets.map { (item: $0, suffixes: suffixes($0)) }.sorted { lessThan($0.suffixes, $1.suffixes) }

    var required = Set<String>()
    for (item, itemSuffixes) in items {
        for suffix in itemSuffixes {
            if required.contains(suffix) || otherSuffixes.contains(suffix) { continue }
            if !required.contains(where: { item.hasSuffix("." + $0) }) {
                required.insert(suffix)
                break
            }
        }
    }
    return required.isEmpty ? targets : required
}

// MARK: - Per-architecture defaults

/// peft 0.21.2 `TRANSFORMERS_MODELS_TO_LORA_TARGET_MODULES_MAPPING`: what `target_modules = null`
/// means for each `model_type` (`LoraModel._prepare_adapter_config`).
let defaultLoRATargetModules: [String: TargetModules] = [
    "t5": .names(["q", "v"]),
    "mt5": .names(["q", "v"]),
    "bart": .names(["q_proj", "v_proj"]),
    "gpt2": .names(["c_attn"]),
    "bloom": .names(["query_key_value"]),
    "blip-2": .names(["q", "v", "q_proj", "v_proj"]),
    "opt": .names(["q_proj", "v_proj"]),
    "gptj": .names(["q_proj", "v_proj"]),
    "gpt_neox": .names(["query_key_value"]),
    "gpt_neo": .names(["q_proj", "v_proj"]),
    "bert": .names(["query", "value"]),
    "roberta": .names(["query", "value"]),
    "xlm-roberta": .names(["query", "value"]),
    "electra": .names(["query", "value"]),
    "deberta-v2": .names(["query_proj", "value_proj"]),
    "deberta": .names(["in_proj"]),
    "layoutlm": .names(["query", "value"]),
    "llama": .names(["q_proj", "v_proj"]),
    "llama4": .names(["q_proj", "v_proj"]),
    "chatglm": .names(["query_key_value"]),
    "gpt_bigcode": .names(["c_attn"]),
    "mpt": .names(["Wqkv"]),
    "RefinedWebModel": .names(["query_key_value"]),
    "RefinedWeb": .names(["query_key_value"]),
    "falcon": .names(["query_key_value"]),
    "btlm": .names(["c_proj", "c_attn"]),
    "codegen": .names(["qkv_proj"]),
    "mistral": .names(["q_proj", "v_proj"]),
    "mixtral": .names(["q_proj", "v_proj"]),
    "stablelm": .names(["q_proj", "v_proj"]),
    "phi": .names(["q_proj", "v_proj", "fc1", "fc2"]),
    "gemma": .names(["q_proj", "v_proj"]),
    "gemma2": .names(["q_proj", "v_proj"]),
    "gemma3_text": .names(["q_proj", "v_proj"]),
    "gemma4": .regex(#".*language_model\..*\.(q_proj|v_proj)"#),
    "qwen2": .names(["q_proj", "v_proj"]),
    "qwen3": .names(["q_proj", "v_proj"]),
    "nemotron_h": .names(["q_proj", "k_proj", "v_proj", "o_proj"]),
    "rwkv": .names(["key", "value", "receptance", "output"]),
    "rwkv7": .names(["r_proj", "k_proj", "v_proj", "o_proj", "key", "value"]),
]
