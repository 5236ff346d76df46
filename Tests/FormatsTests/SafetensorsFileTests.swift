// Reading tensors from a validated safetensors file: memory-mapped and in-memory storage, lookups,
// typed access and its errors. Reference: huggingface/safetensors `tensor.rs` (`SafeTensors::tensor`,
// `TensorNotFound`).
import Formats
import Foundation
import LinearAlgebra
import Testing

/// A fresh empty directory, removed by the caller with `removeTemporaryDirectory`.
func makeTemporaryDirectory() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("eckart-formats-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

func removeTemporaryDirectory(_ url: URL) {
    try? FileManager.default.removeItem(at: url)
}

@Suite struct SafetensorsFileTests {
    /// Three tensors of different dtypes, written by our writer.
    func sampleBytes() throws -> [UInt8] {
        try SafetensorsWriter.serialize([
            .init(name: "weight", shape: [2, 3], values: [1, 2, 3, 4, 5, 6]),
            .init(name: "bias", shape: [3], values: [0.5, -0.5, 0]),
            .init(name: "ids", dtype: .i64, shape: [2], bytes: [5, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]),
            .init(name: "cube", shape: [1, 1, 2], values: [7, 8]),
        ], metadata: ["format": "pt"])
    }

    @Test func mappedAndInMemoryFilesAgree() throws {
        let directory = try makeTemporaryDirectory()
        defer { removeTemporaryDirectory(directory) }
        let url = directory.appendingPathComponent("model.safetensors")
        let bytes = try sampleBytes()
        try Data(bytes).write(to: url)

        let mapped = try SafetensorsFile(contentsOf: url)
        let inMemory = try SafetensorsFile(bytes: bytes)
        let fromData = try SafetensorsFile(data: Data(bytes))
        for file in [mapped, inMemory, fromData] {
            #expect(Set(file.tensorNames) == ["weight", "bias", "ids", "cube"])
            #expect(file.metadata == ["format": "pt"])
            #expect(try file.matrix("weight") == Matrix(rows: 2, cols: 3, storage: [1, 2, 3, 4, 5, 6]))
            #expect(try file.matrix("bias") == Matrix(rows: 1, cols: 3, storage: [0.5, -0.5, 0]))
            #expect(try file.floats("cube") == [7, 8])
            #expect(try file.integers("ids") == [5, -1])
            #expect(file.info("weight")?.shape == [2, 3])
            #expect(file.info("weight")?.dtype == .f32)
            #expect(file.info("weight")?.elementCount == 6)
            #expect(file.contains("bias") && !file.contains("nope"))
        }
        #expect(mapped.name == url.path)
        // The byte range points at the tensor inside the file.
        let info = try #require(mapped.info("bias"))
        #expect(Array(bytes[info.byteRange]) == (try mapped.rawBytes("bias")))
        #expect(info.byteRange.lowerBound == 8 + mapped.headerLength + info.dataOffsets.lowerBound)
        #expect(try mapped.withUnsafeBytes(of: "bias") { $0.count } == 12)
    }

    @Test func tensorNamesAreInHeaderOrder() throws {
        let header = #"{"z":{"dtype":"U8","shape":[1],"data_offsets":[1,2]},"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}"#
        let file = try loadSafetensors(safetensorsBytes(header, data: [10, 20]))
        #expect(file.tensorNames == ["z", "a"])
        #expect(file.tensors.map(\.name) == ["z", "a"])
        #expect(try file.integers("z") == [20] && file.integers("a") == [10])
    }

    @Test func namesMatchByExactBytes() throws {
        let bytes = try SafetensorsWriter.serialize([
            .init(name: "\u{E9}", shape: [1], values: [1]),
            .init(name: "e\u{301}", shape: [1], values: [2]),
        ])
        let file = try SafetensorsFile(bytes: bytes)
        #expect(try file.floats("\u{E9}") == [1])
        #expect(try file.floats("e\u{301}") == [2])
    }

    @Test func unknownTensorIsNamed() throws {
        let file = try SafetensorsFile(bytes: sampleBytes(), name: "adapter_model.safetensors")
        #expect(file.info("missing") == nil)
        let error = SafetensorsError.tensorNotFound(file: "adapter_model.safetensors", tensor: "missing")
        #expect(throws: error) { try file.floats("missing") }
        #expect(throws: error) { try file.matrix("missing") }
        #expect(throws: error) { try file.integers("missing") }
        #expect(throws: error) { try file.rawBytes("missing") }
        #expect(error.description == #"safetensors file adapter_model.safetensors: has no tensor named "missing""#)
    }

    @Test func wrongDTypeAndRankAreExplained() throws {
        let file = try SafetensorsFile(bytes: sampleBytes(), name: "m")
        let floatsOfInts = SafetensorsError.wrongDType(
            file: "m", tensor: "ids", dtype: .i64, expected: "a floating-point dtype (F16, BF16, F32, F64)")
        #expect(throws: floatsOfInts) { try file.floats("ids") }
        #expect(floatsOfInts.description == #"safetensors file m: tensor "ids" has dtype I64, expected a floating-point dtype (F16, BF16, F32, F64)"#)
        #expect(throws: SafetensorsError.wrongDType(file: "m", tensor: "bias", dtype: .f32, expected: "an integer or BOOL dtype")) {
            try file.integers("bias")
        }
        let rank = SafetensorsError.wrongRank(file: "m", tensor: "cube", shape: [1, 1, 2], expected: "a 1-D or 2-D tensor")
        #expect(throws: rank) { try file.matrix("cube") }
        #expect(rank.description.contains("has shape [1, 1, 2], expected a 1-D or 2-D tensor"))
        // Other floating-point formats are recognised but not converted.
        let fp8 = try loadSafetensors(safetensorsBytes(tensorHeader(dtype: "F8_E4M3", shape: "[2]", offsets: "[0,2]"), data: [0x38, 0x40]))
        #expect(fp8.info("t")?.dtype.isFloatingPoint == true)
        #expect(throws: SafetensorsError.wrongDType(file: safetensorsTestName, tensor: "t", dtype: .f8E4M3,
                                                    expected: "a floating-point dtype (F16, BF16, F32, F64)")) {
            try fp8.floats("t")
        }
        #expect(try fp8.rawBytes("t") == [0x38, 0x40])
    }

    @Test func scalarIsNotAMatrix() throws {
        let file = try loadSafetensors(safetensorsBytes(tensorHeader(shape: "[]", offsets: "[0,4]"), data: [0, 0, 0x80, 0x3F]))
        #expect(try file.floats("t") == [1])
        #expect(throws: SafetensorsError.wrongRank(file: safetensorsTestName, tensor: "t", shape: [], expected: "a 1-D or 2-D tensor")) {
            try file.matrix("t")
        }
    }

    @Test func unalignedDataIsReadCorrectly() throws {
        // A header of odd length puts the data at an odd address; every dtype must still read right.
        let values: [Float] = [1.5, -2.25, 3e-38, .infinity]
        let f32 = values.flatMap { v in withUnsafeBytes(of: v.bitPattern.littleEndian) { Array($0) } }
        let f64 = values.flatMap { v in withUnsafeBytes(of: Double(v).bitPattern.littleEndian) { Array($0) } }
        let i32: [UInt8] = [0xFF, 0xFF, 0xFF, 0x7F, 0x00, 0x00, 0x00, 0x80]
        let header = #"{"f":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},"d":{"dtype":"F64","shape":[4],"data_offsets":[16,48]},"i":{"dtype":"I32","shape":[2],"data_offsets":[48,56]}} "#
        for padding in 0..<8 {
            let padded = header + String(repeating: " ", count: padding)
            let file = try loadSafetensors(safetensorsBytes(padded, data: f32 + f64 + i32))
            #expect(try file.floats("f") == values)
            #expect(try file.floats("d") == values)
            #expect(try file.integers("i") == [Int64(Int32.max), Int64(Int32.min)])
        }
    }

    @Test func mappingErrorsAreReported() throws {
        let directory = try makeTemporaryDirectory()
        defer { removeTemporaryDirectory(directory) }
        let missing = directory.appendingPathComponent("absent.safetensors")
        do {
            _ = try SafetensorsFile(contentsOf: missing)
            Issue.record("opened a missing file")
        } catch let SafetensorsError.unreadableFile(file, reason) {
            #expect(file == missing.path)
            #expect(reason.contains("No such file"))
        }
        #expect(throws: SafetensorsError.unreadableFile(file: directory.path, reason: "not a regular file")) {
            try SafetensorsFile(contentsOf: directory)
        }
        // An empty file maps to an empty buffer, then fails validation as too small.
        let empty = directory.appendingPathComponent("empty.safetensors")
        try Data().write(to: empty)
        #expect(throws: SafetensorsError.fileTooSmall(file: empty.path, size: 0)) {
            try SafetensorsFile(contentsOf: empty)
        }
        let mapped = try MappedFile(path: empty.path)
        #expect(mapped.count == 0)
        #expect(mapped.withUnsafeBytes { $0.count } == 0)
    }

    @Test func mappedFileReadsTheWholeFile() throws {
        let directory = try makeTemporaryDirectory()
        defer { removeTemporaryDirectory(directory) }
        let url = directory.appendingPathComponent("bytes")
        let bytes = (0..<10_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        try Data(bytes).write(to: url)
        let mapped = try MappedFile(path: url.path)
        #expect(mapped.count == bytes.count)
        #expect(mapped.withUnsafeBytes { Array($0) } == bytes)
    }

    @Test func filesAreSendableAcrossTasks() async throws {
        let file = try SafetensorsFile(bytes: sampleBytes())
        let sums = try await withThrowingTaskGroup(of: Float.self) { group in
            for _ in 0..<8 { group.addTask { try file.floats("weight").reduce(0, +) } }
            return try await group.reduce(into: [Float]()) { $0.append($1) }
        }
        #expect(sums == Array(repeating: 21, count: 8))
    }
}
