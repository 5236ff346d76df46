// A GGUF file (llama.cpp's model format, versions 2 and 3), memory-mapped and validated as strictly
// as safetensors: every length and count is checked against the bytes left before anything is
// allocated for it, every tensor must lie inside the data section, aligned, of the size its type and
// dimensions imply, and apart from every other tensor.
//
// Layout (little-endian; gguf.md in llama.cpp's repository):
//
//     "GGUF" · version u32 · tensor count u64 · metadata count u64
//     metadata:  key (u64 length + UTF-8) · value type u32 · value
//     tensors:   name · dimension count u32 · dimensions u64… (innermost first) · type u32 · offset u64
//     padding to `general.alignment` (default 32) · data section (each offset relative to its start)
//
// Tensors are described in PyTorch's order: `shape` lists the outermost dimension first, so a weight
// ne = [in, out] is shape [out, in].
import Foundation

public final class GGUFFile: @unchecked Sendable {
    public struct TensorInfo: Sendable {
        public let name: String
        /// Outermost dimension first (PyTorch's order): [rows, cols] for a matrix.
        public let shape: [Int]
        public let type: GGUFTensorType
        /// Offset into the data section, and the byte count.
        public let offset: Int
        public let byteCount: Int
        public var elementCount: Int { shape.reduce(1, *) }
    }

    /// Deepest array nesting accepted in metadata.
    public static let maxArrayDepth = 4

    public let name: String
    public let version: UInt32
    public let alignment: Int
    /// Metadata in file order (keys are unique).
    public let metadataKeys: [String]
    private let metadata: [String: GGUFValue]
    public let tensorNames: [String]
    private let tensors: [String: TensorInfo]
    private let dataStart: Int
    private let storage: Storage

    /// Where the bytes live: a mapping of a file, or bytes in memory (tests, fuzzing).
    private enum Storage {
        case mapped(MappedFile)
        case memory([UInt8])
    }

    /// Maps and validates the file at `url`.
    public convenience init(contentsOf url: URL) throws {
        let mapped: MappedFile
        do { mapped = try MappedFile(path: url.path) } catch let error as MappedFileError {
            throw GGUFError.unreadableFile(file: url.path, reason: error.reason)
        }
        try self.init(storage: .mapped(mapped), name: url.path)
    }

    /// Validates `bytes` held in memory.
    public convenience init(bytes: [UInt8], name: String = "<memory>") throws {
        try self.init(storage: .memory(bytes), name: name)
    }

    private init(storage: Storage, name: String) throws {
        self.storage = storage
        self.name = name
        let parsed: Parsed = try Self.withBytes(storage) { bytes in
            var parser = Parser(bytes: bytes, file: name)
            return try parser.parse()
        }
        version = parsed.version
        alignment = parsed.alignment
        metadataKeys = parsed.keys
        metadata = parsed.metadata
        tensorNames = parsed.tensors.map(\.name)
        tensors = Dictionary(uniqueKeysWithValues: parsed.tensors.map { ($0.name, $0) })
        dataStart = parsed.dataStart
    }

    private static func withBytes<R>(_ storage: Storage, _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        switch storage {
        case .mapped(let file): try file.withUnsafeBytes(body)
        case .memory(let bytes): try bytes.withUnsafeBytes(body)
        }
    }

    // MARK: Metadata

    public subscript(key: String) -> GGUFValue? { metadata[key] }

    public func string(_ key: String) throws -> String {
        let value = try required(key)
        guard let s = value.string else { throw wrongType(key, "a string", value) }
        return s
    }

    public func int(_ key: String) throws -> Int {
        let value = try required(key)
        guard let i = value.int else { throw wrongType(key, "an integer", value) }
        return i
    }

    public func double(_ key: String) throws -> Double {
        let value = try required(key)
        guard let d = value.double else { throw wrongType(key, "a number", value) }
        return d
    }

    public func stringArray(_ key: String) throws -> [String] {
        let value = try required(key)
        guard let items = value.array, let strings = Optional(items.compactMap(\.string)), strings.count == items.count else {
            throw wrongType(key, "an array of strings", value)
        }
        return strings
    }

