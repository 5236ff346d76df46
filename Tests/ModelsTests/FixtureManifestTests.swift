// The committed fixtures are exactly what their scripts wrote: generate.py's MANIFEST.sha256 and
// tokenizers/, truncation/, generation/, chat/ and gguf/ scripts pin every file.
import FixtureSupport
import Foundation
import Testing

@Test(arguments: ["", "tokenizers", "truncation", "generation", "chat", "gguf"])
func fixturesMatchTheirManifest(folder: String) throws {
    let directory = folder.isEmpty ? Fixtures.directory : Fixtures.directory.appendingPathComponent(folder)
    let manifest = try String(contentsOf: directory.appendingPathComponent("MANIFEST.sha256"), encoding: .utf8)
    let listed = manifest.split(separator: "\n").map { $0.split(separator: " ", maxSplits: 1).last!.trimmingCharacters(in: .whitespaces) }
    #expect(listed.count > (folder.isEmpty ? 50 : folder == "generation" ? 10 : folder == "gguf" ? 1 : 8))
    // Verify with coreutils' sha256sum, which reads the manifest format natively.
    let check = try runProcess(URL(fileURLWithPath: "/usr/bin/env"), ["sha256sum", "--check", "--quiet", "MANIFEST.sha256"],
                               in: directory)
    #expect(check.status == 0, "fixtures differ from MANIFEST.sha256: \(check.combinedText)")
}
