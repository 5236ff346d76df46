// Scaled dot-product attention (Vaswani et al. 2017) with grouped-query heads
// (Ainslie et al. 2023), as transformers' eager_attention_forward computes it in fp32.
import Foundation
import CKernels
import LinearAlgebra

/// Which keys a query may attend to.
enum KeyVisibility {
    /// Decoder: query t sits at `firstPosition + t` and sees keys at positions ≤ its own, and with a
    /// sliding window `w` only those within the last `w` positions (`key > position − w`).
    case causal(firstPosition: Int, slidingWindow: Int?)
    /// Encoder: every query sees every key whose mask entry is true (padding is false).
    case padding([Bool])
}

/// The key positions a causal query at `position` sees: every one up to its own, and with a sliding
/// window `w` only the last `w` of them.
func causalKeys(at position: Int, slidingWindow: Int?) -> Range<Int> {
    (slidingWindow.map { max(0, position - $0 + 1) } ?? 0)..<(position + 1)
}

/// Attention of `queries` (T × heads·d) over `keyCount` cached keys and values (S × kvHeads·d).
///
/// For each head h, with kv head `h / (heads / kvHeads)`:
///
///     scores[t, j] = (q[t, h] · k[j, kvh]) / sqrt(d)     for visible j
///     out[t, h]    = Σ_j softmax(scores[t, :])[j] · v[j, kvh]
///
/// Masked keys get probability exactly 0, as adding the dtype minimum before softmax does in torch.
func attention(
    queries: Matrix, keys: UnsafePointer<Float>, values: UnsafePointer<Float>, keyCount: Int,
    heads: Int, kvHeads: Int, headDim: Int, visibility: KeyVisibility
) -> Matrix {
    var out = Matrix(rows: queries.rows, cols: heads * headDim)
    queries.storage.withUnsafeBufferPointer { q in
        out.storage.withUnsafeMutableBufferPointer { o in
            attention(queries: q.baseAddress!, tokens: queries.rows, keys: keys, values: values, keyCount: keyCount,
                      heads: heads, kvHeads: kvHeads, headDim: headDim, visibility: visibility, into: o.baseAddress!)
        }
    }
    return out
}

/// `attention` for `tokens` query rows at `queries`, written into `out` (tokens × heads·d).
///
/// One query row (a decode step) attends with each group of query heads that share a KV head in
/// one product: those heads sit side by side in the row, so they form a (group × d) matrix and the
/// group's scores are one (group × S) GEMM instead of `group` one-row ones.
func attention(
    queries q: UnsafePointer<Float>, tokens: Int, keys: UnsafePointer<Float>, values: UnsafePointer<Float>, keyCount: Int,
    heads: Int, kvHeads: Int, headDim: Int, visibility: KeyVisibility, into o: UnsafeMutablePointer<Float>
) {
    let queryWidth = heads * headDim
    let keyWidth = kvHeads * headDim
    let group = heads / kvHeads
    let scale = 1 / Float(headDim).squareRoot()

    // The visible key range [lower, upper) of each query row, and a per-key mask for padding.
    var lower = [Int](repeating: 0, count: tokens)
    var upper = [Int](repeating: keyCount, count: tokens)
    var keyMask: [Bool]? = nil
    switch visibility {
    case .causal(let first, let window):
        for t in 0..<tokens {
            let keys = causalKeys(at: first + t, slidingWindow: window)
            (lower[t], upper[t]) = (keys.lowerBound, min(keyCount, keys.upperBound))
        }
    case .padding(let mask):
        precondition(mask.count == keyCount)
        keyMask = mask
    }

    /// Masks and softmaxes `rows` score rows that all belong to query row `t`'s visibility.
    func softmaxRows(_ s: UnsafeMutablePointer<Float>, rows: Int, queryRow: (Int) -> Int) {
        for r in 0..<rows {
            let row = s + r * keyCount
            let t = queryRow(r)
            if let keyMask {
                var maximum = -Float.infinity
                for j in 0..<keyCount where keyMask[j] { maximum = max(maximum, row[j]) }
                var sum: Float = 0
                for j in 0..<keyCount {
                    if keyMask[j] {
                        row[j] = expf(row[j] - maximum)
                        sum += row[j]
                    } else {
                        row[j] = 0
                    }
                }
                for j in 0..<keyCount { row[j] /= sum }
            } else {
                for j in 0..<lower[t] { row[j] = 0 }
                for j in upper[t]..<keyCount { row[j] = 0 }
                softmaxInPlace(row + lower[t], count: upper[t] - lower[t])
            }
        }
    }

    if tokens == 1 {
        var scores = [Float](repeating: 0, count: group * keyCount)   // (group, S) for one KV head
        scores.withUnsafeMutableBufferPointer { s in
            for kvHead in 0..<kvHeads {
                // scores = scale · Q_group · K_kvhᵀ   (group × S); the group's heads are rows of width d.
                gemm(.none, .transpose, m: group, n: keyCount, k: headDim, alpha: scale,
                     a: q + kvHead * group * headDim, lda: headDim,
                     b: keys + kvHead * headDim, ldb: keyWidth,
                     beta: 0, c: s.baseAddress!, ldc: keyCount)
                softmaxRows(s.baseAddress!, rows: group) { _ in 0 }
                // out_group = P · V_kvh   (group × d)
                gemm(.none, .none, m: group, n: headDim, k: keyCount,
                     a: s.baseAddress!, lda: keyCount,
                     b: values + kvHead * headDim, ldb: keyWidth,
                     beta: 0, c: o + kvHead * group * headDim, ldc: headDim)
            }
        }
        return
    }

    var scores = [Float](repeating: 0, count: tokens * keyCount)   // (T, S) for one head
    scores.withUnsafeMutableBufferPointer { s in
        for h in 0..<heads {
            let kvHead = h / group
            // scores = scale · Q_h · K_kvhᵀ   (T × S)
            gemm(.none, .transpose, m: tokens, n: keyCount, k: headDim, alpha: scale,
                 a: q + h * headDim, lda: queryWidth,
                 b: keys + kvHead * headDim, ldb: keyWidth,
                 beta: 0, c: s.baseAddress!, ldc: keyCount)
            // Mask, then softmax over the visible keys of each row.
            softmaxRows(s.baseAddress!, rows: tokens) { $0 }
            // out_h = P · V_kvh   (T × d), written into head h's columns.
            gemm(.none, .none, m: tokens, n: headDim, k: keyCount,
                 a: s.baseAddress!, lda: keyCount,
                 b: values + kvHead * headDim, ldb: keyWidth,
                 beta: 0, c: o + h * headDim, ldc: queryWidth)
        }
    }
}

