// The activation buffers of a decoder's forward pass, kept from one step to the next: a batch engine
// owns one, so a decode step takes every intermediate (normed input, q/k/v, attention context,
// projections, MLP) from storage the earlier steps already sized, instead of the allocator.
import LinearAlgebra

/// Buffers a forward pass reuses, one per role. `take` hands out a role's storage as a matrix of the
/// shape asked for (grown if the step is larger than any before, zeroed); `recycle` gives it back.
/// Not for concurrent use: one forward pass at a time (the engine loop's).
public final class ForwardWorkspace {
    enum Role: Int, CaseIterable {
        case hidden, normed, query, key, value, context, attentionOutput, gate, up, mlpOutput
    }

    private var buffers: [[Float]]

    public init() { buffers = Array(repeating: [], count: Role.allCases.count) }

    /// The role's storage as a rows × cols matrix of zeros; it allocates only when the storage has
    /// never held that many elements.
    func take(_ role: Role, rows: Int, cols: Int) -> Matrix {
        var storage: [Float] = []
        swap(&storage, &buffers[role.rawValue])
        storage.removeAll(keepingCapacity: true)
        storage.append(contentsOf: repeatElement(0, count: rows * cols))
        return Matrix(rows: rows, cols: cols, storage: storage)
    }

    /// Gives a matrix's storage back to the role, for the next `take`.
    func recycle(_ role: Role, _ matrix: consuming Matrix) {
        buffers[role.rawValue] = matrix.storage
    }

    /// Elements the buffers can hold without allocating.
    public var capacity: Int { buffers.reduce(0) { $0 + $1.capacity } }
}

/// `m`, leaving an empty matrix in its place, so that its storage stays uniquely referenced (written
/// without a copy) wherever it goes next.
func moved(_ m: inout Matrix) -> Matrix {
    let taken = m
    m = Matrix(rows: 0, cols: 0)
    return taken
}