    public func intArray(_ key: String) throws -> [Int] {
        let value = try required(key)
        guard let items = value.array, let ints = Optional(items.compactMap(\.int)), ints.count == items.count else {
            throw wrongType(key, "an array of integers", value)
        }
        return ints
    }

    public func doubleArray(_ key: String) throws -> [Double] {
        let value = try required(key)
        guard let items = value.array, let doubles = Optional(items.compactMap(\.double)), doubles.count == items.count else {
            throw wrongType(key, "an array of numbers", value)
        }
        return doubles
    }

    private func required(_ key: String) throws -> GGUFValue {
        guard let value = metadata[key] else { throw GGUFError.missingKey(file: name, key: key) }
        return value
    }

    private func wrongType(_ key: String, _ expected: String, _ value: GGUFValue) -> GGUFError {
        .wrongValueType(file: name, key: key, expected: expected, found: value.typeName)
    }

    // MARK: Tensors

    public func info(_ tensor: String) -> TensorInfo? { tensors[tensor] }

    /// Calls `body` with the tensor's bytes (valid only during the call).
    public func withTensorBytes<R>(_ tensor: String, _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R? {
        guard let info = tensors[tensor] else { return nil }
        return try Self.withBytes(storage) { all in
            try body(UnsafeRawBufferPointer(rebasing: all[(dataStart + info.offset)..<(dataStart + info.offset + info.byteCount)]))
        }
    }

    /// The tensor's first byte, valid as long as `owner` lives (nil for an unknown tensor): lets a
    /// quantized weight borrow the mapping instead of copying it.
    public func tensorAddress(_ tensor: String) -> (address: UnsafeRawPointer, owner: AnyObject)? {
        guard let info = tensors[tensor] else { return nil }
        return Self.withBytes(storage) { all in
            all.baseAddress.map { ($0 + dataStart + info.offset, self as AnyObject) }
        }
    }

    /// An F32, F16 or BF16 tensor's values as Float32, in row-major order (nil for other types).
    public func floats(_ tensor: String) -> [Float]? {
        guard let info = tensors[tensor] else { return nil }
        return withTensorBytes(tensor) { raw -> [Float]? in
            let n = info.elementCount
            switch info.type.id {
            case GGUFTensorType.f32.id:
                return (0..<n).map { Float(bitPattern: raw.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self).littleEndian) }
            case GGUFTensorType.f16.id:
                return (0..<n).map { Float(Float16(bitPattern: raw.loadUnaligned(fromByteOffset: 2 * $0, as: UInt16.self).littleEndian)) }
            case GGUFTensorType.bf16.id:
                return (0..<n).map { Float(bitPattern: UInt32(raw.loadUnaligned(fromByteOffset: 2 * $0, as: UInt16.self).littleEndian) << 16) }
            default:
                return nil
            }
        } ?? nil
    }
}

// MARK: - Parsing

private struct Parsed {
    var version: UInt32 = 0
    var alignment = 32
    var keys: [String] = []
    var metadata: [String: GGUFValue] = [:]
    var tensors: [GGUFFile.TensorInfo] = []
    var dataStart = 0
}

private struct Parser {
    let bytes: UnsafeRawBufferPointer
    let file: String
    var offset = 0

    init(bytes: UnsafeRawBufferPointer, file: String) {
        self.bytes = bytes
        self.file = file
    }

    var remaining: Int { bytes.count - offset }

