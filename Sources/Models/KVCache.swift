// Keys and values of past positions, so that decoding one token costs one token's work.
import LinearAlgebra

/// Per-layer keys and values for one sequence. Rows are positions; columns are kvHeads·headDim.
///
/// A prefill of n tokens followed by single-token steps gives the same logits as one forward
/// pass over the whole sequence (tested), because attention reads exactly these rows.
public struct KVCache: Sendable {
    struct Layer: Sendable {
        var keys: [Float]     // (capacity, width)
        var values: [Float]   // (capacity, width)
    }

    let width: Int
    var layers: [Layer]
    /// Number of positions cached.
    public private(set) var length = 0
    private var capacity = 0

    /// An empty cache. With `capacity` (the prompt plus the most tokens a request may generate) every
    /// position is allocated now, so decoding never copies what the cache holds.
    public init(layers: Int, kvHeads: Int, headDim: Int, capacity: Int = 0) {
        self.width = kvHeads * headDim
        self.layers = Array(repeating: Layer(keys: [], values: []), count: layers)
        if capacity > 0 { reserve(capacity) }
    }

    /// Bytes a cache of `positions` positions takes.
    public static func byteCount(layers: Int, kvHeads: Int, headDim: Int, positions: Int) -> Int {
        layers * positions * kvHeads * headDim * 2 * MemoryLayout<Float>.size
    }

    /// Makes room for `additional` positions beyond `length`, doubling to amortise copies.
    mutating func reserve(_ additional: Int) {
        let needed = length + additional
        guard needed > capacity else { return }
        let newCapacity = max(needed, capacity * 2, 16)
        for l in layers.indices {
            layers[l].keys.append(contentsOf: repeatElement(0, count: (newCapacity - capacity) * width))
            layers[l].values.append(contentsOf: repeatElement(0, count: (newCapacity - capacity) * width))
        }
        capacity = newCapacity
    }

    /// Copies `rows` rows of `keys` and `values` (rows × width each) into layer `layer` at rows `length...`.
    mutating func write(layer: Int, keys: UnsafePointer<Float>, values: UnsafePointer<Float>, rows: Int) {
        precondition(length + rows <= capacity)
        let offset = length * width
        layers[layer].keys.withUnsafeMutableBufferPointer { dst in (dst.baseAddress! + offset).update(from: keys, count: rows * width) }
        layers[layer].values.withUnsafeMutableBufferPointer { dst in (dst.baseAddress! + offset).update(from: values, count: rows * width) }
    }

    /// Marks `count` more positions as cached, after every layer wrote them.
    mutating func advance(by count: Int) {
        length += count
    }

    /// Bytes held by the cache.
    public var byteCount: Int { layers.count * capacity * width * 2 * MemoryLayout<Float>.size }
}
