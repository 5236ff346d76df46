// Writing safetensors files that the reference implementation (and so Python's `safetensors`) loads.
//
// Reference: huggingface/safetensors `safetensors/src/tensor.rs` (commit 24b0b28), `prepare` and
// `serialize`: tensors sorted by dtype in descending alignment order, then by name (byte-wise); data
// laid out contiguously in that order; header = compact JSON with `__metadata__` first, then each
// tensor's {"dtype","shape","data_offsets"}; header padded with spaces to a multiple of 8 bytes; the
// 8-byte little-endian header length first. Refuses a header above 100,000,000 bytes (`HeaderTooLarge`).
// Keys of `__metadata__` are written sorted (the reference writes a HashMap in arbitrary order).
import Foundation

/// Why tensors could not be serialized.
public enum SafetensorsWriterError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Two tensors share a name.
    case duplicateTensorName(String)
    /// A tensor is named `__metadata__`, the key reserved for metadata.
    case reservedTensorName(String)
    /// A dimension is negative.
    case negativeDimension(tensor: String, shape: [Int])
    /// The element count or byte size overflows.
    case sizeOverflow(tensor: String, shape: [Int])
    /// The number of values (F32) or bytes (other dtypes) does not match shape × dtype.
    case dataSizeMismatch(tensor: String, dtype: SafetensorsDType, shape: [Int], expected: Int, actual: Int, unit: String)
    /// A sub-byte dtype whose shape does not fill a whole number of bytes.
    case misalignedSubByteTensor(tensor: String, dtype: SafetensorsDType, shape: [Int])
    /// The JSON header would exceed the 100,000,000-byte limit readers enforce.
    case headerTooLarge(length: Int, limit: Int)

    public var description: String {
        func q(_ s: String) -> String { JSONValue.string(s).serialized() }
        switch self {
        case .duplicateTensorName(let name):
            return "cannot write safetensors: two tensors are named \(q(name))"
        case .reservedTensorName(let name):
            return "cannot write safetensors: \(q(name)) is reserved for metadata and cannot name a tensor"
        case .negativeDimension(let tensor, let shape):
            return "cannot write safetensors: tensor \(q(tensor)) has a negative dimension in shape \(shape)"
        case .sizeOverflow(let tensor, let shape):
            return "cannot write safetensors: tensor \(q(tensor)) has shape \(shape) whose size overflows"
        case .dataSizeMismatch(let tensor, let dtype, let shape, let expected, let actual, let unit):
            return "cannot write safetensors: tensor \(q(tensor)) of dtype \(dtype) and shape \(shape) needs "
                + "\(expected) \(unit), got \(actual)"
        case .misalignedSubByteTensor(let tensor, let dtype, let shape):
            return "cannot write safetensors: tensor \(q(tensor)) of dtype \(dtype) and shape \(shape) does not "
                + "fill a whole number of bytes"
        case .headerTooLarge(let length, let limit):
            return "cannot write safetensors: header of \(length) bytes exceeds the limit of \(limit)"
        }
    }
}

/// Serializes tensors in the safetensors format.
public enum SafetensorsWriter {
    /// One tensor to write: a name, a shape and its elements.
    public struct Tensor: Sendable {
        /// The tensor's key in the header.
        public let name: String
        /// The element type written.
        public let dtype: SafetensorsDType
        /// Dimensions, outermost first.
        public let shape: [Int]
        fileprivate let payload: Payload

        fileprivate enum Payload: Sendable {
            case float32([Float])
            case bytes([UInt8])
        }

        /// An F32 tensor; `values` are row-major and must number the product of `shape`.
        public init(name: String, shape: [Int], values: [Float]) {
            self.name = name
            self.dtype = .f32
            self.shape = shape
            self.payload = .float32(values)
        }

        /// A tensor of any dtype from its stored bytes (little-endian, row-major), which must be exactly
        /// shape × dtype bits / 8 bytes.
        public init(name: String, dtype: SafetensorsDType, shape: [Int], bytes: [UInt8]) {
            self.name = name
            self.dtype = dtype
            self.shape = shape
            self.payload = .bytes(bytes)
        }

        fileprivate var byteCount: Int {
            switch payload {
            case .float32(let values): return values.count * MemoryLayout<Float>.size
            case .bytes(let bytes): return bytes.count
            }
        }

        /// The stored (little-endian) bytes.
        fileprivate func withStoredBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
            switch payload {
            case .float32(let values):
                #if _endian(little)
                return try values.withUnsafeBytes(body)
                #else
                return try values.map { $0.bitPattern.littleEndian }.withUnsafeBytes(body)
                #endif
            case .bytes(let bytes):
                return try bytes.withUnsafeBytes(body)
            }
        }

