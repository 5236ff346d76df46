// Decodes the sections of a Hugging Face `tokenizer.json` into the pipeline's components, refusing
// every component type and option that is not implemented (a clear load-time error instead of
// ids that silently differ from the reference).
//
// Supported: normalizer BertNormalizer, Prepend, Replace (literal), NFC/NFD/NFKC/NFKD, Sequence
// (or none); pre_tokenizer BertPreTokenizer, ByteLevel, Metaspace, Split (the Llama 3 and Qwen2
// patterns only), Sequence (or none); model WordPiece, BPE
// (with byte fallback); post_processor TemplateProcessing, BertProcessing, RobertaProcessing,
// ByteLevel, Sequence of these (or none); decoder WordPiece, ByteLevel, Replace (literal),
// ByteFallback, Fuse, Strip, Metaspace, Sequence (or none).
import Foundation
import Formats

/// Everything a `Tokenizer` needs, resolved from one tokenizer.json.
struct TokenizerFile: Sendable {
    let normalizer: (any Normalizer)?
    let preTokenizer: (any PreTokenizer)?
    let model: any TokenModel
    let postProcessor: PostProcessor
    let decoder: Decoder
    let addedTokens: AddedTokens
    /// `truncation.max_length`, reported but never applied.
    let maxLength: Int?

    static let knownKeys: Set<String> = [
        "version", "truncation", "padding", "added_tokens", "normalizer", "pre_tokenizer", "model",
        "post_processor", "decoder",
    ]

    init(contentsOf url: URL) throws {
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw TokenizerError.unreadable(file: url.path, reason: "\(error)")
        }
        try self.init(data: data, name: url.lastPathComponent, path: url.path)
    }

    /// `name` is the file name errors report, `path` where it was read from.
    init(data: Data, name: String, path: String) throws {
        let value: JSONValue
        do {
            value = try JSONValue.parse(data)
        } catch {
            throw TokenizerError.unreadable(file: path, reason: "\(error)")
        }
        try self.init(JSONReader(file: name, path: "", value: value))
    }

    init(_ root: JSONReader) throws {
        for (key, member) in try root.members() where !Self.knownKeys.contains(key) {
            throw member.unsupported(option: "top-level key", value: key)
        }
        normalizer = try root.optional("normalizer").map(Self.normalizer)
        preTokenizer = try root.optional("pre_tokenizer").map(Self.preTokenizer)
        model = try Self.model(root.required("model"))
        postProcessor = try root.optional("post_processor").map(PostProcessor.init) ?? PostProcessor()
        decoder = try Decoder(root.optional("decoder"))
        let added = try root.optional("added_tokens")?.array().map(AddedToken.init) ?? []
        addedTokens = AddedTokens(added, normalizer: normalizer)
        maxLength = try root.optional("truncation")?.optional("max_length")?.int()
        // Padding is ignored: batching pads explicitly elsewhere, and ids here are unpadded.
    }

    private static func normalizer(_ json: JSONReader) throws -> any Normalizer {
        switch try json.type() {
        case "BertNormalizer": return try BertNormalizer(json)
        case "Prepend": return Prepend(prefix: Scalars(try json.required("prepend").string()))
        case "Replace": return try Replace(json)
        case "NFC", "NFD", "NFKC", "NFKD": return UnicodeForm(form: try json.type())
        case "Sequence":
            return NormalizerSequence(steps: try json.required("normalizers").array().map(normalizer))
        case let other: throw json.unsupported(other)
        }
    }

    private static func preTokenizer(_ json: JSONReader) throws -> any PreTokenizer {
        switch try json.type() {
        case "BertPreTokenizer": return BertPreTokenizer()
        case "ByteLevel": return try ByteLevel(json)
        case "Metaspace": return try Metaspace(json)
        case "Split": return try SplitPattern(json)
        case "Sequence":
            return PreTokenizerSequence(steps: try json.required("pretokenizers").array().map(preTokenizer))
        case let other: throw json.unsupported(other)
        }
    }

    private static func model(_ json: JSONReader) throws -> any TokenModel {
        switch try json.type() {
        case "WordPiece": return try WordPiece(json)
        case "BPE": return try BPE(json)
        case let other: throw json.unsupported(other)
        }
    }
}
