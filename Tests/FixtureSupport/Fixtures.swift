// Locates the reference fixtures written by Tests/Fixtures/generate.py and decodes them.
import Foundation
import LinearAlgebra

/// Paths and expected outputs of the committed transformers + peft fixtures.
public enum Fixtures {
    /// `Tests/Fixtures`, found relative to this source file so tests run from any directory.
    public static let directory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fixtures")

    public static func model(_ name: String) -> URL {
        directory.appendingPathComponent("models").appendingPathComponent(name)
    }

    public static func adapter(_ name: String) -> URL {
        directory.appendingPathComponent("adapters").appendingPathComponent(name)
    }

    /// The real all-MiniLM-L6-v2 directory, fetched by `make model`; nil when not present.
    public static var miniLM: URL? {
        let path = ProcessInfo.processInfo.environment["ECKART_MINILM_DIR"]
            ?? directory.deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("models/all-MiniLM-L6-v2").path
        return FileManager.default.fileExists(atPath: path + "/model.safetensors") ? URL(fileURLWithPath: path) : nil
    }

    public static func expected(_ name: String) throws -> ExpectedOutput {
        let url = directory.appendingPathComponent("expected").appendingPathComponent(name + ".json")
        return try JSONDecoder().decode(ExpectedOutput.self, from: Data(contentsOf: url))
    }

    /// Copies a fixture directory to a fresh temporary one that a test may edit.
    public static func scratchCopy(of source: URL) throws -> URL {
        let target = FileManager.default.temporaryDirectory.appendingPathComponent("eckart-\(UUID().uuidString)")
        try FileManager.default.copyItem(at: source, to: target)
        return target
    }

    /// Rewrites the JSON object in `file` through `edit`.
    public static func editJSON(_ file: URL, _ edit: (inout [String: Any]) -> Void) throws {
        var object = try JSONSerialization.jsonObject(with: Data(contentsOf: file)) as! [String: Any]
        edit(&object)
        try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]).write(to: file)
    }
}

/// One `expected/<case>.json`: inputs and what transformers + peft computed for them.
public struct ExpectedOutput: Decodable, Sendable {
    public let model: String
    public let adapter: String?
    public let tokens: [Int]
    /// The source text of `tokens`, where the fixture recorded one (MiniLM cases).
    public let text: String?
    public let attentionMask: [Int]?
    public let logits: [[Float]]?
    public let mergedLogits: [[Float]]?
    public let lastHiddenState: [[Float]]?
    public let embedding: [Float]?

    enum CodingKeys: String, CodingKey {
        case model, adapter, tokens, text, logits, embedding
        case attentionMask = "attention_mask"
        case mergedLogits = "merged_logits"
        case lastHiddenState = "last_hidden_state"
    }
}

extension Matrix {
    /// A matrix from nested rows, e.g. decoded JSON.
    public init(nestedRows: [[Float]]) {
        self.init(rows: nestedRows.count, cols: nestedRows.first?.count ?? 0, storage: nestedRows.flatMap { $0 })
    }
}

/// Largest absolute difference of two equal-length vectors.
public func maxAbsDifference(_ a: [Float], _ b: [Float]) -> Float {
    precondition(a.count == b.count, "lengths \(a.count) and \(b.count) differ")
    return zip(a, b).reduce(0) { max($0, abs($1.0 - $1.1)) }
}
