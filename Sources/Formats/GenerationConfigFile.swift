// A model directory's `generation_config.json` as written on the wire: the fields Eckart uses
// (end-of-sequence ids). transformers' generate() reads its defaults from this file.
import Foundation

/// `generation_config.json` exactly as stored; every field is optional.
public struct GenerationConfigFile: Decodable, Sendable {
    public var eosTokenId: TokenIDs?
    public var bosTokenId: Int?

    enum CodingKeys: String, CodingKey {
        case eosTokenId = "eos_token_id"
        case bosTokenId = "bos_token_id"
    }

    /// Reads `directory/generation_config.json`; nil when the file does not exist.
    public static func load(directory: URL) throws -> GenerationConfigFile? {
        let url = directory.appendingPathComponent("generation_config.json")
        guard FileManager.default.fileExists(atPath: url.path) else { return nil }
        do {
            return try JSONDecoder().decode(GenerationConfigFile.self, from: Data(contentsOf: url))
        } catch {
            throw ModelConfigError.malformed(url.path, "\(error)")
        }
    }
}
