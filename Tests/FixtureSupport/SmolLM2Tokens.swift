// tokens.json of Tests/Fixtures/smollm2/generate_tokens.py: the ids and chat prompts transformers
// builds from the SmolLM2 GGUF's metadata.
import Foundation

public struct SmolLM2Tokens: Decodable, Sendable {
    public struct Case: Decodable, Sendable {
        public let text: String
        public let ids: [Int]
    }

    public struct Message: Decodable, Sendable {
        public let role: String
        public let content: String
    }

    public struct Chat: Decodable, Sendable {
        public let messages: [Message]
        public let rendered: String
        public let ids: [Int]
    }

    public let bosTokenId: Int
    public let eosTokenId: Int
    public let vocabularySize: Int
    public let cases: [Case]
    public let chats: [Chat]

    public static func load() throws -> SmolLM2Tokens {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try decoder.decode(SmolLM2Tokens.self, from: Data(contentsOf: Fixtures.directory.appendingPathComponent("smollm2/tokens.json")))
    }
}
