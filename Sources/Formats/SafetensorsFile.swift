// A validated safetensors file, memory-mapped or in memory, with typed access to its tensors.
//
// Reference: huggingface/safetensors `safetensors/src/tensor.rs` (commit 24b0b28), `SafeTensors`:
// `deserialize` (read_metadata, then views into the data section), `tensor` (TensorNotFound), `names`.
// Validation lives in SafetensorsHeader.swift; conversions in SafetensorsConversion.swift.
import Foundation
import LinearAlgebra

/// A safetensors file whose header has been fully validated: every tensor's bytes lie inside the
/// file, tensors tile the data section exactly, and sizes match shapes and dtypes.
///
/// Immutable after initialisation, so it may be shared across threads. Tensor data is read from the
/// mapping (or the in-memory bytes) on each access; nothing is cached.
public final class SafetensorsFile: @unchecked Sendable {
    private enum Storage {
        case mapped(MappedFile)
        case array([UInt8])
        case data(Data)
    }

    private let storage: Storage
    /// The file's path, or the name given to in-memory bytes; used in error messages.
    public let name: String
    /// Tensor names in the order they appear in the header.
    public let tensorNames: [String]
    /// Every tensor, in header order.
    public let tensors: [SafetensorsTensorInfo]
    /// The `__metadata__` map, or nil when the header has none (or it is null).
    public let metadata: [String: String]?
    /// The length of the JSON header in bytes (the data section starts at 8 + headerLength).
    public let headerLength: Int
    private let index: [UTF8Key: Int]

    private init(storage: Storage, name: String) throws {
        self.storage = storage
        self.name = name
        let header = try Self.withBytes(of: storage) { try SafetensorsHeader.read($0, file: name) }
        tensors = header.tensors
        tensorNames = header.tensors.map(\.name)
        metadata = header.metadata
        headerLength = header.headerLength
        var index = [UTF8Key: Int](minimumCapacity: tensors.count)
        for (i, tensor) in tensors.enumerated() { index[UTF8Key(tensor.name)] = i }
        self.index = index
    }

    /// Maps the file at `url` read-only and validates it.
    /// - Throws: `SafetensorsError` (`.unreadableFile` when it cannot be opened or mapped).
    public convenience init(contentsOf url: URL) throws {
        let path = url.path
        let mapped: MappedFile
        do {
            mapped = try MappedFile(path: path)
        } catch let error as MappedFileError {
            throw SafetensorsError.unreadableFile(file: path, reason: error.reason)
        }
        try self.init(storage: .mapped(mapped), name: path)
    }

    /// Validates a file held in memory (e.g. an upload). `name` identifies it in error messages.
    public convenience init(bytes: [UInt8], name: String = "<memory>") throws {
        try self.init(storage: .array(bytes), name: name)
    }

    /// Validates a file held in memory as `Data`. `name` identifies it in error messages.
    public convenience init(data: Data, name: String = "<memory>") throws {
        try self.init(storage: .data(data), name: name)
    }

    /// The tensor's dtype, shape and location, or nil if there is no such tensor. Names match by their
    /// exact UTF-8 bytes, as in Python.
    public func info(_ name: String) -> SafetensorsTensorInfo? {
        index[UTF8Key(name)].map { tensors[$0] }
    }

    /// True when the file has a tensor of this name.
    public func contains(_ name: String) -> Bool { index[UTF8Key(name)] != nil }

    /// The tensor's elements as Float32, row-major. F32 is copied, F16 and BF16 widen exactly, F64
    /// rounds to nearest.
    /// - Throws: `.tensorNotFound`, or `.wrongDType` for other dtypes.
    public func floats(_ name: String) throws -> [Float] {
        let info = try require(name)
        guard SafetensorsDType.convertibleToFloat.contains(info.dtype) else {
            throw SafetensorsError.wrongDType(
                file: self.name, tensor: name, dtype: info.dtype,
                expected: "a floating-point dtype (" + SafetensorsDType.convertibleToFloat.map(\.rawValue).joined(separator: ", ") + ")")
        }
        return withBytes(of: info) { SafetensorsConversion.floats($0, dtype: info.dtype, count: info.elementCount) }
    }

    /// A 2-D tensor as a rows × cols matrix, or a 1-D tensor of n elements as 1 × n, converted as
    /// `floats(_:)`.
    /// - Throws: `.tensorNotFound`, `.wrongDType`, or `.wrongRank` for any other rank.
    public func matrix(_ name: String) throws -> Matrix {
        let info = try require(name)
        let rows: Int, cols: Int
        switch info.shape.count {
        case 2: (rows, cols) = (info.shape[0], info.shape[1])
        case 1: (rows, cols) = (1, info.shape[0])
        default:
            throw SafetensorsError.wrongRank(file: self.name, tensor: name, shape: info.shape, expected: "a 1-D or 2-D tensor")
        }
        return Matrix(rows: rows, cols: cols, storage: try floats(name))
    }

    /// The elements of a BOOL or integer tensor (I8 through U64) as Int64; BOOL bytes read as 0 or 1
    /// (any non-zero byte is 1).
    /// - Throws: `.tensorNotFound`, `.wrongDType`, or `.integerOutOfRange` for a U64 value above Int64.max.
    public func integers(_ name: String) throws -> [Int64] {
        let info = try require(name)
        guard info.dtype.isInteger else {
            throw SafetensorsError.wrongDType(
                file: self.name, tensor: name, dtype: info.dtype, expected: "an integer or BOOL dtype")
        }
        let result = withBytes(of: info) { SafetensorsConversion.integers($0, dtype: info.dtype, count: info.elementCount) }
        switch result {
        case .success(let values): return values
        case .failure(let bad):
            throw SafetensorsError.integerOutOfRange(file: self.name, tensor: name, index: bad.index, value: bad.value)
        }
    }

    /// The tensor's bytes exactly as stored (little-endian, row-major).
    public func rawBytes(_ name: String) throws -> [UInt8] {
        let info = try require(name)
        return withBytes(of: info) { Array($0) }
    }

    /// Calls `body` with the tensor's stored bytes, without copying. The buffer is valid only during the
    /// call and is not necessarily aligned for the element type (use `loadUnaligned`).
    public func withUnsafeBytes<R>(of name: String, _ body: (UnsafeRawBufferPointer) throws -> R) throws -> R {
        let info = try require(name)
        return try withBytes(of: info, body)
    }

    // MARK: Internals

    private func require(_ name: String) throws -> SafetensorsTensorInfo {
        guard let info = info(name) else { throw SafetensorsError.tensorNotFound(file: self.name, tensor: name) }
        return info
    }

    private func withBytes<R>(of info: SafetensorsTensorInfo, _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try Self.withBytes(of: storage) { file in
            // byteRange was validated against this buffer's length at initialisation.
            try body(UnsafeRawBufferPointer(rebasing: file[info.byteRange]))
        }
    }

    private static func withBytes<R>(of storage: Storage, _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        switch storage {
        case .mapped(let file): return try file.withUnsafeBytes(body)
        case .array(let bytes): return try bytes.withUnsafeBytes(body)
        case .data(let data): return try data.withUnsafeBytes(body)
        }
    }
}
