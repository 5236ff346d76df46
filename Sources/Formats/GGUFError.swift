// Why a GGUF file was refused. Every case names the file (a path, or the name given to in-memory
// bytes) and the part of it at fault, so a user can tell a truncated download from a model Eckart
// does not run.

public enum GGUFError: Error, Equatable, Sendable, CustomStringConvertible {
    case unreadableFile(file: String, reason: String)
    /// The first four bytes are not "GGUF".
    case notGGUF(file: String)
    /// Version 1 (uint32 counts) and versions after 3 are not read.
    case unsupportedVersion(file: String, version: UInt32)
    /// The file ends inside the header (`what` was being read at byte `offset`).
    case truncated(file: String, what: String, offset: Int)
    /// A count or length larger than the bytes left could hold.
    case implausibleCount(file: String, what: String, count: UInt64)
    case duplicateKey(file: String, key: String)
    case unknownValueType(file: String, key: String, type: UInt32)
    /// Arrays nested deeper than `GGUFFile.maxArrayDepth`.
    case arrayTooDeep(file: String, key: String)
    case stringNotUTF8(file: String, offset: Int)
    /// `general.alignment` is not a power of two (or not a uint32).
    case invalidAlignment(file: String, found: String)
    case duplicateTensor(file: String, tensor: String)
    case unknownTensorType(file: String, tensor: String, type: UInt32)
    /// Zero or more than four dimensions, or a zero dimension.
    case invalidDimensions(file: String, tensor: String, dimensions: [UInt64])
    /// The element count or byte size does not fit in 64 bits.
    case sizeOverflow(file: String, tensor: String, dimensions: [UInt64])
    /// The innermost dimension is not a whole number of the type's blocks.
    case partialBlock(file: String, tensor: String, type: String, columns: UInt64, blockSize: Int)
    case misalignedTensor(file: String, tensor: String, offset: UInt64, alignment: Int)
    /// The tensor's bytes run past the end of the file.
    case tensorBeyondEndOfFile(file: String, tensor: String, end: UInt64, dataSize: Int)
    case overlappingTensors(file: String, first: String, second: String)
    /// A metadata key is missing or has another type than the one asked for.
    case missingKey(file: String, key: String)
    case wrongValueType(file: String, key: String, expected: String, found: String)

    public var description: String {
        switch self {
        case .unreadableFile(let f, let reason): "\(f): cannot read the GGUF file: \(reason)"
        case .notGGUF(let f): "\(f): not a GGUF file (it does not start with the bytes \"GGUF\")"
        case .unsupportedVersion(let f, let v):
            "\(f): GGUF version \(v) is not supported (Eckart reads versions 2 and 3; convert it again with a current llama.cpp)"
        case .truncated(let f, let what, let offset): "\(f): the file ends inside the header, reading \(what) at byte \(offset)"
        case .implausibleCount(let f, let what, let count): "\(f): \(what) is \(count), more than the file could hold"
        case .duplicateKey(let f, let key): "\(f): metadata key \(key) appears twice"
        case .unknownValueType(let f, let key, let type): "\(f): metadata key \(key) has unknown value type \(type)"
        case .arrayTooDeep(let f, let key): "\(f): metadata key \(key) nests arrays more than \(GGUFFile.maxArrayDepth) deep"
        case .stringNotUTF8(let f, let offset): "\(f): the string at byte \(offset) is not valid UTF-8"
        case .invalidAlignment(let f, let found): "\(f): general.alignment must be a power of two as a uint32, found \(found)"
        case .duplicateTensor(let f, let tensor): "\(f): tensor \(tensor) appears twice"
        case .unknownTensorType(let f, let tensor, let type): "\(f): tensor \(tensor) has unknown ggml type \(type)"
        case .invalidDimensions(let f, let tensor, let dims): "\(f): tensor \(tensor) has dimensions \(dims) (1 to 4 dimensions, none zero)"
        case .sizeOverflow(let f, let tensor, let dims): "\(f): tensor \(tensor) with dimensions \(dims) is too large"
        case .partialBlock(let f, let tensor, let type, let columns, let blockSize):
            "\(f): tensor \(tensor) of type \(type) has rows of \(columns) elements, not whole blocks of \(blockSize)"
        case .misalignedTensor(let f, let tensor, let offset, let alignment):
            "\(f): tensor \(tensor) starts at data offset \(offset), not a multiple of the alignment \(alignment)"
        case .tensorBeyondEndOfFile(let f, let tensor, let end, let size):
            "\(f): tensor \(tensor) ends at data byte \(end) but the data section holds \(size) bytes (a truncated download?)"
        case .overlappingTensors(let f, let first, let second): "\(f): tensors \(first) and \(second) overlap"
        case .missingKey(let f, let key): "\(f): metadata lacks \(key)"
        case .wrongValueType(let f, let key, let expected, let found): "\(f): metadata \(key) should be \(expected), found \(found)"
        }
    }
}
