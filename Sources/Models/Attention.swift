// Scaled dot-product attention (Vaswani et al. 2017) with grouped-query heads
// (Ainslie et al. 2023), as transformers' eager_attention_forward computes it in fp32.
import Foundation
import LinearAlgebra

/// Which keys a query may attend to.
enum KeyVisibility {
    /// Decoder: query t sits at `firstPosition + t` and sees keys at positions ≤ its own, and with a
    /// sliding window `w` only those within the last `w` positions (`key > position − w`).
    case causal(firstPosition: Int, slidingWindow: Int?)
    /// Encoder: every query sees every key whose mask entry is true (padding is false).
    case padding([Bool])
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
    let tokens = queries.rows
    let queryWidth = heads * headDim
    let keyWidth = kvHeads * headDim
    let group = heads / kvHeads
    let scale = 1 / Float(headDim).squareRoot()
    var out = Matrix(rows: tokens, cols: queryWidth)
    var scores = [Float](repeating: 0, count: tokens * keyCount)   // (T, S) for one head

    // The visible key range [lower, upper) of each query row, and a per-key mask for padding.
    var lower = [Int](repeating: 0, count: tokens)
    var upper = [Int](repeating: keyCount, count: tokens)
    var keyMask: [Bool]? = nil
    switch visibility {
    case .causal(let first, let window):
        for t in 0..<tokens {
            let position = first + t
            upper[t] = min(keyCount, position + 1)
            if let window { lower[t] = max(0, position - window + 1) }
        }
    case .padding(let mask):
        precondition(mask.count == keyCount)
        keyMask = mask
    }

    queries.storage.withUnsafeBufferPointer { q in
        out.storage.withUnsafeMutableBufferPointer { o in
            scores.withUnsafeMutableBufferPointer { s in
                for h in 0..<heads {
                    let kvHead = h / group
                    // scores = scale · Q_h · K_kvhᵀ   (T × S)
                    gemm(.none, .transpose, m: tokens, n: keyCount, k: headDim, alpha: scale,
                         a: q.baseAddress! + h * headDim, lda: queryWidth,
                         b: keys + kvHead * headDim, ldb: keyWidth,
                         beta: 0, c: s.baseAddress!, ldc: keyCount)
                    // Mask, then softmax over the visible keys of each row.
                    for t in 0..<tokens {
                        let row = s.baseAddress! + t * keyCount
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
                    // out_h = P · V_kvh   (T × d), written into head h's columns.
                    gemm(.none, .none, m: tokens, n: headDim, k: keyCount,
                         a: s.baseAddress!, lda: keyCount,
                         b: values + kvHead * headDim, ldb: keyWidth,
                         beta: 0, c: o.baseAddress! + h * headDim, ldc: queryWidth)
                }
            }
        }
    }
    return out
}
