// What ends a generation, resolved once from generation_config.json (what transformers' generate()
// reads) with config.json as the fallback.
import Formats
import Foundation

/// A decoder's generation defaults.
public struct GenerationConfig: Sendable, Equatable {
    /// Generating any of these ids ends the sequence (the id itself is kept in the token output).
    public var eosTokenIds: Set<Int>

    public init(eosTokenIds: Set<Int>) {
        self.eosTokenIds = eosTokenIds
    }

    /// `generation_config.json`'s `eos_token_id` (an int or a list) when the file names one,
    /// else `config.json`'s.
    public init(file: GenerationConfigFile?, model: DecoderConfig) {
        eosTokenIds = Set(file?.eosTokenId?.ids ?? model.eosTokenIds)
    }

    /// Reads `directory/generation_config.json` (if present) for `model`.
    public static func load(directory: URL, model: DecoderConfig) throws -> GenerationConfig {
        GenerationConfig(file: try GenerationConfigFile.load(directory: directory), model: model)
    }
}
