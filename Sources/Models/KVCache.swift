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

    public init(layers: Int, kvHeads: Int, headDim: Int) {
        self.width = kvHeads * headDim
        self.layers = Array(repeating: Layer(keys: [], values: []), count: layers)
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

    /// Copies `keys` and `values` (tokens × width) into layer `layer` at rows `length...`.
    mutating func write(layer: Int, keys: Matrix, values: Matrix) {
        precondition(keys.cols == width && values.cols == width && length + keys.rows <= capacity)
        let offset = length * width
        layers[layer].keys.withUnsafeMutableBufferPointer { dst in
            keys.storage.withUnsafeBufferPointer { src in
                (dst.baseAddress! + offset).update(from: src.baseAddress!, count: src.count)
            }
        }
        layers[layer].values.withUnsafeMutableBufferPointer { dst in
            values.storage.withUnsafeBufferPointer { src in
                (dst.baseAddress! + offset).update(from: src.baseAddress!, count: src.count)
            }
        }
    }

    /// Marks `count` more positions as cached, after every layer wrote them.
    mutating func advance(by count: Int) {
        length += count
    }

    /// Bytes held by the cache.
    public var byteCount: Int { layers.count * capacity * width * 2 * MemoryLayout<Float>.size }
}
