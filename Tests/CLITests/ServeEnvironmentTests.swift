// `eckart serve` takes every setting from ECKART_<FLAG> environment variables too (what the container
// image and the Kubernetes manifests use), and the command line wins over the environment.
import FixtureSupport
import Foundation
import Testing

@Suite(.serialized) struct ServeEnvironmentTests {
    @Test func environmentVariablesFillInTheFlagsTheCommandLineLeavesOut() throws {
        // No --model on the command line at all: ECKART_MODEL gives it. ECKART_PORT loses to the
        // --port 0 ServeProcess passes (port 1 would not be the free port it reads from the log).
        let serve = try ServeProcess([], environment: [
            "ECKART_MODEL": Fixtures.model("qwen2-tiny").path,
            "ECKART_SERVED_MODEL_NAME": "envtiny",
            "ECKART_LORA_MODULES": "sql=\(Fixtures.adapter("qwen2-lora").path) dora=\(Fixtures.adapter("qwen2-dora").path)",
            "ECKART_ADAPTER_DIR": "env-store",
            "ECKART_PORT": "1",
            "ECKART_API_KEY": "from-env",
        ])
        defer { serve.stop() }
        #expect(serve.port != 1)
        // The key came from the environment: without it, 401.
        #expect(try serve.get("/v1/models").status == 401)
        #expect(serve.log.contains("as envtiny"), "\(serve.log)")
        #expect(serve.log.contains("adapter sql loaded from") && serve.log.contains("adapter dora loaded from"), "\(serve.log)")
        #expect(FileManager.default.fileExists(atPath: serve.directory.appendingPathComponent("env-store/dora/adapter_config.json").path))
    }

    @Test func aMalformedEnvironmentValueFailsLikeTheFlag() throws {
        let process = Process()
        process.executableURL = eckartBinary
        process.arguments = ["serve", "--model", Fixtures.model("qwen2-tiny").path]
        process.environment = ProcessInfo.processInfo.environment.merging(["ECKART_MAX_NUM_SEQS": "0"]) { $1 }
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let text = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus != 0)
        #expect(text.contains("--max-num-seqs must be at least 1"), "\(text)")
    }
}
