// The server a load benchmark drives: Eckart on a free loopback port with random PEFT adapters under
// a scratch root, registered through the API as a user would register them.
import Foundation
import Models
import Server

final class BenchServer {
    let client: LoadClient
    private let server: EckartServer
    private let scratch: URL

    /// Serves `base` as `modelName` with `adapters` random rank-8 adapters `a0`, `a1`, … on the modules
    /// ending in `projections`, each registered with POST /adapters.
    init(base: BaseModel, modelName: String, adapters: Int, projections: [String]) throws {
        scratch = FileManager.default.temporaryDirectory.appendingPathComponent("eckart-bench-\(UUID().uuidString)")
        for i in 0..<adapters {
            let directory = scratch.appendingPathComponent("adapters/a\(i)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            let files = try RandomLlama.adapterFiles(rank: 8, projections: projections, seed: UInt64(1000 + i), on: base)
            try files.config.write(to: directory.appendingPathComponent("adapter_config.json"))
            try files.weights.write(to: directory.appendingPathComponent("adapter_model.safetensors"))
        }
        var options = ServerOptions()
        options.port = 0
        options.adapterDirectory = scratch.appendingPathComponent("store")
        options.adapterRoot = scratch.appendingPathComponent("adapters")
        options.diagnosticsCacheDirectory = scratch.appendingPathComponent("diagnostics")
        options.modelName = modelName
        server = try EckartServer(model: base, options: options)
        try server.start()
        client = LoadClient(port: server.port)
        for i in 0..<adapters {
            let reply = try client.post("/adapters", #"{"id": "a\#(i)", "path": "a\#(i)"}"#)
            guard reply.status == 201 else {
                stop()
                throw LoadClient.Failure(description: "loading adapter a\(i): \(reply.body)")
            }
        }
    }

    /// Stops the server and removes the scratch root.
    func stop() {
        server.shutdown(timeout: 10)
        try? FileManager.default.removeItem(at: scratch)
    }
}