/// Attention of one query row for each of several sequences (a decode step), each over its own keys
/// and values: `attention(queries:tokens: 1, …)` for every sequence at once, computed by
/// `eckart_decode_attention` with the (sequence, KV head) pairs split across the kernel threads.
/// `visible[s]` is the key range sequence `s` sees (causal, and its sliding window if any); its keys
/// and values hold at least `visible[s].upperBound` rows.
func decodeAttention(
    queries: [UnsafePointer<Float>], keys: [[Float]], values: [[Float]], visible: [Range<Int>],
    heads: Int, kvHeads: Int, headDim: Int, into out: [UnsafeMutablePointer<Float>]
) {
    let count = queries.count
    precondition(keys.count == count && values.count == count && visible.count == count && out.count == count)
    precondition(visible.allSatisfy { !$0.isEmpty }, "every query sees at least its own key")
    guard count > 0 else { return }
    // Work in multiply-adds; below about 64k of them one thread is faster than a hand-off.
    let work = visible.reduce(0) { $0 + $1.count } * heads * headDim * 2
    let threads = work >= 1 << 16 ? min(BLAS.threadCount, count * kvHeads) : 1
    withBaseAddresses(keys) { keyRows in
        withBaseAddresses(values) { valueRows in
            eckart_decode_attention(Int32(threads), Int32(count), Int32(heads), Int32(kvHeads), Int32(headDim),
                                    1 / Float(headDim).squareRoot(), queries.map { Optional($0) }, keyRows, valueRows,
                                    visible.map { Int32($0.lowerBound) }, visible.map { Int32($0.upperBound) },
                                    out.map { Optional($0) })
        }
    }
}

/// Calls `body` with the base address of each array, all valid at once (one nested
/// `withUnsafeBufferPointer` per array).
private func withBaseAddresses<R>(_ arrays: [[Float]], _ body: ([UnsafePointer<Float>?]) -> R) -> R {
    func nest(_ index: Int, _ addresses: inout [UnsafePointer<Float>?]) -> R {
        guard index < arrays.count else { return body(addresses) }
        return arrays[index].withUnsafeBufferPointer { buffer in
            addresses.append(buffer.baseAddress)
            return nest(index + 1, &addresses)
        }
    }
    var addresses: [UnsafePointer<Float>?] = []
    addresses.reserveCapacity(arrays.count)
    return nest(0, &addresses)
}
