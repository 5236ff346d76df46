// Reading and validating the header of a safetensors file: the 8-byte length, the JSON header and the
// consistency of every tensor's dtype, shape and data_offsets with the data section.
//
// Reference: huggingface/safetensors `safetensors/src/tensor.rs` (commit 24b0b28):
// `SafeTensors::read_metadata` (length field, 100,000,000-byte limit, UTF-8, JSON, exact file length),
// `TryFrom<HashMetadata> for Metadata` (entries sorted by data_offsets), `Metadata::validate` (offsets
// contiguous from 0; checked element count and bit count; sub-byte alignment; byte length), and serde's
// deserialization of `HashMetadata` / `TensorInfo` (shape and data_offsets as usize, exactly two offsets,
// `__metadata__` an optional string-to-string map, unknown fields of an entry ignored).
//
// Checks run in the reference's order, so a file with several problems reports the one the reference
// would. Arithmetic is done in UInt64 like the reference's usize on 64-bit targets.

/// Where one tensor lives in a safetensors file.
public struct SafetensorsTensorInfo: Sendable, Equatable {
    /// The tensor's name (its key in the header).
    public let name: String
    /// The element type.
    public let dtype: SafetensorsDType
    /// Dimensions, outermost first (row-major). `[]` is a scalar.
    public let shape: [Int]
    /// `data_offsets` as written: relative to the start of the data section.
    public let dataOffsets: Range<Int>
    /// The tensor's bytes as offsets from the start of the file.
    public let byteRange: Range<Int>
    /// The number of elements (the product of `shape`, 1 for a scalar).
    public let elementCount: Int

    /// The number of bytes the tensor occupies.
    public var byteCount: Int { byteRange.count }
}

/// A parsed and validated header.
struct SafetensorsHeader {
    /// The header's JSON length in bytes (the 8-byte field's value).
    let headerLength: Int
    /// Tensors in header (document) order.
    let tensors: [SafetensorsTensorInfo]
    /// `__metadata__`, if present and not null.
    let metadata: [String: String]?

    static let maxHeaderLength = 100_000_000
    static let lengthFieldSize = 8

    /// An entry as declared, before validation; numbers as in the reference's usize.
    private struct Entry {
        let name: String
        let dtype: SafetensorsDType
        let shape: [UInt64]
        let start: UInt64
        let end: UInt64
    }

    /// Reads the header of the file whose complete bytes are `buffer`.
    static func read(_ buffer: UnsafeRawBufferPointer, file: String) throws -> SafetensorsHeader {
        let size = buffer.count
        guard size >= lengthFieldSize else { throw SafetensorsError.fileTooSmall(file: file, size: size) }
        let n = UInt64(littleEndian: buffer.loadUnaligned(fromByteOffset: 0, as: UInt64.self))
        guard n <= UInt64(maxHeaderLength) else {
            throw SafetensorsError.headerTooLarge(file: file, headerLength: n, limit: maxHeaderLength)
        }
        let headerLength = Int(n)
        let (stop, overflow) = headerLength.addingReportingOverflow(lengthFieldSize)
        guard !overflow, stop <= size else {
            throw SafetensorsError.headerBeyondEndOfFile(file: file, headerLength: n, fileSize: size)
        }
        let header = UnsafeRawBufferPointer(rebasing: buffer[lengthFieldSize..<stop])
        if let bad = firstMalformedUTF8Offset(in: header) {
            throw SafetensorsError.headerNotUTF8(file: file, offset: lengthFieldSize + bad)
        }
        try checkStartsWithBrace(header, file: file)
        let json: JSONValue
        do {
            json = try JSONValue.parse(header)
        } catch let error as JSONError {
            throw SafetensorsError.headerInvalidJSON(file: file, error)
        }
        guard case .object(let object) = json else {
            // Unreachable after the brace check; kept so no path assumes it.
            throw SafetensorsError.headerNotAnObject(file: file, found: json.typeName)
        }

        let (entries, metadata) = try decode(object, file: file)
        let dataLength = try validate(entries, file: file)
        let (expected, over1) = dataLength.addingReportingOverflow(UInt64(stop))
        if over1 || expected != UInt64(size) {
            throw SafetensorsError.dataLengthMismatch(
                file: file, expectedFileSize: over1 ? UInt64.max : expected, actualFileSize: size)
        }

        // All offsets are now within the file, so they fit Int.
        var tensors: [SafetensorsTensorInfo] = []
        tensors.reserveCapacity(entries.count)
        for entry in entries {
            var shape: [Int] = []
            shape.reserveCapacity(entry.shape.count)
            for dimension in entry.shape {
                // Only possible in a tensor with another dimension of 0, which the reference accepts.
                guard let d = Int(exactly: dimension) else {
                    throw SafetensorsError.invalidTensorField(
                        file: file, tensor: entry.name, field: "shape",
                        expected: "dimensions no larger than \(Int.max)", found: "\(entry.shape)")
                }
                shape.append(d)
            }
            let start = Int(entry.start), end = Int(entry.end)
            // Validated: the UInt64 product does not overflow, and the tensor's bytes fit in the file, so
            // the count (at most 2 elements per byte) fits Int. Partial products in Int could overflow.
            let elementCount = Int(entry.shape.reduce(1 as UInt64, &*))
            tensors.append(SafetensorsTensorInfo(
                name: entry.name, dtype: entry.dtype, shape: shape,
                dataOffsets: start..<end, byteRange: (stop + start)..<(stop + end),
                elementCount: elementCount))
        }
        return SafetensorsHeader(headerLength: headerLength, tensors: tensors, metadata: metadata)
    }

