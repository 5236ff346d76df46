// The GGUF reader on small files written here (valid, then broken one field at a time: each gets
// its named error), and on the real SmolLM2 file when ECKART_SMOLLM2_GGUF names it.
import FixtureSupport
import Foundation
import Testing
@testable import Formats

private func floatBytes(_ values: [Float]) -> [UInt8] { values.flatMap { v in withUnsafeBytes(of: v.bitPattern.littleEndian) { Array($0) } } }

private func valid() -> TinyGGUF {
    var g = TinyGGUF()
    g.metadata += [("llama.block_count", .u32(2)), ("llama.rope.freq_base", .f32(10000)), ("tokenizer.ggml.tokens", .strings(["a", "b", "<s>"])),
                   ("general.flag", .bool(true)), ("llama.int", .i32(-3))]
    g.tensors = [
        .init(name: "norm.weight", dims: [4], type: 0, data: floatBytes([1, 2, 3, 4])),
        .init(name: "blk.0.attn_q.weight", dims: [32, 2], type: 8, data: Array(repeating: 0, count: 2 * 34)),
        .init(name: "half", dims: [2], type: 1, data: [0x00, 0x3c, 0x00, 0xc0]),   // 1.0, -2.0 in fp16
    ]
    return g
}

@Test func aValidFileReadsBack() throws {
    let file = try GGUFFile(bytes: valid().bytes())
    #expect(file.version == 3 && file.alignment == 32)
    #expect(try file.string("general.architecture") == "llama")
    #expect(try file.int("llama.block_count") == 2)
    #expect(try file.int("llama.int") == -3)
    #expect(try file.double("llama.rope.freq_base") == 10000)
    #expect(try file.stringArray("tokenizer.ggml.tokens") == ["a", "b", "<s>"])
    #expect(file["general.flag"]?.bool == true)
    #expect(file.tensorNames == ["norm.weight", "blk.0.attn_q.weight", "half"])
    let q = try #require(file.info("blk.0.attn_q.weight"))
    #expect(q.shape == [2, 32] && q.type.name == "Q8_0" && q.byteCount == 68)
    #expect(file.floats("norm.weight") == [1, 2, 3, 4])
    #expect(file.floats("half") == [1, -2])
    #expect(file.floats("blk.0.attn_q.weight") == nil)
    #expect(throws: GGUFError.missingKey(file: "<memory>", key: "nope")) { try file.string("nope") }
    #expect(throws: GGUFError.wrongValueType(file: "<memory>", key: "llama.block_count", expected: "a string", found: "uint32")) {
        try file.string("llama.block_count")
    }
}

@Test func version2ReadsAndOthersAreRefused() throws {
    var g = valid()
    g.version = 2
    #expect(try GGUFFile(bytes: g.bytes()).version == 2)
    for version: UInt32 in [1, 4] {
        g.version = version
        #expect(throws: GGUFError.unsupportedVersion(file: "<memory>", version: version)) { try GGUFFile(bytes: g.bytes()) }
    }
}

