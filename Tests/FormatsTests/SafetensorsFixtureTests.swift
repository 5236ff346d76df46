// The safetensors reader and writer against Python's `safetensors` library: files Python wrote
// (Tests/Fixtures/safetensors, with expected.json) read back exactly, and files Eckart writes load in
// Python (Tests/Fixtures/check_safetensors.py, run with the interpreter in $ECKART_PYTHON).
// Reference: safetensors 0.8.0 (Python, numpy backend) as recorded in Tests/Fixtures/README.md.
import Formats
import Foundation
import Testing

/// Tests/Fixtures, found from this source file so the tests run from any working directory.
let safetensorsFixtureDirectory = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fixtures")

/// The Python interpreter with numpy + safetensors, from $ECKART_PYTHON (unset: Python tests are skipped).
let eckartPython = ProcessInfo.processInfo.environment["ECKART_PYTHON"].flatMap { $0.isEmpty ? nil : $0 }

/// Every .safetensors file under Tests/Fixtures, sorted.
func allFixtureSafetensorsFiles() -> [URL] {
    let enumerator = FileManager.default.enumerator(at: safetensorsFixtureDirectory, includingPropertiesForKeys: nil)
    var files: [URL] = []
    while let url = enumerator?.nextObject() as? URL {
        if url.pathExtension == "safetensors" { files.append(url) }
    }
    return files.sorted { $0.path < $1.path }
}

/// What check_safetensors.py prints for `file`.
func pythonSummary(of file: URL, python: String) throws -> JSONValue {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: python)
    process.arguments = [safetensorsFixtureDirectory.appendingPathComponent("check_safetensors.py").path, file.path]
    let errorLog = FileManager.default.temporaryDirectory.appendingPathComponent("eckart-check-\(UUID().uuidString).log")
    _ = FileManager.default.createFile(atPath: errorLog.path, contents: nil)
    defer { try? FileManager.default.removeItem(at: errorLog) }
    let stdout = Pipe()
    process.standardOutput = stdout
    process.standardError = try FileHandle(forWritingTo: errorLog)
    try process.run()
    let output = stdout.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else {
        let message = (try? String(contentsOf: errorLog, encoding: .utf8)) ?? ""
        throw PythonCheckFailed(file: file.path, status: process.terminationStatus, stderr: message)
    }
    return try JSONValue.parse(output)
}

struct PythonCheckFailed: Error, CustomStringConvertible {
    let file: String
    let status: Int32
    let stderr: String
    var description: String { "check_safetensors.py \(file) exited with \(status): \(stderr)" }
}

/// Our reading of a tensor's elements as Double: integers and BOOL via `integers`, F16 / BF16 / F32 via
/// `floats`, F64 from its raw bytes (`floats` would narrow it to Float).
func elementsAsDoubles(_ file: SafetensorsFile, _ name: String) throws -> [Double] {
    let dtype = try #require(file.info(name)).dtype
    if dtype.isInteger { return try file.integers(name).map { Double($0) } }
    if dtype == .f64 {
        return try file.withUnsafeBytes(of: name) { raw in
            (0..<(raw.count / 8)).map { Double(bitPattern: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 8 * $0, as: UInt64.self))) }
        }
    }
    return try file.floats(name).map { Double($0) }
}

@Suite struct SafetensorsFixtureTests {
    @Test func pythonWrittenFilesReadExactly() throws {
        let directory = safetensorsFixtureDirectory.appendingPathComponent("safetensors")
        let expected = try JSONValue.parse(Data(contentsOf: directory.appendingPathComponent("expected.json")))
        let files = try #require(expected.objectValue)
        #expect(files.count >= 4)
        for (fileName, description) in files {
            let file = try SafetensorsFile(contentsOf: directory.appendingPathComponent(fileName))
            // Metadata.
            if case .object(let metadata)? = description["metadata"] {
                #expect(file.metadata == Dictionary(uniqueKeysWithValues: metadata.map { ($0.key, $0.value.stringValue ?? "?") }), "\(fileName)")
            } else {
                #expect(file.metadata == nil, "\(fileName)")
            }
            // Tensors.
            let tensors = try #require(description["tensors"]?.objectValue)
            #expect(Set(file.tensorNames) == Set(tensors.keys), "\(fileName)")
            for (name, tensor) in tensors {
                let info = try #require(file.info(name), "\(fileName): \(name)")
                #expect(info.dtype.rawValue == tensor["dtype"]?.stringValue, "\(fileName): \(name)")
                #expect(info.shape == tensor["shape"]?.arrayValue?.compactMap(\.intValue), "\(fileName): \(name)")
                let values = try #require(tensor["values"]?.arrayValue)
                if info.dtype.isInteger {
                    // Exact integers (I64 includes Int64.max), read as Int64.
                    #expect(try file.integers(name) == values.compactMap { $0.numberValue?.int64Value }, "\(fileName): \(name)")
                } else {
                    // Float values are recorded exactly; F64 is narrowed to Float by the reader.
                    let ours = try file.floats(name)
                    let theirs = values.compactMap { $0.doubleValue.map { Float($0) } }
                    #expect(ours.map(\.bitPattern) == theirs.map(\.bitPattern), "\(fileName): \(name): \(ours) vs \(theirs)")
                }
            }
        }
    }