    /// The header must be a JSON object. Leading JSON whitespace is tolerated, as the reference does
    /// since safetensors PR #686 (writers may pad the header at either end).
    private static func checkStartsWithBrace(_ header: UnsafeRawBufferPointer, file: String) throws {
        var i = 0
        while i < header.count, [0x20, 0x09, 0x0A, 0x0D].contains(header[i]) { i += 1 }
        guard i < header.count else { throw SafetensorsError.headerNotAnObject(file: file, found: "") }
        guard header[i] != UInt8(ascii: "{") else { return }
        let length = wellFormedUTF8SequenceLength(in: header, at: i) ?? 1
        let found = String(decoding: UnsafeRawBufferPointer(rebasing: header[i..<(i + length)]), as: UTF8.self)
        throw SafetensorsError.headerNotAnObject(file: file, found: found)
    }

    // MARK: Entries

    private static func decode(_ object: JSONObject, file: String) throws -> ([Entry], [String: String]?) {
        var entries: [Entry] = []
        entries.reserveCapacity(object.count)
        var metadata: [String: String]? = nil
        for (key, value) in object {
            if key == "__metadata__" {
                metadata = try decodeMetadata(value, file: file)
            } else {
                entries.append(try decodeEntry(name: key, value, file: file))
            }
        }
        return (entries, metadata)
    }

    private static func decodeMetadata(_ value: JSONValue, file: String) throws -> [String: String]? {
        switch value {
        case .null:
            return nil  // serde reads null as an absent Option
        case .object(let members):
            var result: [String: String] = [:]
            for (key, v) in members {
                guard case .string(let s) = v else {
                    throw SafetensorsError.metadataValueNotString(file: file, key: key, found: brief(v))
                }
                result[key] = s
            }
            return result
        default:
            throw SafetensorsError.metadataNotAnObject(file: file, found: brief(value))
        }
    }