        /// Checks shape against the data; returns nothing, throws on mismatch.
        fileprivate func validate() throws {
            guard name != "__metadata__" else { throw SafetensorsWriterError.reservedTensorName(name) }
            guard shape.allSatisfy({ $0 >= 0 }) else {
                throw SafetensorsWriterError.negativeDimension(tensor: name, shape: shape)
            }
            var elements = 1
            for d in shape {
                let (p, overflow) = elements.multipliedReportingOverflow(by: d)
                guard !overflow else { throw SafetensorsWriterError.sizeOverflow(tensor: name, shape: shape) }
                elements = p
            }
            switch payload {
            case .float32(let values):
                guard values.count == elements else {
                    throw SafetensorsWriterError.dataSizeMismatch(
                        tensor: name, dtype: dtype, shape: shape, expected: elements, actual: values.count, unit: "values")
                }
            case .bytes(let bytes):
                let (bits, overflow) = elements.multipliedReportingOverflow(by: dtype.bitSize)
                guard !overflow else { throw SafetensorsWriterError.sizeOverflow(tensor: name, shape: shape) }
                guard bits % 8 == 0 else {
                    throw SafetensorsWriterError.misalignedSubByteTensor(tensor: name, dtype: dtype, shape: shape)
                }
                guard bytes.count == bits / 8 else {
                    throw SafetensorsWriterError.dataSizeMismatch(
                        tensor: name, dtype: dtype, shape: shape, expected: bits / 8, actual: bytes.count, unit: "bytes")
                }
            }
        }
    }

    /// The largest header readers accept (the reference's MAX_HEADER_SIZE).
    public static let maxHeaderLength = SafetensorsHeader.maxHeaderLength

    /// The complete file for `tensors` and optional `__metadata__`.
    public static func serialize(_ tensors: [Tensor], metadata: [String: String]? = nil) throws -> [UInt8] {
        let (prefix, ordered, dataLength) = try prepare(tensors, metadata: metadata)
        var out: [UInt8] = []
        out.reserveCapacity(prefix.count + dataLength)
        out.append(contentsOf: prefix)
        for tensor in ordered {
            tensor.withStoredBytes { out.append(contentsOf: $0) }
        }
        return out
    }

    /// The complete file for F32 tensors given as (name, shape, row-major values).
    public static func serialize(tensors: [(String, [Int], [Float])], metadata: [String: String]? = nil) throws -> [UInt8] {
        try serialize(tensors.map { Tensor(name: $0.0, shape: $0.1, values: $0.2) }, metadata: metadata)
    }

    /// Writes the file to `url` atomically (AtomicFile): readers of an existing file at `url`, including
    /// ones that have it memory-mapped, keep seeing the old contents. Streams the tensor data; no
    /// whole-file buffer is built.
    public static func write(_ tensors: [Tensor], metadata: [String: String]? = nil, to url: URL) throws {
        let (prefix, ordered, _) = try prepare(tensors, metadata: metadata)
        try AtomicFile.write(to: url) { sink in
            try sink.write(prefix)
            for tensor in ordered { try tensor.withStoredBytes { try sink.write($0) } }
        }
    }

    /// Validates and orders the tensors; returns the length field plus padded header, the tensors in
    /// data order, and the data section's length.
    static func prepare(_ tensors: [Tensor], metadata: [String: String]?) throws -> ([UInt8], [Tensor], Int) {
        var seen = Set<UTF8Key>()
        for tensor in tensors {
            try tensor.validate()
            guard seen.insert(UTF8Key(tensor.name)).inserted else { throw SafetensorsWriterError.duplicateTensorName(tensor.name) }
        }
        // Descending dtype alignment, then name compared byte-wise as Rust compares Strings.
        let ordered = tensors.sorted { a, b in
            if a.dtype != b.dtype { return a.dtype > b.dtype }
            return a.name.utf8.lexicographicallyPrecedes(b.name.utf8)
        }

        var header = JSONObject()
        if let metadata {
            let keys = metadata.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
            header["__metadata__"] = .object(JSONObject(uniqueKeysWithValues: keys.map { ($0, JSONValue.string(metadata[$0]!)) }))
        }
        var offset = 0
        for tensor in ordered {
            let end = offset + tensor.byteCount
            header[tensor.name] = .object([
                "dtype": .string(tensor.dtype.rawValue),
                "shape": .array(tensor.shape.map { .number(JSONNumber($0)) }),
                "data_offsets": .array([.number(JSONNumber(offset)), .number(JSONNumber(end))]),
            ])
            offset = end
        }

        var json = JSONValue.object(header).serializedBytes()
        let padded = (json.count + 7) / 8 * 8
        json.append(contentsOf: repeatElement(UInt8(ascii: " "), count: padded - json.count))
        guard padded <= maxHeaderLength else {
            throw SafetensorsWriterError.headerTooLarge(length: padded, limit: maxHeaderLength)
        }
        var prefix: [UInt8] = []
        prefix.reserveCapacity(8 + padded)
        withUnsafeBytes(of: UInt64(padded).littleEndian) { prefix.append(contentsOf: $0) }
        prefix.append(contentsOf: json)
        return (prefix, ordered, offset)
    }
}
