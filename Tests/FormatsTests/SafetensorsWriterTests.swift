// The safetensors writer: byte-for-byte equal to the reference's serializer on its own test vectors,
// tensors ordered as the reference orders them, and a round trip through the reader.
// Reference: huggingface/safetensors `safetensors/src/tensor.rs` (commit 24b0b28): `prepare`,
// `serialize`, and the tests test_serialization, test_serialization_forced_alignement, test_empty and
// test_serialization_fp4.
import Formats
import Foundation
import Testing

@Suite struct SafetensorsWriterTests {
    @Test func matchesReferenceSerializationBytes() throws {
        // test_serialization: "attn.0", F32 [1,2,3], values 0...5.
        let out = try SafetensorsWriter.serialize(tensors: [("attn.0", [1, 2, 3], [0, 1, 2, 3, 4, 5])])
        #expect(out == [
            64, 0, 0, 0, 0, 0, 0, 0, 123, 34, 97, 116, 116, 110, 46, 48, 34, 58, 123, 34, 100,
            116, 121, 112, 101, 34, 58, 34, 70, 51, 50, 34, 44, 34, 115, 104, 97, 112, 101, 34,
            58, 91, 49, 44, 50, 44, 51, 93, 44, 34, 100, 97, 116, 97, 95, 111, 102, 102, 115,
            101, 116, 115, 34, 58, 91, 48, 44, 50, 52, 93, 125, 125, 0, 0, 0, 0, 0, 0, 128, 63,
            0, 0, 0, 64, 0, 0, 64, 64, 0, 0, 128, 64, 0, 0, 160, 64,
        ])
    }

    @Test func matchesReferenceForcedAlignmentBytes() throws {
        // test_serialization_forced_alignement: a shorter name forces seven padding spaces.
        let out = try SafetensorsWriter.serialize(tensors: [("attn0", [1, 1, 2, 3], [0, 1, 2, 3, 4, 5])])
        #expect(out == [
            72, 0, 0, 0, 0, 0, 0, 0, 123, 34, 97, 116, 116, 110, 48, 34, 58, 123, 34, 100, 116,
            121, 112, 101, 34, 58, 34, 70, 51, 50, 34, 44, 34, 115, 104, 97, 112, 101, 34, 58,
            91, 49, 44, 49, 44, 50, 44, 51, 93, 44, 34, 100, 97, 116, 97, 95, 111, 102, 102,
            115, 101, 116, 115, 34, 58, 91, 48, 44, 50, 52, 93, 125, 125, 32, 32, 32, 32, 32,
            32, 32, 0, 0, 0, 0, 0, 0, 128, 63, 0, 0, 0, 64, 0, 0, 64, 64, 0, 0, 128, 64, 0, 0,
            160, 64,
        ])
    }

    @Test func matchesReferenceEmptyFileBytes() throws {
        // test_empty: no tensors, without and with metadata.
        #expect(try SafetensorsWriter.serialize([]) == [8, 0, 0, 0, 0, 0, 0, 0, 123, 125, 32, 32, 32, 32, 32, 32])
        #expect(try SafetensorsWriter.serialize([], metadata: ["framework": "pt"]) == [
            40, 0, 0, 0, 0, 0, 0, 0, 123, 34, 95, 95, 109, 101, 116, 97, 100, 97, 116, 97, 95,
            95, 34, 58, 123, 34, 102, 114, 97, 109, 101, 119, 111, 114, 107, 34, 58, 34, 112,
            116, 34, 125, 125, 32, 32, 32, 32, 32,
        ])
    }

    @Test func matchesReferenceFP4Bytes() throws {
        // test_serialization_fp4: F4 [1,2] in one byte; another dtype through raw bytes.
        let out = try SafetensorsWriter.serialize([.init(name: "attn.0", dtype: .f4, shape: [1, 2], bytes: [0])])
        #expect(out == [
            64, 0, 0, 0, 0, 0, 0, 0, 123, 34, 97, 116, 116, 110, 46, 48, 34, 58, 123, 34, 100,
            116, 121, 112, 101, 34, 58, 34, 70, 52, 34, 44, 34, 115, 104, 97, 112, 101, 34, 58,
            91, 49, 44, 50, 93, 44, 34, 100, 97, 116, 97, 95, 111, 102, 102, 115, 101, 116,
            115, 34, 58, 91, 48, 44, 49, 93, 125, 125, 32, 32, 32, 32, 0,
        ])
        #expect(try SafetensorsFile(bytes: out).rawBytes("attn.0") == [0])
    }

    @Test func ordersByDescendingAlignmentThenByteWiseName() throws {
        let out = try SafetensorsWriter.serialize([
            .init(name: "b", shape: [1], values: [1]),
            .init(name: "u8", dtype: .u8, shape: [1], bytes: [9]),
            .init(name: "a", shape: [1], values: [2]),
            .init(name: "i64", dtype: .i64, shape: [1], bytes: [3, 0, 0, 0, 0, 0, 0, 0]),
            .init(name: "f", shape: [1], values: [3]),
            // Byte-wise, "e\u{301}x" (0x65 ...) sorts before "f"; Swift's String < would put it after.
            .init(name: "e\u{301}x", shape: [1], values: [4]),
        ])
        let file = try SafetensorsFile(bytes: out)
        #expect(file.tensorNames == ["i64", "a", "b", "e\u{301}x", "f", "u8"])
        #expect(file.tensors.map(\.dataOffsets) == [0..<8, 8..<12, 12..<16, 16..<20, 20..<24, 24..<25])
        // The header is padded so the data section starts 8-byte aligned.
        #expect((8 + file.headerLength) % 8 == 0)
    }

    @Test func roundTripsThroughTheReader() throws {
        var random = FormatsTestRandom(state: 7)
        func values(_ n: Int) -> [Float] { (0..<n).map { _ in Float(Int(random.next() % 2001) - 1000) / 7 } }
        let tensors: [SafetensorsWriter.Tensor] = [
            .init(name: "model.layers.0.self_attn.q_proj.weight", shape: [16, 8], values: values(128)),
            .init(name: "model.norm.weight", shape: [8], values: values(8)),
            .init(name: "scalar", shape: [], values: [42]),
            .init(name: "empty", shape: [0, 4], values: []),
            .init(name: "specials", shape: [5], values: [.infinity, -.infinity, -0.0, .leastNonzeroMagnitude, .greatestFiniteMagnitude]),
            .init(name: "quote\"and\\slash\n", shape: [1], values: [1]),
        ]
        let metadata = ["format": "pt", "note": "ünïcödé \"quoted\"\n"]
        let file = try SafetensorsFile(bytes: SafetensorsWriter.serialize(tensors, metadata: metadata))
        #expect(file.metadata == metadata)
        #expect(Set(file.tensorNames) == Set(tensors.map(\.name)))
        for tensor in tensors {
            let info = try #require(file.info(tensor.name))
            #expect(info.shape == tensor.shape && info.dtype == .f32)
        }
        #expect(try file.floats("model.layers.0.self_attn.q_proj.weight").count == 128)
        #expect(try file.floats("scalar") == [42])
        #expect(try file.floats("empty") == [])
        #expect(try file.floats("specials").map(\.bitPattern) == ([.infinity, -.infinity, -0.0, .leastNonzeroMagnitude, .greatestFiniteMagnitude] as [Float]).map(\.bitPattern))
        // Serializing what was read gives identical bytes.
        let again = try SafetensorsWriter.serialize(
            file.tensorNames.map { SafetensorsWriter.Tensor(name: $0, shape: file.info($0)!.shape, values: try file.floats($0)) }, metadata: metadata)
        #expect(again == (try SafetensorsWriter.serialize(tensors, metadata: metadata)))
    }

    @Test func refusesInconsistentTensors() {
        #expect(throws: SafetensorsWriterError.duplicateTensorName("w")) {
            try SafetensorsWriter.serialize(tensors: [("w", [1], [1]), ("w", [1], [2])])
        }
        #expect(throws: SafetensorsWriterError.reservedTensorName("__metadata__")) {
            try SafetensorsWriter.serialize(tensors: [("__metadata__", [1], [1])])
        }
        #expect(throws: SafetensorsWriterError.negativeDimension(tensor: "w", shape: [2, -1])) {
            try SafetensorsWriter.serialize(tensors: [("w", [2, -1], [])])
        }
        #expect(throws: SafetensorsWriterError.sizeOverflow(tensor: "w", shape: [Int.max, 2])) {
            try SafetensorsWriter.serialize(tensors: [("w", [Int.max, 2], [])])
        }
        let mismatch = SafetensorsWriterError.dataSizeMismatch(tensor: "w", dtype: .f32, shape: [2, 2], expected: 4, actual: 3, unit: "values")
        #expect(throws: mismatch) { try SafetensorsWriter.serialize(tensors: [("w", [2, 2], [1, 2, 3])]) }
        #expect(mismatch.description == #"cannot write safetensors: tensor "w" of dtype F32 and shape [2, 2] needs 4 values, got 3"#)
        #expect(throws: SafetensorsWriterError.dataSizeMismatch(tensor: "h", dtype: .f16, shape: [2], expected: 4, actual: 2, unit: "bytes")) {
            try SafetensorsWriter.serialize([.init(name: "h", dtype: .f16, shape: [2], bytes: [0, 0])])
        }
        #expect(throws: SafetensorsWriterError.misalignedSubByteTensor(tensor: "q", dtype: .f4, shape: [3])) {
            try SafetensorsWriter.serialize([.init(name: "q", dtype: .f4, shape: [3], bytes: [0, 0])])
        }
    }

    @Test func writesAtomicallyToDisk() throws {
        let directory = try makeTemporaryDirectory()
        defer { removeTemporaryDirectory(directory) }
        let url = directory.appendingPathComponent("adapter_model.safetensors")
        let tensors: [SafetensorsWriter.Tensor] = [.init(name: "a", shape: [2], values: [1, 2])]
        try SafetensorsWriter.write(tensors, metadata: ["format": "pt"], to: url)
        #expect(try Array(Data(contentsOf: url)) == SafetensorsWriter.serialize(tensors, metadata: ["format": "pt"]))
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["adapter_model.safetensors"])
        // An invalid tensor list leaves the existing file alone.
        #expect(throws: SafetensorsWriterError.self) {
            try SafetensorsWriter.write([.init(name: "b", shape: [3], values: [1])], to: url)
        }
        #expect(try SafetensorsFile(contentsOf: url).floats("a") == [1, 2])
    }
}
