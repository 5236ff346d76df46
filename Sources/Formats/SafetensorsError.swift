// Everything that can be wrong with a safetensors file, or with a request for one of its tensors.
//
// Reference: huggingface/safetensors `safetensors/src/tensor.rs` (commit 24b0b28), `SafeTensorError`.
// Each reference variant maps to one or more cases here, split where the reference lumps distinct
// problems together (its `InvalidHeaderDeserialization` covers every malformed entry; its
// `ValidationOverflow` covers both element-count and byte-size overflow). The mapping is noted on
// each case. Every case names the file (a path, or the name given to in-memory bytes).

/// Why a safetensors file was refused, or why a tensor could not be read from it.
public enum SafetensorsError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The file could not be opened or mapped.
    case unreadableFile(file: String, reason: String)

    // MARK: Layout (reference `read_metadata`)

    /// Fewer than the 8 bytes of the header length. Reference: `HeaderTooSmall`.
    case fileTooSmall(file: String, size: Int)
    /// The header length exceeds the 100,000,000-byte limit. Reference: `HeaderTooLarge`.
    case headerTooLarge(file: String, headerLength: UInt64, limit: Int)
    /// The header would end past the end of the file. Reference: `InvalidHeaderLength`.
    case headerBeyondEndOfFile(file: String, headerLength: UInt64, fileSize: Int)
    /// The header is not valid UTF-8; `offset` counts from the start of the file. Reference: `InvalidHeader`.
    case headerNotUTF8(file: String, offset: Int)
    /// The header's first non-whitespace character is not `{`. `found` is that character, or empty when
    /// the header is blank. (The format requires the header to begin with `{`; the reference lets leading
    /// JSON whitespace pass, and so does this reader.)
    case headerNotAnObject(file: String, found: String)
    /// The header is not strict JSON (including duplicate tensor names or keys). Offsets in the JSON
    /// error count from the start of the header. Reference: `InvalidHeaderDeserialization`.
    case headerInvalidJSON(file: String, JSONError)

    // MARK: Header entries (reference: serde deserialization of `HashMetadata` / `TensorInfo`)

    /// A tensor's header entry is not a JSON object.
    case tensorEntryNotAnObject(file: String, tensor: String, found: String)
    /// A tensor's header entry lacks `dtype`, `shape` or `data_offsets`.
    case missingTensorField(file: String, tensor: String, field: String)
    /// A tensor's `dtype`, `shape` or `data_offsets` has the wrong JSON type or form.
    case invalidTensorField(file: String, tensor: String, field: String, expected: String, found: String)
    /// A `dtype` string that is not a safetensors dtype.
    case unknownDType(file: String, tensor: String, dtype: String)
    /// `__metadata__` is neither an object nor null.
    case metadataNotAnObject(file: String, found: String)
    /// A `__metadata__` value that is not a string.
    case metadataValueNotString(file: String, key: String, found: String)

    // MARK: Consistency (reference `Metadata::validate` and the final length check)

    /// Tensors, sorted by offsets, must tile the data section from 0 without gaps or overlaps; this
    /// tensor starts elsewhere than `expectedStart` or ends before it starts. Reference: `InvalidOffset`.
    case invalidOffset(file: String, tensor: String, dataOffsets: [UInt64], expectedStart: UInt64)
    /// The product of the shape overflows 64 bits. Reference: `ValidationOverflow`.
    case elementCountOverflow(file: String, tensor: String, shape: [UInt64])
    /// Element count × dtype bits overflows 64 bits. Reference: `ValidationOverflow`.
    case byteSizeOverflow(file: String, tensor: String, dtype: SafetensorsDType, shape: [UInt64])
    /// A sub-byte dtype whose total bit count is not a whole number of bytes. Reference: `MisalignedSlice`.
    case misalignedSubByteTensor(file: String, tensor: String, dtype: SafetensorsDType, shape: [UInt64])
    /// `data_offsets` span a different number of bytes than shape × dtype needs. Reference: `TensorInvalidInfo`.
    case tensorSizeMismatch(file: String, tensor: String, dtype: SafetensorsDType, shape: [UInt64],
                            expectedBytes: UInt64, actualBytes: UInt64)
    /// The file is not exactly 8 + header length + data length bytes long (bytes missing, or extra bytes
    /// after the last tensor). Reference: `MetadataIncompleteBuffer`.
    case dataLengthMismatch(file: String, expectedFileSize: UInt64, actualFileSize: Int)

    // MARK: Access

    /// No tensor of this name. Reference: `TensorNotFound`.
    case tensorNotFound(file: String, tensor: String)
    /// The tensor's dtype cannot be read the way it was asked for.
    case wrongDType(file: String, tensor: String, dtype: SafetensorsDType, expected: String)
    /// The tensor's rank does not fit the request (e.g. a 3-D tensor read as a matrix).
    case wrongRank(file: String, tensor: String, shape: [Int], expected: String)
    /// A U64 element too large for Int64.
    case integerOutOfRange(file: String, tensor: String, index: Int, value: UInt64)

    /// The file (path or name) the error is about.
    public var file: String {
        switch self {
        case .unreadableFile(let file, _), .fileTooSmall(let file, _), .headerTooLarge(let file, _, _),
             .headerBeyondEndOfFile(let file, _, _), .headerNotUTF8(let file, _), .headerNotAnObject(let file, _),
             .headerInvalidJSON(let file, _), .tensorEntryNotAnObject(let file, _, _),
             .missingTensorField(let file, _, _), .invalidTensorField(let file, _, _, _, _),
             .unknownDType(let file, _, _), .metadataNotAnObject(let file, _), .metadataValueNotString(let file, _, _),
             .invalidOffset(let file, _, _, _), .elementCountOverflow(let file, _, _),
             .byteSizeOverflow(let file, _, _, _), .misalignedSubByteTensor(let file, _, _, _),
             .tensorSizeMismatch(let file, _, _, _, _, _), .dataLengthMismatch(let file, _, _),
             .tensorNotFound(let file, _), .wrongDType(let file, _, _, _), .wrongRank(let file, _, _, _),
             .integerOutOfRange(let file, _, _, _):
            return file
        }
    }

    public var description: String {
        "safetensors file \(file): " + problem
    }

    /// The message without the file name.
    public var problem: String {
        switch self {
        case .unreadableFile(_, let reason):
            return "cannot be read: \(reason)"
        case .fileTooSmall(_, let size):
            return "is \(size) bytes long, shorter than the 8-byte header length field"
        case .headerTooLarge(_, let length, let limit):
            return "header length \(length) exceeds the limit of \(limit) bytes"
        case .headerBeyondEndOfFile(_, let length, let size):
            return "header length \(length) runs past the end of the file (8 + \(length) bytes needed, file has \(size))"
        case .headerNotUTF8(_, let offset):
            return "header is not valid UTF-8 (malformed byte at file offset \(offset))"
        case .headerNotAnObject(_, let found):
            let what = found.isEmpty ? "the header is empty" : "found \(JSONError.describe(found))"
            return "header must be a JSON object starting with '{', \(what)"
        case .headerInvalidJSON(_, let error):
            return "header is not valid JSON: \(error.detail) (byte offsets count from the start of the header)"
        case .tensorEntryNotAnObject(_, let tensor, let found):
            return "header entry for tensor \(quoted(tensor)) must be an object with dtype, shape and data_offsets, found \(found)"
        case .missingTensorField(_, let tensor, let field):
            return "header entry for tensor \(quoted(tensor)) has no \(quoted(field))"
        case .invalidTensorField(_, let tensor, let field, let expected, let found):
            return "tensor \(quoted(tensor)): \(quoted(field)) must be \(expected), found \(found)"
        case .unknownDType(_, let tensor, let dtype):
            let known = SafetensorsDType.allCases.map(\.rawValue).joined(separator: ", ")
            return "tensor \(quoted(tensor)) has unknown dtype \(quoted(dtype)) (known dtypes: \(known))"
        case .metadataNotAnObject(_, let found):
            return "__metadata__ must be an object of string values, found \(found)"
        case .metadataValueNotString(_, let key, let found):
            return "__metadata__ value for \(quoted(key)) must be a string, found \(found)"
        case .invalidOffset(_, let tensor, let offsets, let start):
            let range = "[\(offsets.map(String.init).joined(separator: ", "))]"
            if offsets.count == 2, offsets[1] < offsets[0] {
                return "tensor \(quoted(tensor)) has data_offsets \(range) that end before they start"
            }
            return "tensor \(quoted(tensor)) has data_offsets \(range), but in offset order the data section "
                + "continues at byte \(start); tensors must cover it contiguously without gaps or overlaps"
        case .elementCountOverflow(_, let tensor, let shape):
            return "tensor \(quoted(tensor)) has shape \(shape) whose element count overflows 64 bits"
        case .byteSizeOverflow(_, let tensor, let dtype, let shape):
            return "tensor \(quoted(tensor)) of dtype \(dtype) and shape \(shape) has a byte size that overflows 64 bits"
        case .misalignedSubByteTensor(_, let tensor, let dtype, let shape):
            return "tensor \(quoted(tensor)) of dtype \(dtype) (\(dtype.bitSize) bits) and shape \(shape) does not "
                + "fill a whole number of bytes"
        case .tensorSizeMismatch(_, let tensor, let dtype, let shape, let expected, let actual):
            return "tensor \(quoted(tensor)) of dtype \(dtype) and shape \(shape) needs \(expected) bytes, "
                + "but its data_offsets span \(actual)"
        case .dataLengthMismatch(_, let expected, let actual):
            if UInt64(actual) < expected {
                return "is \(actual) bytes long but its header describes \(expected) bytes "
                    + "(\(expected - UInt64(actual)) bytes missing)"
            }
            return "is \(actual) bytes long but its header describes \(expected) bytes "
                + "(\(UInt64(actual) - expected) extra bytes after the last tensor)"
        case .tensorNotFound(_, let tensor):
            return "has no tensor named \(quoted(tensor))"
        case .wrongDType(_, let tensor, let dtype, let expected):
            return "tensor \(quoted(tensor)) has dtype \(dtype), expected \(expected)"
        case .wrongRank(_, let tensor, let shape, let expected):
            return "tensor \(quoted(tensor)) has shape \(shape), expected \(expected)"
        case .integerOutOfRange(_, let tensor, let index, let value):
            return "tensor \(quoted(tensor)) element \(index) is \(value), which does not fit a signed 64-bit integer"
        }
    }

    private func quoted(_ s: String) -> String { JSONValue.string(s).serialized() }
}