    mutating func read<T: FixedWidthInteger>(_ type: T.Type, _ what: String) throws -> T {
        let size = MemoryLayout<T>.size
        guard remaining >= size else { throw GGUFError.truncated(file: file, what: what, offset: offset) }
        let value = T(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: T.self))
        offset += size
        return value
    }

    /// A count that must fit in the bytes left when each item takes at least `minimumItemBytes`.
    mutating func count(_ what: String, minimumItemBytes: Int) throws -> Int {
        let raw = try read(UInt64.self, what)
        guard raw <= UInt64(remaining / max(1, minimumItemBytes)), let n = Int(exactly: raw) else {
            throw GGUFError.implausibleCount(file: file, what: what, count: raw)
        }
        return n
    }

    mutating func string(_ what: String) throws -> String {
        let start = offset
        let length = try count("the length of \(what)", minimumItemBytes: 1)
        let slice = UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + length)])
        guard let s = String(validating: slice.bindMemory(to: UInt8.self), as: UTF8.self) else {
            throw GGUFError.stringNotUTF8(file: file, offset: start)
        }
        offset += length
        return s
    }

    mutating func value(type: UInt32, key: String, depth: Int) throws -> GGUFValue {
        switch type {
        case 0: return .unsigned(UInt64(try read(UInt8.self, key)), typeName: "uint8")
        case 1: return .signed(Int64(try read(Int8.self, key)), typeName: "int8")
        case 2: return .unsigned(UInt64(try read(UInt16.self, key)), typeName: "uint16")
        case 3: return .signed(Int64(try read(Int16.self, key)), typeName: "int16")
        case 4: return .unsigned(UInt64(try read(UInt32.self, key)), typeName: "uint32")
        case 5: return .signed(Int64(try read(Int32.self, key)), typeName: "int32")
        case 6: return .float(Double(Float(bitPattern: try read(UInt32.self, key))), typeName: "float32")
        case 7:
            let byte = try read(UInt8.self, key)
            guard byte <= 1 else { throw GGUFError.wrongValueType(file: file, key: key, expected: "a bool (0 or 1)", found: "\(byte)") }
            return .bool(byte == 1)
        case 8: return .string(try string("the value of \(key)"))
        case 9:
            guard depth < GGUFFile.maxArrayDepth else { throw GGUFError.arrayTooDeep(file: file, key: key) }
            let elementType = try read(UInt32.self, key)
            guard let size = Self.minimumSize(of: elementType) else {
                throw GGUFError.unknownValueType(file: file, key: key, type: elementType)
            }
            let n = try count("the element count of \(key)", minimumItemBytes: size)
            var items: [GGUFValue] = []
            items.reserveCapacity(n)
            for _ in 0..<n { items.append(try value(type: elementType, key: key, depth: depth + 1)) }
            let elementName = items.first?.typeName ?? Self.typeName(elementType)
            return .array(items, elementTypeName: elementName)
        case 10: return .unsigned(try read(UInt64.self, key), typeName: "uint64")
        case 11: return .signed(try read(Int64.self, key), typeName: "int64")
        case 12: return .float(Double(bitPattern: try read(UInt64.self, key)), typeName: "float64")
        default: throw GGUFError.unknownValueType(file: file, key: key, type: type)
        }
    }

    /// Bytes the smallest value of `type` takes (a string or array at least its 8-byte length).
    static func minimumSize(of type: UInt32) -> Int? {
        switch type {
        case 0, 1, 7: 1
        case 2, 3: 2
        case 4, 5, 6: 4
        case 8, 10, 11, 12: 8
        case 9: 12
        default: nil
        }
    }

    static func typeName(_ type: UInt32) -> String {
        ["uint8", "int8", "uint16", "int16", "uint32", "int32", "float32", "bool", "string", "array", "uint64", "int64", "float64"]
            .dropFirst(Int(type)).first ?? "type \(type)"
    }

    mutating func parse() throws -> Parsed {
        var result = Parsed()
        guard bytes.count >= 4, bytes.loadUnaligned(as: UInt32.self) == UInt32(littleEndian: 0x4655_4747) else {
            throw GGUFError.notGGUF(file: file)
        }
        offset = 4
        result.version = try read(UInt32.self, "the version")
        guard result.version == 2 || result.version == 3 else { throw GGUFError.unsupportedVersion(file: file, version: result.version) }
        // A tensor info takes at least 8 (name) + 4 + 8 + 4 + 8 bytes; a metadata entry 8 + 4 + 1.
        let tensorCount = try count("the tensor count", minimumItemBytes: 32)
        let keyCount = try count("the metadata count", minimumItemBytes: 13)

        for _ in 0..<keyCount {
            let key = try string("a metadata key")
            let type = try read(UInt32.self, "the value type of \(key)")
            let value = try value(type: type, key: key, depth: 0)
            guard result.metadata.updateValue(value, forKey: key) == nil else { throw GGUFError.duplicateKey(file: file, key: key) }
            result.keys.append(key)
        }
        if let value = result.metadata["general.alignment"] {
            guard case .unsigned(let a, "uint32") = value, a > 0, a & (a - 1) == 0 else {
                throw GGUFError.invalidAlignment(file: file, found: "\(value)")
            }
            result.alignment = Int(a)
        }

        var seen = Set<String>()
        var raw: [(name: String, dims: [UInt64], type: GGUFTensorType, offset: UInt64)] = []
        for _ in 0..<tensorCount {
            let name = try string("a tensor name")
            guard seen.insert(name).inserted else { throw GGUFError.duplicateTensor(file: file, tensor: name) }
            let dimensionCount = try read(UInt32.self, "the dimension count of \(name)")
            guard (1...4).contains(dimensionCount) else {
                throw GGUFError.invalidDimensions(file: file, tensor: name, dimensions: [UInt64(dimensionCount)])
            }
            let dims = try (0..<Int(dimensionCount)).map { _ in try read(UInt64.self, "the dimensions of \(name)") }
            guard dims.allSatisfy({ $0 > 0 }) else { throw GGUFError.invalidDimensions(file: file, tensor: name, dimensions: dims) }
            let typeID = try read(UInt32.self, "the type of \(name)")
            guard let type = GGUFTensorType(id: typeID) else { throw GGUFError.unknownTensorType(file: file, tensor: name, type: typeID) }
            let tensorOffset = try read(UInt64.self, "the offset of \(name)")
            raw.append((name, dims, type, tensorOffset))
        }
        let padded = (offset + result.alignment - 1) / result.alignment * result.alignment
        result.dataStart = min(padded, bytes.count)
        let dataSize = bytes.count - result.dataStart

        for t in raw {
            var elements: UInt64 = 1
            for d in t.dims {
                let (product, overflow) = elements.multipliedReportingOverflow(by: d)
                guard !overflow else { throw GGUFError.sizeOverflow(file: file, tensor: t.name, dimensions: t.dims) }
                elements = product
            }
            guard t.dims[0] % UInt64(t.type.blockSize) == 0 else {
                throw GGUFError.partialBlock(file: file, tensor: t.name, type: t.type.name, columns: t.dims[0], blockSize: t.type.blockSize)
            }
            let (size, overflow) = (elements / UInt64(t.type.blockSize)).multipliedReportingOverflow(by: UInt64(t.type.bytesPerBlock))
            guard !overflow, size <= UInt64(Int.max / 2) else { throw GGUFError.sizeOverflow(file: file, tensor: t.name, dimensions: t.dims) }
            guard t.offset % UInt64(result.alignment) == 0 else {
                throw GGUFError.misalignedTensor(file: file, tensor: t.name, offset: t.offset, alignment: result.alignment)
            }
            let (end, endOverflow) = t.offset.addingReportingOverflow(size)
            guard !endOverflow, end <= UInt64(dataSize) else {
                throw GGUFError.tensorBeyondEndOfFile(file: file, tensor: t.name, end: endOverflow ? .max : end, dataSize: dataSize)
            }
            result.tensors.append(GGUFFile.TensorInfo(name: t.name, shape: t.dims.reversed().map { Int($0) }, type: t.type,
                                                      offset: Int(t.offset), byteCount: Int(size)))
        }
        let byOffset = result.tensors.sorted { ($0.offset, $0.byteCount) < ($1.offset, $1.byteCount) }
        for (a, b) in zip(byOffset, byOffset.dropFirst()) where a.offset + a.byteCount > b.offset {
            throw GGUFError.overlappingTensors(file: file, first: a.name, second: b.name)
        }
        return result
    }
}
