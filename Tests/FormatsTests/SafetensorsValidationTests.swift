// One test per validation rule of the safetensors reader, each building the offending bytes and
// checking the specific error. Rules and several byte vectors come from the reference's own tests in
// huggingface/safetensors `safetensors/src/tensor.rs` (commit 24b0b28): test_header_too_small,
// test_header_too_large, test_invalid_header_length, test_invalid_header_non_utf8,
// test_invalid_header_not_json, test_whitespace_(leading_)padded_header, test_json_attack,
// test_invalid_info, test_validation_overflow, test_metadata_incomplete_buffer,
// test_serialization_fp4_misaligned, test_empty_shapes_allowed, test_zero_sized_tensor.
import Formats
import Foundation
import LinearAlgebra
import Testing

/// The name in-memory test files are given, as it appears in errors.
let safetensorsTestName = "t.safetensors"

/// A safetensors file from header text and data bytes. `length` overrides the 8-byte length field.
func safetensorsBytes(_ header: String, data: [UInt8] = [], length: UInt64? = nil) -> [UInt8] {
    safetensorsBytes(headerBytes: Array(header.utf8), data: data, length: length)
}

func safetensorsBytes(headerBytes: [UInt8], data: [UInt8] = [], length: UInt64? = nil) -> [UInt8] {
    var out = withUnsafeBytes(of: (length ?? UInt64(headerBytes.count)).littleEndian) { Array($0) }
    out += headerBytes
    out += data
    return out
}

func loadSafetensors(_ bytes: [UInt8]) throws -> SafetensorsFile {
    try SafetensorsFile(bytes: bytes, name: safetensorsTestName)
}

/// The error loading `bytes` throws, or nil (recording an issue) when it loads.
func safetensorsError(_ bytes: [UInt8], sourceLocation: SourceLocation = #_sourceLocation) -> SafetensorsError? {
    do {
        _ = try loadSafetensors(bytes)
        Issue.record("the file was accepted", sourceLocation: sourceLocation)
    } catch let error as SafetensorsError {
        return error
    } catch {
        Issue.record("unexpected error type: \(error)", sourceLocation: sourceLocation)
    }
    return nil
}

/// A one-tensor header `{"<name>":{"dtype":...,"shape":...,"data_offsets":...}}`.
func tensorHeader(_ name: String = "t", dtype: String = "F32", shape: String, offsets: String) -> String {
    #"{"\#(name)":{"dtype":"\#(dtype)","shape":\#(shape),"data_offsets":\#(offsets)}}"#
}

@Suite struct SafetensorsValidationTests {
    let file = safetensorsTestName

    // MARK: read_metadata

