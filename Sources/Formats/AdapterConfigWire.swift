// adapter_config.json exactly as peft writes it: every field optional, unions of JSON types.
import Foundation
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
