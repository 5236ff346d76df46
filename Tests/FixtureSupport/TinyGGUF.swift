// Writes small GGUF files byte by byte for the reader's tests: valid ones, and with `corrupt` any
// field a malformed file could get wrong.
public struct TinyGGUF {
    public enum Value: Sendable {
        case u32(UInt32), i32(Int32), f32(Float), bool(Bool), string(String), strings([String]), u8s([UInt8]), raw(type: UInt32, bytes: [UInt8])
    }

    public struct Tensor: Sendable {
        public var name: String
        public var dims: [UInt64]        // innermost first, as GGUF stores them
        public var type: UInt32
        public var data: [UInt8]
        public var offset: UInt64? = nil  // nil: packed in order, aligned

        public init(name: String, dims: [UInt64], type: UInt32, data: [UInt8], offset: UInt64? = nil) {
            self.name = name
            self.dims = dims
            self.type = type
            self.data = data
            self.offset = offset
        }
    }

    public var version: UInt32 = 3
    public var metadata: [(String, Value)] = [("general.architecture", .string("llama"))]
    public var tensors: [Tensor] = []
    public var alignment = 32
    /// Overrides the counts written in the header.
    public var tensorCountOverride: UInt64? = nil
    public var metadataCountOverride: UInt64? = nil

    public init() {}

    public func bytes() -> [UInt8] {
        var out: [UInt8] = Array("GGUF".utf8)
        func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { out += $0 } }
        func u64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { out += $0 } }
        func string(_ s: String) { u64(UInt64(s.utf8.count)); out += Array(s.utf8) }
        u32(version)
        u64(tensorCountOverride ?? UInt64(tensors.count))
        u64(metadataCountOverride ?? UInt64(metadata.count))
        for (key, value) in metadata {
            string(key)
            switch value {
            case .u32(let v): u32(4); u32(v)
            case .i32(let v): u32(5); u32(UInt32(bitPattern: v))
            case .f32(let v): u32(6); u32(v.bitPattern)
            case .bool(let v): u32(7); out.append(v ? 1 : 0)
            case .string(let s): u32(8); string(s)
            case .strings(let items): u32(9); u32(8); u64(UInt64(items.count)); items.forEach(string)
            case .u8s(let items): u32(9); u32(0); u64(UInt64(items.count)); out += items
            case .raw(let type, let bytes): u32(type); out += bytes
            }
        }
        var offsets: [UInt64] = []
        var next: UInt64 = 0
        for t in tensors {
            offsets.append(t.offset ?? next)
            next = (next + UInt64(t.data.count) + UInt64(alignment) - 1) / UInt64(alignment) * UInt64(alignment)
        }
        for (t, offset) in zip(tensors, offsets) {
            string(t.name)
            u32(UInt32(t.dims.count))
            t.dims.forEach(u64)
            u32(t.type)
            u64(offset)
        }
        while out.count % alignment != 0 { out.append(0) }
        var data: [UInt8] = []
        for (t, offset) in zip(tensors, offsets) where t.offset == nil {
            while UInt64(data.count) < offset { data.append(0) }
            data += t.data
        }
        return out + data
    }
}