    @Test func fileShorterThanTheLengthField() {
        for size in 0..<8 {
            #expect(throws: SafetensorsError.fileTooSmall(file: file, size: size)) {
                try loadSafetensors([UInt8](repeating: 0, count: size))
            }
        }
    }

    @Test func headerLengthOverTheLimit() {
        #expect(throws: SafetensorsError.headerTooLarge(file: file, headerLength: 100_000_001, limit: 100_000_000)) {
            try loadSafetensors(safetensorsBytes("{}", length: 100_000_001))
        }
        // The reference's vector: "<\0\0\0\0\xff\xff\xff" + a valid header and data.
        let reference = [0x3C, 0, 0, 0, 0, 0xFF, 0xFF, 0xFF]
            + Array(tensorHeader("test", dtype: "I32", shape: "[2,2]", offsets: "[0,16]").utf8) + [UInt8](repeating: 0, count: 16)
        #expect(throws: SafetensorsError.headerTooLarge(file: file, headerLength: 0xFFFF_FF00_0000_003C, limit: 100_000_000)) {
            try loadSafetensors(reference)
        }
        #expect(throws: SafetensorsError.headerTooLarge(file: file, headerLength: UInt64.max, limit: 100_000_000)) {
            try loadSafetensors(safetensorsBytes("{}", length: UInt64.max))
        }
    }

    @Test func headerLengthBeyondTheEndOfTheFile() {
        // Reference test_invalid_header_length: a length of 60 and nothing after it.
        #expect(throws: SafetensorsError.headerBeyondEndOfFile(file: file, headerLength: 60, fileSize: 8)) {
            try loadSafetensors([0x3C, 0, 0, 0, 0, 0, 0, 0])
        }
        #expect(throws: SafetensorsError.headerBeyondEndOfFile(file: file, headerLength: 3, fileSize: 10)) {
            try loadSafetensors(safetensorsBytes("{}", length: 3))
        }
        // The limit itself is allowed; this file is just too short for it.
        #expect(throws: SafetensorsError.headerBeyondEndOfFile(file: file, headerLength: 100_000_000, fileSize: 10)) {
            try loadSafetensors(safetensorsBytes("{}", length: 100_000_000))
        }
    }

    @Test func headerMustBeUTF8() {
        // Reference test_invalid_header_non_utf8.
        #expect(throws: SafetensorsError.headerNotUTF8(file: file, offset: 8)) {
            try loadSafetensors(safetensorsBytes(headerBytes: [0xFF]))
        }
        // Inside a tensor name, and an encoded surrogate; offsets count from the start of the file.
        #expect(throws: SafetensorsError.headerNotUTF8(file: file, offset: 11)) {
            try loadSafetensors(safetensorsBytes(headerBytes: Array(#"{""#.utf8) + [0x61, 0xC3, 0x28] + Array(#"":1}"#.utf8)))
        }
        #expect(throws: SafetensorsError.headerNotUTF8(file: file, offset: 10)) {
            try loadSafetensors(safetensorsBytes(headerBytes: Array(#"{""#.utf8) + [0xED, 0xA0, 0x80] + Array(#"":1}"#.utf8)))
        }
    }

    @Test func headerMustBeAJSONObject() throws {
        #expect(throws: SafetensorsError.headerNotAnObject(file: file, found: "[")) {
            try loadSafetensors(safetensorsBytes("[]      "))
        }
        #expect(throws: SafetensorsError.headerNotAnObject(file: file, found: "\"")) {
            try loadSafetensors(safetensorsBytes(#""{}""#))
        }
        #expect(throws: SafetensorsError.headerNotAnObject(file: file, found: "")) {
            try loadSafetensors(safetensorsBytes("        "))
        }
        #expect(throws: SafetensorsError.headerNotAnObject(file: file, found: "")) {
            try loadSafetensors(safetensorsBytes(""))
        }
        // Reference test_whitespace_padded_header and test_whitespace_leading_padded_header: JSON
        // whitespace may pad the header on either side.
        #expect(try loadSafetensors(safetensorsBytes("{}\r \t\n")).tensorNames.isEmpty)
        #expect(try loadSafetensors(safetensorsBytes("\t\n{}\r ")).tensorNames.isEmpty)
    }

    @Test func headerMustBeStrictJSON() {
        func jsonError(_ header: String) -> JSONError? {
            guard case .headerInvalidJSON(let f, let error)? = safetensorsError(safetensorsBytes(header)) else {
                Issue.record("expected headerInvalidJSON for \(header)")
                return nil
            }
            #expect(f == file)
            return error
        }
        // Reference test_invalid_header_not_json: a lone "{".
        #expect(jsonError("{").map { if case .unexpectedEndOfInput = $0 { true } else { false } } == true)
        #expect(jsonError(#"{"a":{"dtype":"F32","shape":[],"data_offsets":[0,4]},}"#) == .trailingComma(offset: 52))
        #expect(jsonError("{} x") == .trailingData(offset: 3))
        #expect(jsonError(#"{"a":{"dtype":"F32","shape":[NaN],"data_offsets":[0,4]}}"#).map { if case .unexpectedCharacter = $0 { true } else { false } } == true)
    }

    @Test func duplicateTensorNamesAreRejected() {
        let entry = #"{"dtype":"F32","shape":[1],"data_offsets":[0,4]}"#
        let header = #"{"w":\#(entry),"w":\#(entry)}"#
        #expect(throws: SafetensorsError.headerInvalidJSON(file: file, .duplicateKey("w", offset: 54))) {
            try loadSafetensors(safetensorsBytes(header, data: [UInt8](repeating: 0, count: 8)))
        }
        #expect(SafetensorsError.headerInvalidJSON(file: "m", .duplicateKey("w", offset: 54)).description
            == #"safetensors file m: header is not valid JSON: duplicate key "w" at byte 54 (byte offsets count from the start of the header)"#)
        // Also inside an entry.
        #expect(throws: SafetensorsError.headerInvalidJSON(file: file, .duplicateKey("dtype", offset: 20))) {
            try loadSafetensors(safetensorsBytes(#"{"w":{"dtype":"F32","dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#, data: [0, 0, 0, 0]))
        }
    }

    // MARK: Header entries

    @Test func tensorEntryMustBeAnObject() {
        #expect(throws: SafetensorsError.tensorEntryNotAnObject(file: file, tensor: "w", found: "[1,2]")) {
            try loadSafetensors(safetensorsBytes(#"{"w":[1,2]}"#))
        }
    }

    @Test(arguments: ["dtype", "shape", "data_offsets"])
    func tensorEntryFieldIsRequired(field: String) {
        var fields = [#""dtype":"F32""#, #""shape":[1]"#, #""data_offsets":[0,4]"#]
        fields.remove(at: ["dtype", "shape", "data_offsets"].firstIndex(of: field)!)
        let header = #"{"w":{\#(fields.joined(separator: ","))}}"#
        #expect(throws: SafetensorsError.missingTensorField(file: file, tensor: "w", field: field)) {
            try loadSafetensors(safetensorsBytes(header, data: [0, 0, 0, 0]))
        }
    }

    @Test(arguments: [
        ("dtype", #""dtype":5,"shape":[1],"data_offsets":[0,4]"#, "5"),
        ("dtype", #""dtype":null,"shape":[1],"data_offsets":[0,4]"#, "null"),
        ("shape", #""dtype":"F32","shape":"1","data_offsets":[0,4]"#, #""1""#),
        ("shape", #""dtype":"F32","shape":[-1],"data_offsets":[0,4]"#, "[-1]"),
        ("shape", #""dtype":"F32","shape":[1.0],"data_offsets":[0,4]"#, "[1.0]"),
        ("shape", #""dtype":"F32","shape":[1e0],"data_offsets":[0,4]"#, "[1.0]"),
        ("shape", #""dtype":"F32","shape":[-0],"data_offsets":[0,4]"#, "[-0.0]"),
        ("shape", #""dtype":"F32","shape":[[1]],"data_offsets":[0,4]"#, "[[1]]"),
        ("shape", #""dtype":"F32","shape":[18446744073709551616],"data_offsets":[0,4]"#, "[1.8446744073709552e+19]"),
        ("data_offsets", #""dtype":"F32","shape":[1],"data_offsets":[4]"#, "[4]"),
        ("data_offsets", #""dtype":"F32","shape":[1],"data_offsets":[0,4,8]"#, "[0,4,8]"),
        ("data_offsets", #""dtype":"F32","shape":[1],"data_offsets":[-1,3]"#, "[-1,3]"),
        ("data_offsets", #""dtype":"F32","shape":[1],"data_offsets":[0,4.5]"#, "[0,4.5]"),
        ("data_offsets", #""dtype":"F32","shape":[1],"data_offsets":{"0":4}"#, #"{"0":4}"#),
    ])
    func tensorFieldMustHaveItsType(field: String, entry: String, found: String) {
        guard case .invalidTensorField(let f, let tensor, let actualField, _, let actualFound)? =
            safetensorsError(safetensorsBytes(#"{"w":{\#(entry)}}"#, data: [0, 0, 0, 0]))
        else {
            Issue.record("expected invalidTensorField")
            return
        }
        #expect(f == file && tensor == "w" && actualField == field && actualFound == found)
    }

    @Test func unknownDTypeIsNamed() {
        #expect(throws: SafetensorsError.unknownDType(file: file, tensor: "w", dtype: "F128")) {
            try loadSafetensors(safetensorsBytes(tensorHeader("w", dtype: "F128", shape: "[1]", offsets: "[0,16]"), data: .init(repeating: 0, count: 16)))
        }
        // Dtype names are case-sensitive, as serde's enum variants.
        #expect(throws: SafetensorsError.unknownDType(file: file, tensor: "w", dtype: "f32")) {
            try loadSafetensors(safetensorsBytes(tensorHeader("w", dtype: "f32", shape: "[1]", offsets: "[0,4]"), data: [0, 0, 0, 0]))
        }
        let message = SafetensorsError.unknownDType(file: file, tensor: "w", dtype: "F128").description
        #expect(message.hasPrefix(#"safetensors file t.safetensors: tensor "w" has unknown dtype "F128" (known dtypes: BOOL, F4,"#))
    }

    @Test func everyReferenceDTypeIsRecognisedWithItsWidth() throws {
        let bits: [String: Int] = [
            "BOOL": 8, "F4": 4, "F6_E2M3": 6, "F6_E3M2": 6, "U8": 8, "I8": 8, "F8_E5M2": 8, "F8_E4M3": 8,
            "F8_E8M0": 8, "F8_E4M3FNUZ": 8, "F8_E5M2FNUZ": 8, "I16": 16, "U16": 16, "F16": 16, "BF16": 16,
            "I32": 32, "U32": 32, "F32": 32, "C64": 64, "F64": 64, "I64": 64, "U64": 64,
        ]
        #expect(SafetensorsDType.allCases.count == bits.count)
        for (name, width) in bits {
            let dtype = try #require(SafetensorsDType(rawValue: name))
            #expect(dtype.bitSize == width, "\(name)")
            // 8 elements of any dtype fill a whole number of bytes.
            let file = try loadSafetensors(safetensorsBytes(
                tensorHeader("x", dtype: name, shape: "[8]", offsets: "[0,\(width)]"), data: .init(repeating: 0, count: width)))
            #expect(file.info("x")?.dtype == dtype && file.info("x")?.byteCount == width)
        }
        // The reference's alignment order, which the writer sorts by.
        #expect(SafetensorsDType.allCases.map(\.rawValue) == [
            "BOOL", "F4", "F6_E2M3", "F6_E3M2", "U8", "I8", "F8_E5M2", "F8_E4M3", "F8_E8M0", "F8_E4M3FNUZ",
            "F8_E5M2FNUZ", "I16", "U16", "F16", "BF16", "I32", "U32", "F32", "C64", "F64", "I64", "U64",
        ])
    }

    @Test func unknownEntryFieldsAreIgnoredAsTheReferenceDoes() throws {
        let header = #"{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4],"note":{"x":[1]}}}"#
        let loaded = try loadSafetensors(safetensorsBytes(header, data: [0, 0, 0x80, 0x3F]))
        #expect(try loaded.floats("w") == [1])
    }

    @Test func metadataMustMapStringsToStrings() throws {
        #expect(throws: SafetensorsError.metadataNotAnObject(file: file, found: #"["a"]"#)) {
            try loadSafetensors(safetensorsBytes(#"{"__metadata__":["a"]}"#))
        }
        #expect(throws: SafetensorsError.metadataNotAnObject(file: file, found: #""pt""#)) {
            try loadSafetensors(safetensorsBytes(#"{"__metadata__":"pt"}"#))
        }
        #expect(throws: SafetensorsError.metadataValueNotString(file: file, key: "n", found: "1")) {
            try loadSafetensors(safetensorsBytes(#"{"__metadata__":{"format":"pt","n":1}}"#))
        }
        #expect(throws: SafetensorsError.metadataValueNotString(file: file, key: "o", found: #"{"a":"b"}"#)) {
            try loadSafetensors(safetensorsBytes(#"{"__metadata__":{"o":{"a":"b"}}}"#))
        }
        let loaded = try loadSafetensors(safetensorsBytes(#"{"__metadata__":{"format":"pt","é":""}}"#))
        #expect(loaded.metadata == ["format": "pt", "é": ""])
        #expect(loaded.tensorNames.isEmpty)
        // null reads as absent (serde's Option), and no metadata at all is nil too.
        #expect(try loadSafetensors(safetensorsBytes(#"{"__metadata__":null}"#)).metadata == nil)
        #expect(try loadSafetensors(safetensorsBytes("{}")).metadata == nil)
    }

    // MARK: Metadata::validate

    @Test func offsetsMustTileTheDataSectionFromZero() {
        let f32x2 = #"{"dtype":"F32","shape":[2]"#
        func header(_ entries: [(String, String)]) -> String {
            "{" + entries.map { #""\#($0.0)":\#(f32x2),"data_offsets":\#($0.1)}"# }.joined(separator: ",") + "}"
        }
        let data = [UInt8](repeating: 0, count: 16)
        // A gap before the first tensor.
        #expect(throws: SafetensorsError.invalidOffset(file: file, tensor: "a", dataOffsets: [4, 12], expectedStart: 0)) {
            try loadSafetensors(safetensorsBytes(header([("a", "[4,12]")]), data: data))
        }
        // A gap between tensors (in offset order, not header order).
        #expect(throws: SafetensorsError.invalidOffset(file: file, tensor: "b", dataOffsets: [12, 20], expectedStart: 8)) {
            try loadSafetensors(safetensorsBytes(header([("b", "[12,20]"), ("a", "[0,8]")]), data: data))
        }
        // Overlap.
        #expect(throws: SafetensorsError.invalidOffset(file: file, tensor: "b", dataOffsets: [4, 12], expectedStart: 8)) {
            try loadSafetensors(safetensorsBytes(header([("a", "[0,8]"), ("b", "[4,12]")]), data: data))
        }
        // End before start.
        let backwards = SafetensorsError.invalidOffset(file: file, tensor: "b", dataOffsets: [8, 4], expectedStart: 8)
        #expect(throws: backwards) {
            try loadSafetensors(safetensorsBytes(header([("a", "[0,8]"), ("b", "[8,4]")]), data: data))
        }
        #expect(backwards.description.contains("end before they start"))
        // Reference test_json_attack: ten tensors all claiming the same 16 bytes.
        let attack = "{" + (0..<10).map { #""weight_\#($0)":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]}"# }
            .joined(separator: ",") + "}"
        #expect(throws: SafetensorsError.invalidOffset(file: file, tensor: "weight_1", dataOffsets: [0, 16], expectedStart: 16)) {
            try loadSafetensors(safetensorsBytes(attack, data: data))
        }
    }

    @Test func elementCountOverflowIsDetected() {
        // Reference test_validation_overflow, first vector.
        let header = tensorHeader("test", dtype: "I32", shape: "[2,18446744073709551614]", offsets: "[0,16]")
        #expect(throws: SafetensorsError.elementCountOverflow(file: file, tensor: "test", shape: [2, 18_446_744_073_709_551_614])) {
            try loadSafetensors(safetensorsBytes(header, data: .init(repeating: 0, count: 16)))
        }
    }

    @Test func byteSizeOverflowIsDetected() {
        // Reference test_validation_overflow, second vector: the element count fits, the bits do not.
        let header = tensorHeader("test", dtype: "I32", shape: "[2,9223372036854775807]", offsets: "[0,16]")
        #expect(throws: SafetensorsError.byteSizeOverflow(file: file, tensor: "test", dtype: .i32, shape: [2, 9_223_372_036_854_775_807])) {
            try loadSafetensors(safetensorsBytes(header, data: .init(repeating: 0, count: 16)))
        }
    }

    @Test func subByteTensorsMustFillWholeBytes() throws {
        // Reference test_serialization_fp4_misaligned: F4 of shape [1,3] is 12 bits.
        #expect(throws: SafetensorsError.misalignedSubByteTensor(file: file, tensor: "t", dtype: .f4, shape: [1, 3])) {
            try loadSafetensors(safetensorsBytes(tensorHeader(dtype: "F4", shape: "[1,3]", offsets: "[0,2]"), data: [0, 1]))
        }
        #expect(throws: SafetensorsError.misalignedSubByteTensor(file: file, tensor: "t", dtype: .f6E2M3, shape: [3])) {
            try loadSafetensors(safetensorsBytes(tensorHeader(dtype: "F6_E2M3", shape: "[3]", offsets: "[0,3]"), data: [0, 1, 2]))
        }
        // F4 [1,2] is one byte; F6 [4] is three.
        #expect(try loadSafetensors(safetensorsBytes(tensorHeader(dtype: "F4", shape: "[1,2]", offsets: "[0,1]"), data: [0])).info("t")?.elementCount == 2)
        #expect(try loadSafetensors(safetensorsBytes(tensorHeader(dtype: "F6_E3M2", shape: "[4]", offsets: "[0,3]"), data: [0, 0, 0])).info("t")?.byteCount == 3)
    }

    @Test func tensorByteLengthMustMatchShapeAndDType() {
        // Reference test_invalid_info: I32 [2,2] needs 16 bytes, offsets give 4.
        let error = SafetensorsError.tensorSizeMismatch(file: file, tensor: "test", dtype: .i32, shape: [2, 2], expectedBytes: 16, actualBytes: 4)
        #expect(throws: error) {
            try loadSafetensors(safetensorsBytes(tensorHeader("test", dtype: "I32", shape: "[2,2]", offsets: "[0, 4]")))
        }
        #expect(error.description == #"safetensors file t.safetensors: tensor "test" of dtype I32 and shape [2, 2] needs 16 bytes, but its data_offsets span 4"#)
    }

    @Test func fileLengthMustMatchTheHeaderExactly() {
        // Reference test_metadata_incomplete_buffer: extra bytes after the data (a polyglot file)...
        let header = tensorHeader("test", dtype: "I32", shape: "[2,2]", offsets: "[0,16]")
        let headerLength = UInt64(header.utf8.count)
        let extra = SafetensorsError.dataLengthMismatch(file: file, expectedFileSize: 8 + headerLength + 16, actualFileSize: Int(8 + headerLength + 16 + 34))
        #expect(throws: extra) {
            try loadSafetensors(safetensorsBytes(header, data: .init(repeating: 0, count: 16) + Array("extra_bogus_data_for_polyglot_file".utf8)))
        }
        #expect(extra.description.hasSuffix("(34 extra bytes after the last tensor)"))
        // ...and missing bytes.
        let missing = SafetensorsError.dataLengthMismatch(file: file, expectedFileSize: 8 + headerLength + 16, actualFileSize: Int(8 + headerLength + 14))
        #expect(throws: missing) {
            try loadSafetensors(safetensorsBytes(header, data: .init(repeating: 0, count: 14)))
        }
        #expect(missing.description.hasSuffix("(2 bytes missing)"))
        // An empty header with trailing data.
        #expect(throws: SafetensorsError.dataLengthMismatch(file: file, expectedFileSize: 10, actualFileSize: 11)) {
            try loadSafetensors(safetensorsBytes("{}", data: [0]))
        }
    }

    // MARK: Accepted edge cases

    @Test func referenceDeserializationVectors() throws {
        // test_deserialization
        let loaded = try loadSafetensors(safetensorsBytes(
            tensorHeader("test", dtype: "I32", shape: "[2,2]", offsets: "[0,16]"), data: .init(repeating: 0, count: 16)))
        #expect(loaded.tensorNames == ["test"])
        #expect(loaded.info("test")?.shape == [2, 2] && loaded.info("test")?.dtype == .i32)
        #expect(try loaded.integers("test") == [0, 0, 0, 0])
        // test_empty_shapes_allowed: a scalar.
        let scalar = try loadSafetensors(safetensorsBytes(
            tensorHeader("test", dtype: "I32", shape: "[]", offsets: "[0,4]"), data: [7, 0, 0, 0]))
        #expect(scalar.info("test")?.shape == [] && scalar.info("test")?.elementCount == 1)
        #expect(try scalar.integers("test") == [7])
        // test_zero_sized_tensor
        let empty = try loadSafetensors(safetensorsBytes(tensorHeader("test", dtype: "I32", shape: "[2,0]", offsets: "[0, 0]")))
        #expect(empty.info("test")?.shape == [2, 0] && empty.info("test")?.byteCount == 0)
        #expect(try empty.integers("test") == [])
    }

    @Test func emptyTensorsMayShareAnOffset() throws {
        let header = #"{"a":{"dtype":"F32","shape":[0],"data_offsets":[0,0]},"b":{"dtype":"F16","shape":[3,0],"data_offsets":[0,0]},"c":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#
        let loaded = try loadSafetensors(safetensorsBytes(header, data: [0, 0, 0x80, 0x3F]))
        #expect(loaded.tensorNames == ["a", "b", "c"])
        #expect(try loaded.floats("c") == [1] && loaded.floats("a") == [])
        #expect(try loaded.matrix("b") == Matrix(rows: 3, cols: 0))
    }

    @Test func dimensionsBeyondIntAreRefusedEvenWhenEmpty() {
        // The reference accepts [0, 2^64-1] (zero elements); shapes here are [Int], so it is refused.
        guard case .invalidTensorField(_, "t", "shape", _, _)? = safetensorsError(safetensorsBytes(
            tensorHeader(shape: "[0,18446744073709551615]", offsets: "[0,0]")))
        else {
            Issue.record("expected invalidTensorField for shape")
            return
        }
    }
}

@Suite struct SafetensorsRobustnessTests {
    /// Random corruptions of a valid file either load (and then every tensor reads) or throw a
    /// SafetensorsError; nothing traps or reads outside the buffer (debug builds check every access).
    @Test func corruptedFilesNeverCrash() throws {
        let valid = try SafetensorsWriter.serialize([
            .init(name: "w", shape: [2, 3], values: [1, 2, 3, 4, 5, 6]),
            .init(name: "h", dtype: .f16, shape: [2], bytes: [0, 0x3C, 0, 0xC0]),
            .init(name: "i", dtype: .i64, shape: [1], bytes: [1, 0, 0, 0, 0, 0, 0, 0]),
            .init(name: "q", dtype: .f4, shape: [4], bytes: [0x12, 0x34]),
        ], metadata: ["k": "v"])
        var random = FormatsTestRandom(state: 99)
        let interesting = Array(#"{}[]",:0123456789-e. "#.utf8) + [0x00, 0xFF, 0x80, 0xC3]
        var loaded = 0
        for _ in 0..<5_000 {
            var bytes = valid
            for _ in 0..<(1 + random.below(3)) {
                switch random.below(5) {
                case 0:  // truncate
                    bytes.removeLast(random.below(bytes.count + 1))
                case 1:  // change the length field
                    if bytes.count >= 8 { bytes[random.below(8)] = UInt8(truncatingIfNeeded: random.next()) }
                case 2:  // overwrite a header byte with a JSON-ish byte
                    if !bytes.isEmpty { bytes[random.below(min(bytes.count, 8 + 200))] = interesting[random.below(interesting.count)] }
                case 3:  // insert a byte
                    bytes.insert(interesting[random.below(interesting.count)], at: random.below(bytes.count + 1))
                default:  // append bytes
                    bytes += (0..<random.below(16)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
                }
            }
            do {
                let file = try loadSafetensors(bytes)
                loaded += 1
                for info in file.tensors {
                    _ = try file.rawBytes(info.name)
                    if SafetensorsDType.convertibleToFloat.contains(info.dtype) { _ = try file.floats(info.name) }
                    if info.dtype.isInteger { _ = try? file.integers(info.name) }
                    if info.shape.count <= 2, SafetensorsDType.convertibleToFloat.contains(info.dtype) { _ = try file.matrix(info.name) }
                }
            } catch is SafetensorsError {
                // Refused: fine.
            }
        }
        #expect(loaded > 0)
    }
}