/// Each corruption and the error it must give.
@Test func brokenFilesGetNamedErrors() throws {
    let good = valid()
    func expectError(_ g: TinyGGUF, _ matches: (GGUFError) -> Bool, _ label: String) {
        do {
            _ = try GGUFFile(bytes: g.bytes())
            Issue.record("\(label): accepted")
        } catch let error as GGUFError {
            #expect(matches(error), "\(label): \(error)")
        } catch {
            Issue.record("\(label): \(error)")
        }
    }
    #expect(throws: GGUFError.notGGUF(file: "<memory>")) { try GGUFFile(bytes: Array("GGML....".utf8)) }
    #expect(throws: GGUFError.notGGUF(file: "<memory>")) { try GGUFFile(bytes: []) }
    // Truncated anywhere in the header or data.
    let bytes = good.bytes()
    for cut in [6, 12, 30, 60, 120, bytes.count - 40, bytes.count - 1] {
        do {
            _ = try GGUFFile(bytes: Array(bytes.prefix(cut)))
            Issue.record("cut at \(cut): accepted")
        } catch let error as GGUFError {
            switch error {
            case .truncated, .implausibleCount, .tensorBeyondEndOfFile: break
            default: Issue.record("cut at \(cut): \(error)")
            }
        }
    }
    var g = good
    g.tensorCountOverride = 1 << 40
    expectError(g, { if case .implausibleCount = $0 { true } else { false } }, "huge tensor count")
    g = good; g.metadataCountOverride = UInt64.max
    expectError(g, { if case .implausibleCount = $0 { true } else { false } }, "huge metadata count")
    g = good; g.metadata.append(("big.string", .raw(type: 8, bytes: withUnsafeBytes(of: UInt64(1 << 50).littleEndian) { Array($0) })))
    expectError(g, { if case .implausibleCount = $0 { true } else { false } }, "huge string length")
    g = good; g.metadata.append(("big.array", .raw(type: 9, bytes: [4, 0, 0, 0] + withUnsafeBytes(of: UInt64(1 << 60).littleEndian) { Array($0) })))
    expectError(g, { if case .implausibleCount = $0 { true } else { false } }, "huge array count")
    g = good; g.metadata.append(("odd", .raw(type: 13, bytes: [])))
    expectError(g, { $0 == .unknownValueType(file: "<memory>", key: "odd", type: 13) }, "unknown value type")
    g = good; g.metadata.append(("llama.block_count", .u32(3)))
    expectError(g, { $0 == .duplicateKey(file: "<memory>", key: "llama.block_count") }, "duplicate key")
    g = good; g.metadata.append(("bad.utf8", .raw(type: 8, bytes: [2, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xfe])))
    expectError(g, { if case .stringNotUTF8 = $0 { true } else { false } }, "invalid UTF-8")
    g = good; g.metadata.append(("nested", .raw(type: 9, bytes: Array(repeating: [9, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0], count: 6).flatMap { $0 })))
    expectError(g, { $0 == .arrayTooDeep(file: "<memory>", key: "nested") }, "nesting")
    g = good; g.metadata.append(("general.alignment", .u32(24)))
    expectError(g, { if case .invalidAlignment = $0 { true } else { false } }, "alignment 24")
    g = good; g.tensors.append(g.tensors[0])
    expectError(g, { $0 == .duplicateTensor(file: "<memory>", tensor: "norm.weight") }, "duplicate tensor")
    g = good; g.tensors[0].type = 4
    expectError(g, { $0 == .unknownTensorType(file: "<memory>", tensor: "norm.weight", type: 4) }, "unknown tensor type")
    g = good; g.tensors[0].dims = [4, 0]
    expectError(g, { if case .invalidDimensions = $0 { true } else { false } }, "zero dimension")
    g = good; g.tensors[0].dims = [1, 1, 1, 1, 4]
    expectError(g, { if case .invalidDimensions = $0 { true } else { false } }, "five dimensions")
    g = good; g.tensors[0].dims = [1 << 32, 1 << 32, 1 << 32]
    expectError(g, { if case .sizeOverflow = $0 { true } else { false } }, "element overflow")
    g = good; g.tensors[1].dims = [48, 2]
    expectError(g, { if case .partialBlock = $0 { true } else { false } }, "partial block")
    g = good; g.tensors[2].offset = 100
    expectError(g, { if case .misalignedTensor = $0 { true } else { false } }, "misaligned")
    g = good; g.tensors[2].offset = 1 << 20
    expectError(g, { if case .tensorBeyondEndOfFile = $0 { true } else { false } }, "lying offset")
    g = good; g.tensors[2].offset = UInt64.max - 31
    expectError(g, { if case .tensorBeyondEndOfFile = $0 { true } else { false } }, "offset overflow")
    g = good; g.tensors[2].offset = 32   // inside the Q8_0 tensor at 32..<100
    expectError(g, { if case .overlappingTensors = $0 { true } else { false } }, "overlap")
}

/// The real SmolLM2-135M-Instruct Q4_1 file from PyPI (scripts/fetch-smollm2.sh).
@Test(.enabled(if: ProcessInfo.processInfo.environment["ECKART_SMOLLM2_GGUF"] != nil, "needs ECKART_SMOLLM2_GGUF"))
func theRealSmolLM2FileReads() throws {
    let file = try GGUFFile(contentsOf: URL(fileURLWithPath: ProcessInfo.processInfo.environment["ECKART_SMOLLM2_GGUF"]!))
    #expect(try file.string("general.architecture") == "llama")
    #expect(try file.int("llama.block_count") == 30)
    #expect(try file.int("llama.embedding_length") == 576)
    #expect(try file.stringArray("tokenizer.ggml.tokens").count == 49152)
    #expect(file.tensorNames.count == 272)
    #expect(file.info("blk.0.attn_q.weight")?.type.name == "Q4_1" && file.info("blk.0.attn_q.weight")?.shape == [576, 576])
    #expect(file.info("token_embd.weight")?.type.name == "Q8_0" && file.info("token_embd.weight")?.shape == [49152, 576])
    #expect(file.floats("output_norm.weight")?.count == 576)
}
