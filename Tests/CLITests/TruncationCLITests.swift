// `eckart sweep` and `eckart truncate` on fixture directories, offline.
import FixtureSupport
import Foundation
import LinearAlgebra
import Testing

@Test func truncateCommandWritesTheAdapterPeftLoads() throws {
    // The committed fixture qwen2-lora-r2 is what peft made of this same command's output; the
    // directory written now must be byte-identical to it.
    let out = FileManager.default.temporaryDirectory.appendingPathComponent("eckart-truncate-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: out) }
    let run = try eckart(["truncate", Fixtures.adapter("qwen2-lora").path, "--model", Fixtures.model("qwen2-tiny").path,
                          "--out", out.path, "--rank", "2"])
    #expect(run.status == 0, "\(run.stderr)")
    let summary = try #require(try JSONSerialization.jsonObject(with: run.stdout) as? [String: Any])
    #expect(summary["from_rank"] as? Int == 8 && (summary["ranks"] as? [String: Int])?.values.allSatisfy { $0 == 2 } == true)
    let fixture = Fixtures.directory.appendingPathComponent("truncation/adapters/qwen2-lora-r2")
    for file in ["adapter_config.json", "adapter_model.safetensors"] {
        #expect(try Data(contentsOf: out.appendingPathComponent(file)) == Data(contentsOf: fixture.appendingPathComponent(file)), "\(file)")
    }
    // An existing --out is refused, not overwritten.
    let again = try eckart(["truncate", Fixtures.adapter("qwen2-lora").path, "--model", Fixtures.model("qwen2-tiny").path,
                            "--out", out.path, "--rank", "2"])
    #expect(again.status != 0 && again.stderr.contains("exists"), "\(again.stderr)")
}

@Test(arguments: [["--rank", "0"], ["--rank", "2", "--energy", "0.9"], ["--energy", "1.5"], []])
func truncateCommandRefusesBadGoals(_ goal: [String]) throws {
    let run = try eckart(["truncate", Fixtures.adapter("qwen2-lora").path, "--model", Fixtures.model("qwen2-tiny").path,
                          "--out", "/tmp/never-\(UUID().uuidString)"] + goal)
    #expect(run.status != 0 && !run.stderr.isEmpty)
}

@Test func sweepCommandPrintsTheEndpointsJSON() throws {
    let run = try eckart(["sweep", Fixtures.adapter("llama-rslora-patterns").path, "--model", Fixtures.model("llama-tiny").path,
                          "--ranks", "1,2,8", "--probe-tokens", "1,2,3,4;9,8,7"])
    #expect(run.status == 0, "\(run.stderr)")
    let object = try #require(try JSONSerialization.jsonObject(with: run.stdout) as? [String: Any])
    let rows = try #require(object["sweep"] as? [[String: Any]])
    #expect(rows.map { $0["rank"] as? Int } == [1, 2, 8])
    let errors = rows.map { ($0["relative_error"] as! NSNumber).doubleValue }
    #expect(errors[0] > errors[1] && errors[2] == 0)
    let kl = rows.map { (($0["probe"] as! [String: Any])["mean_kl"] as! NSNumber).doubleValue }
    #expect(kl[2] < 1e-9 && kl[0] > kl[2])
    let budget = try eckart(["sweep", Fixtures.adapter("llama-rslora-patterns").path, "--model", Fixtures.model("llama-tiny").path,
                             "--budget-params", "1500"])
    let allocation = try #require((try JSONSerialization.jsonObject(with: budget.stdout) as? [String: Any])?["allocation"] as? [String: Any])
    #expect((allocation["parameters"] as! Int) <= 1500)
}
