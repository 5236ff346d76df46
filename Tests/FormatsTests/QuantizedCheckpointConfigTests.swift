// A config.json with `quantization_config` (bitsandbytes, AWQ, GPTQ, …) is refused when it is read,
// naming the method, rather than failing later on a tensor the packed checkpoint does not have.
import Formats
import Foundation
import Testing

@Suite struct QuantizedCheckpointConfigTests {
    func directory(config: String) throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("eckart-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try Data(config.utf8).write(to: dir.appendingPathComponent("config.json"))
        return dir
    }

    @Test(arguments: ["bitsandbytes", "awq", "gptq"])
    func quantizedCheckpointRefusedByMethod(method: String) throws {
        let dir = try directory(config: """
            {"model_type": "llama", "hidden_size": 64,
             "quantization_config": {"quant_method": "\(method)", "bits": 4, "load_in_4bit": true}}
            """)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("config.json").path
        #expect(throws: ModelConfigError.quantizedCheckpoint(path, method: method)) {
            try ModelConfigFile.load(fromDirectory: dir)
        }
        #expect(ModelConfigError.quantizedCheckpoint(path, method: method).description.contains(method))
    }

    @Test func plainConfigStillLoads() throws {
        let dir = try directory(config: #"{"model_type": "llama", "hidden_size": 64}"#)
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(try ModelConfigFile.load(fromDirectory: dir).hiddenSize == 64)
    }
}
