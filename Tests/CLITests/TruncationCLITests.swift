// `eckart sweep` and `eckart truncate` on fixture directories, offline.
import Adapters
import FixtureSupport
import Formats
import Foundation
import LinearAlgebra
import Models
import Testing

@Test func truncateCommandWritesTheAdapterPeftLoads() throws {
    // The committed fixture qwen2-lora-r2 is what peft loaded and checked of this same command's
    // output on one machine. QR and SVD run on the machine's LAPACK kernels, and singular vectors
    // are defined only up to sign, so a new run must write the same config and the same tensor
    // layout byte for byte, and the same update s·B·A per module within `Tolerance.factorization`,
    // never the same factors.
    let out = FileManager.default.temporaryDirectory.appendingPathComponent("eckart-truncate-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: out) }
    let run = try eckart(["truncate", Fixtures.adapter("qwen2-lora").path, "--model", Fixtures.model("qwen2-tiny").path,
                          "--out", out.path, "--rank", "2"])
    #expect(run.status == 0, "\(run.stderr)")
    let summary = try #require(try JSONSerialization.jsonObject(with: run.stdout) as? [String: Any])
    #expect(summary["from_rank"] as? Int == 8 && (summary["ranks"] as? [String: Int])?.values.allSatisfy { $0 == 2 } == true)
    let fixture = Fixtures.directory.appendingPathComponent("truncation/adapters/qwen2-lora-r2")
    #expect(try Data(contentsOf: out.appendingPathComponent("adapter_config.json"))
        == Data(contentsOf: fixture.appendingPathComponent("adapter_config.json")))
    let written = try SafetensorsFile(contentsOf: out.appendingPathComponent("adapter_model.safetensors"))
    let committed = try SafetensorsFile(contentsOf: fixture.appendingPathComponent("adapter_model.safetensors"))
    #expect(written.tensors.map { [$0.name, "\($0.dtype)", "\($0.shape)"] } == committed.tensors.map { [$0.name, "\($0.dtype)", "\($0.shape)"] })
    #expect(written.metadata == committed.metadata)

    let base = try BaseModel.load(directory: Fixtures.model("qwen2-tiny"))
    let ours = try LoRAAdapter(directory: out, model: base), reference = try LoRAAdapter(directory: fixture, model: base)
    #expect(ours.moduleNames == reference.moduleNames)
    for module in reference.moduleNames {
        let error = relativeUpdateError(try #require(ours.updates[module]), reference.updates[module]!)
        #expect(error < Tolerance.factorization, "\(module): ‖ΔW − ΔW_ref‖_F / ‖ΔW_ref‖_F = \(error)")
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

/// ‖s·B·A − s_ref·B_ref·A_ref‖_F / ‖s_ref·B_ref·A_ref‖_F.
private func relativeUpdateError(_ update: LoRAUpdate, _ reference: LoRAUpdate) -> Float {
    let delta = update.b.times(update.a), expected = reference.b.times(reference.a)
    guard delta.shape == expected.shape else { return .infinity }
    var difference: Double = 0, norm: Double = 0
    for (x, y) in zip(delta.storage, expected.storage) {
        let d = Double(update.scale * x) - Double(reference.scale * y)
        difference += d * d
        norm += Double(reference.scale * y) * Double(reference.scale * y)
    }
    return Float((difference / norm).squareRoot())
}