    @Test func everyFixtureFileIsValid() throws {
        let files = allFixtureSafetensorsFiles()
        #expect(files.count >= 4)
        for url in files {
            let file = try SafetensorsFile(contentsOf: url)
            for name in file.tensorNames {
                _ = try elementsAsDoubles(file, name)
            }
        }
    }

    @Test(.enabled(if: eckartPython != nil, "needs ECKART_PYTHON: a Python with numpy and safetensors (make test sets it)"))
    func everyFixtureFileReadsAsPythonReadsIt() throws {
        for url in allFixtureSafetensorsFiles() {
            let file = try SafetensorsFile(contentsOf: url)
            let summary = try pythonSummary(of: url, python: eckartPython!)
            try expectSummary(summary, matches: file, label: url.lastPathComponent)
        }
    }

    @Test(.enabled(if: eckartPython != nil, "needs ECKART_PYTHON: a Python with numpy and safetensors (make test sets it)"))
    func filesWeWriteLoadInPython() throws {
        let directory = try makeTemporaryDirectory()
        defer { removeTemporaryDirectory(directory) }
        var random = FormatsTestRandom(state: 2024)
        func values(_ n: Int) -> [Float] { (0..<n).map { _ in Float(Int(random.next() % 20001) - 10000) / 1024 } }
        let half: [UInt16] = [0x3C00, 0xC000, 0x0001, 0x8000, 0x7BFF, 0x3555]
        let cases: [(String, [SafetensorsWriter.Tensor], [String: String]?)] = [
            ("adapter_model.safetensors", [
                .init(name: "base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight", shape: [8, 64], values: values(512)),
                .init(name: "base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight", shape: [64, 8], values: values(512)),
                .init(name: "base_model.model.model.layers.0.self_attn.q_proj.lora_magnitude_vector", shape: [64], values: values(64)),
            ], ["format": "pt"]),
            ("edge.safetensors", [
                .init(name: "scalar", shape: [], values: [3.5]),
                .init(name: "empty", shape: [0, 3], values: []),
                .init(name: "unicode naïve ✓ \"q\"", shape: [2], values: [1, -1]),
                .init(name: "a", shape: [1, 1, 1, 3], values: [0.25, 0.5, 0.75]),
            ], ["note": "ünïcödé \"quotes\" \\ and\nnewline", "empty": ""]),
            ("dtypes.safetensors", [
                .init(name: "f16", dtype: .f16, shape: [2, 3], bytes: littleEndianBytes(half)),
                .init(name: "bf16", dtype: .bf16, shape: [3], bytes: littleEndianBytes([0x3F80, 0xC049, 0x0001] as [UInt16])),
                .init(name: "i64", dtype: .i64, shape: [3], bytes: littleEndianBytes([Int64.max, -5, 1 << 40])),
                .init(name: "u8", dtype: .u8, shape: [2], bytes: [0, 255]),
                .init(name: "mask", dtype: .bool, shape: [3], bytes: [1, 0, 1]),
                .init(name: "f32", shape: [2], values: [1.5, 2.5]),
            ], nil),
            ("nothing.safetensors", [], nil),
        ]
        for (fileName, tensors, metadata) in cases {
            let url = directory.appendingPathComponent(fileName)
            try SafetensorsWriter.write(tensors, metadata: metadata, to: url)
            let summary = try pythonSummary(of: url, python: eckartPython!)
            let file = try SafetensorsFile(contentsOf: url)
            #expect(summary.objectValue?.count == tensors.count + (metadata == nil ? 0 : 1), "\(fileName)")
            try expectSummary(summary, matches: file, label: fileName)
            if let metadata {
                let theirs = try #require(summary["__metadata__"]?.objectValue)
                #expect(Dictionary(uniqueKeysWithValues: theirs.map { ($0.key, $0.value.stringValue ?? "?") }) == metadata)
            }
        }
    }

    /// Python's dtype, shape and sum of every tensor equal ours.
    func expectSummary(_ summary: JSONValue, matches file: SafetensorsFile, label: String) throws {
        let names = try #require(summary.objectValue).keys.filter { $0 != "__metadata__" }
        #expect(Set(names) == Set(file.tensorNames), "\(label)")
        for name in file.tensorNames {
            let info = try #require(file.info(name))
            let theirs = try #require(summary[name], "\(label): \(name)")
            #expect(theirs["dtype"]?.stringValue == info.dtype.rawValue, "\(label): \(name)")
            #expect(theirs["shape"]?.arrayValue?.compactMap(\.intValue) == info.shape, "\(label): \(name)")
            let elements = try elementsAsDoubles(file, name)
            let sum = elements.reduce(0, +)
            let scale = elements.reduce(1) { $0 + abs($1) }
            // Elements are exact; only the summation order differs.
            let tolerance = 1e-12 * scale
            let pythonSum = try #require(theirs["sum"]?.doubleValue, "\(label): \(name)")
            #expect(abs(pythonSum - sum) <= tolerance, "\(label): \(name): Python sum \(pythonSum), ours \(sum)")
        }
    }
}