    private static func decodeEntry(name: String, _ value: JSONValue, file: String) throws -> Entry {
        guard case .object(let fields) = value else {
            throw SafetensorsError.tensorEntryNotAnObject(file: file, tensor: name, found: brief(value))
        }
        func field(_ key: String) throws -> JSONValue {
            guard let v = fields[key] else {
                throw SafetensorsError.missingTensorField(file: file, tensor: name, field: key)
            }
            return v
        }

        let dtypeValue = try field("dtype")
        guard case .string(let dtypeName) = dtypeValue else {
            throw SafetensorsError.invalidTensorField(
                file: file, tensor: name, field: "dtype", expected: "a string", found: brief(dtypeValue))
        }
        guard let dtype = SafetensorsDType(rawValue: dtypeName) else {
            throw SafetensorsError.unknownDType(file: file, tensor: name, dtype: dtypeName)
        }

        let shapeValue = try field("shape")
        let shapeExpected = "an array of non-negative integers"
        guard case .array(let shapeElements) = shapeValue else {
            throw SafetensorsError.invalidTensorField(
                file: file, tensor: name, field: "shape", expected: shapeExpected, found: brief(shapeValue))
        }
        var shape: [UInt64] = []
        shape.reserveCapacity(shapeElements.count)
        for element in shapeElements {
            guard let d = unsignedInteger(element) else {
                throw SafetensorsError.invalidTensorField(
                    file: file, tensor: name, field: "shape", expected: shapeExpected, found: brief(shapeValue))
            }
            shape.append(d)
        }

        let offsetsValue = try field("data_offsets")
        let offsetsExpected = "an array of exactly two non-negative integers [begin, end]"
        guard case .array(let offsets) = offsetsValue, offsets.count == 2,
              let start = unsignedInteger(offsets[0]), let end = unsignedInteger(offsets[1])
        else {
            throw SafetensorsError.invalidTensorField(
                file: file, tensor: name, field: "data_offsets", expected: offsetsExpected, found: brief(offsetsValue))
        }
        return Entry(name: name, dtype: dtype, shape: shape, start: start, end: end)
    }

    /// A JSON integer literal in 0...UInt64.max (serde_json's rule for usize: no fraction, no exponent).
    private static func unsignedInteger(_ value: JSONValue) -> UInt64? {
        guard case .number(let n) = value, n.isInteger else { return nil }
        return n.uint64Value
    }

    /// A short rendering of a JSON value for messages.
    static func brief(_ value: JSONValue) -> String {
        let text = value.serialized()
        let limit = 60
        guard text.count > limit else { return text }
        return String(text.prefix(limit)) + "…"
    }

    // MARK: Validation

    /// Checks that the entries tile the data section and returns its length (reference `validate`).
    private static func validate(_ entries: [Entry], file: String) throws -> UInt64 {
        // Sorted by (begin, end); ties by header position so the order is deterministic.
        let order = entries.indices.sorted { a, b in
            let x = entries[a], y = entries[b]
            if x.start != y.start { return x.start < y.start }
            if x.end != y.end { return x.end < y.end }
            return a < b
        }
        var position: UInt64 = 0
        for i in order {
            let entry = entries[i]
            guard entry.start == position, entry.end >= entry.start else {
                throw SafetensorsError.invalidOffset(
                    file: file, tensor: entry.name, dataOffsets: [entry.start, entry.end], expectedStart: position)
            }
            position = entry.end

            var elements: UInt64 = 1
            for d in entry.shape {
                let (product, overflow) = elements.multipliedReportingOverflow(by: d)
                guard !overflow else {
                    throw SafetensorsError.elementCountOverflow(file: file, tensor: entry.name, shape: entry.shape)
                }
                elements = product
            }
            let (bits, overflow) = elements.multipliedReportingOverflow(by: UInt64(entry.dtype.bitSize))
            guard !overflow else {
                throw SafetensorsError.byteSizeOverflow(file: file, tensor: entry.name, dtype: entry.dtype, shape: entry.shape)
            }
            guard bits % 8 == 0 else {
                throw SafetensorsError.misalignedSubByteTensor(
                    file: file, tensor: entry.name, dtype: entry.dtype, shape: entry.shape)
            }
            let bytes = bits / 8
            guard entry.end - entry.start == bytes else {
                throw SafetensorsError.tensorSizeMismatch(
                    file: file, tensor: entry.name, dtype: entry.dtype, shape: entry.shape,
                    expectedBytes: bytes, actualBytes: entry.end - entry.start)
            }
        }
        return position
    }
}
